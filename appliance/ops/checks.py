"""`appliance check`: is this installation sound? Each check says ok, warn or fail, and why."""

from __future__ import annotations

import os
import platform
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.db import inspect
from appliance.llm import files as model_files
from appliance.llm.backend import describe_signal
from appliance.ops.instance_lock import InstanceLock
from appliance.owner.secret import SECRET_NAME
from appliance.settings import Settings

OK, WARN, FAIL = "ok", "warn", "fail"
MIN_FREE_BYTES = 200 * 1024 * 1024
LOW_FREE_BYTES = 2 * 1024 * 1024 * 1024


@dataclass
class Check:
    name: str
    status: str
    detail: str


def check_python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    if sys.version_info < (3, 11):  # noqa: UP036 (the check tells an owner on an old Python what to do)
        return Check("python", FAIL, f"Python {version}; 3.11 or newer is needed")
    return Check("python", OK, f"Python {version} at {sys.executable}")


# CPU features worth naming: what the portable build needs, and the faster ones it leaves unused.
CPU_FLAGS_SHOWN = ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "amx_tile", "amx_int8")
# Run in a child process: importing llama.cpp built for another CPU can kill the process that does.
_LLAMA_INFO = (
    "import llama_cpp; i = llama_cpp.llama_print_system_info(); "
    "print(llama_cpp.__version__); print(i.decode() if isinstance(i, bytes) else i)"
)


def check_cpu() -> Check:
    from appliance.llm.worker import cpu_flags, missing_cpu_flags

    has = [f for f in CPU_FLAGS_SHOWN if f in (cpu_flags() or set())]
    missing = missing_cpu_flags()
    detail = f"{platform.machine()}, {os.cpu_count()} cores; advertises {', '.join(has) or 'none of ' + ', '.join(CPU_FLAGS_SHOWN)}"
    if missing:
        return Check(
            "cpu",
            FAIL,
            detail + f"; lacks {', '.join(missing)}, which the local model needs: the "
            "appliance answers from the knowledge base only (or use a model server: model_url)",
        )
    return Check("cpu", OK, detail)


