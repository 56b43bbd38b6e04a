"""The deployment files agree with Kubernetes' schemas, with the image, and with each other.

deploy/k8s/*.yaml are validated strictly (unknown fields are errors) against the schemas that
kubernetes-validate ships, for the oldest and newest Kubernetes it knows; no cluster is needed.
The single-writer rule (one replica, Recreate, a ReadWriteOnce volume) and the image's facts (its
user, port, data directory) are checked where each file states them. The image itself is built
and run in tests/test_container.py.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import all_versions

ROOT = Path(__file__).resolve().parent.parent
K8S = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
CONTAINERFILE = (ROOT / "Containerfile").read_text()


def _resources() -> list[tuple[str, dict[str, Any]]]:
    return [(path.name, doc) for path in K8S for doc in yaml.safe_load_all(path.read_text()) if doc]


def _supported() -> list[str]:
    """The oldest Kubernetes release still in wide use that the validator knows, and its newest."""
    versions = sorted(all_versions(), key=lambda v: tuple(int(p) for p in v.split(".")))
    usable = [v for v in versions if tuple(int(p) for p in v.split(".")[:2]) >= (1, 27)]
    return [usable[0], usable[-1]]


@pytest.mark.parametrize("version", _supported())
def test_manifests_validate_strictly_against_kubernetes_schemas(version: str) -> None:
    resources = _resources()
    assert {doc["kind"] for _, doc in resources} >= {"Deployment", "PersistentVolumeClaim", "Service", "Ingress"}
    for name, doc in resources:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{name}: {doc['kind']}/{doc['metadata']['name']} on Kubernetes {version}: {exc.message}")


def test_validation_catches_a_broken_manifest() -> None:
    """The check above can fail: a typo'd field and a wrong type are both refused."""
    deployment = next(doc for _, doc in _resources() if doc["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replica"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, _supported()[-1], strict=True)
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, _supported()[-1], strict=True)


def test_each_shop_is_one_writer_on_its_own_volume() -> None:
    resources = _resources()
    claims = {doc["metadata"]["name"]: doc for _, doc in resources if doc["kind"] == "PersistentVolumeClaim"}
    shops = [
        doc
        for _, doc in resources
        if doc["kind"] == "Deployment" and doc["metadata"]["labels"].get("app.kubernetes.io/name") == "appliance"
    ]
    assert shops
    for shop in shops:
        spec = shop["spec"]
        # One pod at a time, ever: no second replica, and no overlap during an update.
        assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
        pod = spec["template"]["spec"]
        (container,) = pod["containers"]
        data = next(m for m in container["volumeMounts"] if m["mountPath"] == "/data")
        volume = next(v for v in pod["volumes"] if v["name"] == data["name"])
        assert claims[volume["persistentVolumeClaim"]["claimName"]]["spec"]["accessModes"] == ["ReadWriteOnce"]
        # The image's user and port (Containerfile), and its health endpoint.
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert f"USER {pod['securityContext']['runAsUser']}:" in CONTAINERFILE
        assert f"EXPOSE {container['ports'][0]['containerPort']}" in CONTAINERFILE
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert container[probe]["httpGet"]["path"] == "/healthz"
        assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_the_ingress_reaches_every_shop_service() -> None:
    resources = _resources()
    services = {doc["metadata"]["name"] for _, doc in resources if doc["kind"] == "Service"}
    shops = {doc["metadata"]["name"] for _, doc in resources if doc["kind"] == "Deployment"} - {"model-server"}
    ingress = next(doc for _, doc in resources if doc["kind"] == "Ingress")
    backends = {p["backend"]["service"]["name"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert backends == shops and backends <= services
    tls_hosts = {h for t in ingress["spec"]["tls"] for h in t["hosts"]}
    assert tls_hosts == {rule["host"] for rule in ingress["spec"]["rules"]}


def test_compose_file_trusts_only_caddy_and_keeps_the_data_on_a_volume() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    appliance, caddy = compose["services"]["appliance"], compose["services"]["caddy"]
    assert appliance["build"]["target"] == "appliance" and "FROM ${BASE} AS appliance" in CONTAINERFILE
    assert [v.split(":")[1] for v in appliance["volumes"]] == ["/data"]
    assert "VOLUME /data" in CONTAINERFILE
    assert appliance["environment"]["APPLIANCE_TRUSTED_PROXIES"] == caddy["networks"]["shop"]["ipv4_address"]
    # The appliance is published on the host's loopback only; the world comes through Caddy.
    assert all(p.startswith("127.0.0.1:") for p in appliance["ports"])
    upstream = caddy["environment"]["APPLIANCE_UPSTREAM"]
    assert upstream == "appliance:8750" and "EXPOSE 8750" in CONTAINERFILE
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "{$SHOP_DOMAIN}" in caddyfile and "reverse_proxy {$APPLIANCE_UPSTREAM" in caddyfile
    # The model server is optional (a profile) and built from the same Containerfile.
    model = compose["services"]["model"]
    assert model["profiles"] == ["model"] and model["build"]["target"] == "model-server"
    assert re.search(r"^FROM \S+ AS model-server$", CONTAINERFILE, re.M)


def test_many_shops_each_have_their_own_volume_and_site_and_share_one_model() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.shops.yaml").read_text())
    services = compose["services"]
    shops = {name: svc for name, svc in services.items() if svc.get("image") == "localhost/appliance:latest"}
    assert len(shops) >= 2
    caddy_ip = services["caddy"]["networks"]["shops"]["ipv4_address"]
    volumes = [svc["volumes"][0].split(":") for svc in shops.values()]
    assert all(mount == "/data" for _, mount in volumes)
    assert len({volume for volume, _ in volumes}) == len(shops)
    assert len({tuple(svc["ports"]) for svc in shops.values()}) == len(shops)
    assert len({svc["networks"]["shops"]["ipv4_address"] for svc in shops.values()}) == len(shops)
    caddyfile = (ROOT / "deploy" / "Caddyfile.shops").read_text()
    for name, svc in shops.items():
        assert svc["environment"]["APPLIANCE_TRUSTED_PROXIES"] == caddy_ip
        assert svc["environment"]["APPLIANCE_MODEL_URL"] == "http://model:8080/v1"
        assert f"import appliance {name}:8750" in caddyfile
    assert services["model"]["build"]["target"] == "model-server"
    assert services["caddy"]["volumes"][0] == "./Caddyfile.shops:/etc/caddy/Caddyfile:ro"


def test_wheelhouse_leaves_only_its_readme_in_git() -> None:
    """deploy/wheels/ holds hundreds of MB of downloads: never committed."""
    ignored = subprocess.run(["git", "check-ignore", "-q", "deploy/wheels/numpy-2.0-cp311-linux_x86_64.whl"], cwd=ROOT)
    kept = subprocess.run(["git", "check-ignore", "-q", "deploy/wheels/README.md"], cwd=ROOT)
    assert (ignored.returncode, kept.returncode) == (0, 1)