def check_llama() -> Check:
    """Load llama.cpp in a child process and report the CPU features its build uses."""
    try:
        proc = subprocess.run([sys.executable, "-c", _LLAMA_INFO], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return Check("llama.cpp", FAIL, "loading llama.cpp did not finish within 60 s")
    if proc.returncode != 0:
        signal_name, description = describe_signal(proc.returncode)
        if signal_name:
            return Check(
                "llama.cpp",
                FAIL,
                f"llama.cpp crashes on this CPU when loaded: {description} "
                f"({signal_name}); rebuild it with ./install.sh (a portable build)",
            )
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        return Check("llama.cpp", FAIL, f"llama-cpp-python can't be loaded ({last}); run ./install.sh")
    version, _, info = proc.stdout.partition("\n")
    features = re.findall(r"(\w+) = 1", info)
    detail = f"llama-cpp-python {version.strip()}; build uses: {', '.join(features) or 'none'}"
    if "AVX512" in features or "AMX_INT8" in features:
        return Check("llama.cpp", WARN, detail + " (built for one CPU, not portable: ./install.sh rebuilds it)")
    return Check("llama.cpp", OK, detail)


def check_model_runs(settings: Settings) -> Check:
    """A short real completion, through the same backend the appliance uses (a child process for
    a local model, HTTP for a model server): a model that crashes this CPU is named here."""
    from appliance.llm.backend import BackendCrashed, BackendStartFailed
    from appliance.llm.runtime import build_runtime

    runtime = build_runtime(settings)
    backend = runtime.backend
    if backend is None:
        return Check("model run", OK, "skipped: " + (runtime.reason or "no model"))
    try:
        info = backend.start()
        backend.begin(1, [{"role": "user", "content": "Say hello."}], 8, 0.0)
        deadline = time.monotonic() + 60
        pieces: list[str] = []
        while time.monotonic() < deadline:
            event = backend.next_event(1.0)
            if event is None:
                continue
            if event[0] == "token":
                pieces.append(event[1])
            elif event[0] == "error":
                return Check("model run", FAIL, f"{backend.label}: the model failed a reply: {event[1]}")
            else:
                break
        else:
            return Check("model run", FAIL, f"{backend.label}: no reply within 60 s")
    except BackendCrashed as exc:
        hint = "; rebuild llama.cpp with ./install.sh (a portable build)" if exc.signal_name == "SIGILL" else ""
        verb = "crashes on this CPU" if exc.signal_name else "failed"
        return Check("model run", FAIL, f"{backend.label}: the model {verb}: {exc}{hint}")
    except BackendStartFailed as exc:
        return Check("model run", FAIL, f"{exc}; the appliance would answer from the knowledge base only")
    finally:
        backend.stop()
    if backend.kind == "openai":
        served = ", ".join(info.get("served_models") or [])
        return Check("model run", OK, f"{backend.label} answers (serves: {served}); replied {''.join(pieces)!r}")
    return Check(
        "model run",
        OK,
        f"{backend.label} loaded in {info.get('load_seconds')} s in its own process and replied {''.join(pieces)!r}",
    )


def check_sqlite() -> Check:
    """FTS5 with the trigram tokenizer needs SQLite 3.34+; Python may be linked to an older one."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(body, tokenize = 'trigram')")
    except sqlite3.OperationalError as exc:
        return Check(
            "sqlite",
            FAIL,
            f"SQLite {sqlite3.sqlite_version} lacks FTS5 trigram search ({exc}); "
            "use a Python built with SQLite 3.34 or newer",
        )
    finally:
        conn.close()
    return Check("sqlite", OK, f"SQLite {sqlite3.sqlite_version} with FTS5 trigram search")


def check_model(settings: Settings) -> Check:
    if settings.model_url:
        return Check("model", OK, f"a model server: {settings.model_url} (model run, below, asks it)")
    try:
        path = model_files.resolve(settings.model, settings.models_dirs)
    except model_files.ModelFileError as exc:
        return Check("model", FAIL, f"{exc}; the appliance would answer from the knowledge base only")
    if path is None:
        return Check("model", OK, "no model configured: knowledge-base answers only")
    try:
        model_files.check_header(path)
    except model_files.ModelFileError as exc:
        return Check("model", FAIL, f"{exc}; the appliance would answer from the knowledge base only")
    size_mb = path.stat().st_size / 1e6
    known = model_files.verify_known(path)
    if known is False:
        return Check(
            "model",
            FAIL,
            f"{path} ({size_mb:.0f} MB) does not match its known SHA-256: damaged file; run ./install.sh again",
        )
    note = "SHA-256 verified" if known else "owner-supplied model (no known hash)"
    return Check("model", OK, f"{path} ({size_mb:.0f} MB), {note}")


def check_data_dir(settings: Settings) -> list[Check]:
    out = []
    d = settings.data_dir
    if not d.exists():
        return [Check("data directory", WARN, f"{d} does not exist yet (created on first start)")]
    if not os.access(d, os.W_OK | os.X_OK):
        out.append(Check("data directory", FAIL, f"{d} is not writable by this user"))
    elif d.stat().st_mode & stat.S_IWOTH:
        out.append(Check("data directory", FAIL, f"{d} is writable by every user; chmod o-w it"))
    else:
        out.append(Check("data directory", OK, str(d)))
    secret = d / SECRET_NAME
    if secret.exists():
        mode = stat.S_IMODE(secret.stat().st_mode)
        if mode & 0o077:
            out.append(Check("secret", FAIL, f"{secret} has mode {mode:o}; run chmod 600 on it"))
        else:
            out.append(Check("secret", OK, f"{secret} (mode 600)"))
    return out


def check_database(settings: Settings) -> Check:
    path = settings.db_path
    if not path.exists():
        return Check("database", WARN, f"{path} does not exist yet (created on first start)")
    try:
        info = inspect(path)
    except sqlite3.DatabaseError as exc:
        return Check("database", FAIL, f"{path}: {exc}; restore a backup (appliance restore)")
    result, state = info["integrity"], info["schema"]
    if result != "ok":
        return Check("database", FAIL, f"{path}: integrity check failed: {result}")
    if state["unknown"]:
        return Check("database", FAIL, f"written by a newer version (migrations {state['unknown']})")
    if state["pending"]:
        return Check(
            "database",
            WARN,
            f"schema version {state['version']}, {len(state['pending'])} migration(s) to apply at next start",
        )
    return Check("database", OK, f"{path}: integrity ok, schema version {state['version']}")


def check_disk(settings: Settings) -> Check:
    target = settings.data_dir if settings.data_dir.exists() else settings.data_dir.parent
    while not target.exists():
        target = target.parent
    free = shutil.disk_usage(target).free
    detail = f"{free / 2**30:.1f} GiB free at {target}"
    if free < MIN_FREE_BYTES:
        return Check("disk", FAIL, detail + "; writes and backups will fail")
    if free < LOW_FREE_BYTES:
        return Check("disk", WARN, detail + "; backups need room")
    return Check("disk", OK, detail)


def check_running(settings: Settings) -> Check:
    running = InstanceLock(settings.data_dir).is_held_elsewhere()
    detail = ("an appliance is running" if running else "no appliance is running") + " on this data directory"
    if shutil.which("systemctl") and Path("/etc/systemd/system/appliance.service").exists():
        state = subprocess.run(["systemctl", "is-active", "appliance"], capture_output=True, text=True).stdout.strip()
        detail += f"; systemd service: {state or 'unknown'}"
        if state not in {"active", "activating"}:
            return Check("service", WARN, detail + " (journalctl -u appliance shows why)")
    return Check("service", OK, detail)


def run_all(settings: Settings) -> list[Check]:
    return [
        check_python(),
        check_cpu(),
        check_llama(),
        check_sqlite(),
        (model := check_model(settings)),
        check_model_runs(settings) if model.status == OK else Check("model run", WARN, "skipped: see model"),
        *check_data_dir(settings),
        check_database(settings),
        check_disk(settings),
        check_running(settings),
    ]
