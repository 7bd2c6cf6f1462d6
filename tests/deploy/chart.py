"""deploy/helm/aigw rendered by Helm itself (helm-python-sdk: Helm's Go SDK in a wheel, the
engine of `helm template`), and each manifest checked against the Kubernetes schemas
(kubernetes-validate ships them) or, for the ServiceMonitor, the Prometheus Operator's CRD as
cloudcoil's models carry it. Nothing is downloaded: all three are wheels of the dev extra."""

from __future__ import annotations

import os
import shutil
import sys
from functools import cache
from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

from tests.conftest import REPO

CHART = REPO / "deploy" / "helm" / "aigw"
# The oldest Kubernetes the chart claims (Chart.yaml's kubeVersion) and the newest schemas.
KUBERNETES_VERSIONS = ("1.25.0", kubernetes_validate.utils.latest_version())

Manifest = dict[str, Any]


def render(
    values: dict[str, Any] | None = None, chart: Path = CHART, name: str = "demo"
) -> list[Manifest]:
    """`helm template demo CHART --namespace prod --values ...`: every manifest, parsed."""
    with helm.Chart.load(str(chart)) as loaded:
        rendered = loaded.render(values or {}, name=name, namespace="prod", is_install=True)
    manifests = []
    for path, text in sorted(rendered.items()):
        if not path.endswith("NOTES.txt"):
            manifests.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return manifests


def example_values(name: str) -> dict[str, Any]:
    """deploy/helm/aigw/ci/NAME-values.yaml, the examples docs/deploy.md shows."""
    return yaml.safe_load((CHART / "ci" / f"{name}-values.yaml").read_text(encoding="utf-8"))


def one(manifests: list[Manifest], kind: str, name: str | None = None) -> Manifest:
    found = [
        m
        for m in manifests
        if m["kind"] == kind and (name is None or m["metadata"]["name"] == name)
    ]
    assert len(found) == 1, f"{kind} {name or ''}: {len(found)} found"
    return found[0]


def validate(manifest: Manifest) -> None:
    """Raise when `manifest` is not valid for every Kubernetes version the chart claims;
    unknown fields are errors (as `kubectl apply --validate=strict`)."""
    if manifest["apiVersion"].startswith("monitoring.coreos.com/"):
        jsonschema.validate(manifest, service_monitor_schema())
        return
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(manifest, version, strict=True)


@cache
def service_monitor_schema() -> dict[str, Any]:
    """monitoring.coreos.com/v1 ServiceMonitor from the Prometheus Operator's CRD (cloudcoil's
    models, generated from it), made strict: an unknown field is an error, not pruned."""
    from cloudcoil.models.prometheus_operator.v1 import ServiceMonitor

    schema = ServiceMonitor.model_json_schema(by_alias=True)
    _forbid_unknown(schema)
    schema["required"] = sorted({*schema.get("required", ()), "apiVersion", "kind", "spec"})
    return schema


def _forbid_unknown(node: Any) -> None:
    if isinstance(node, dict):
        if "properties" in node:
            node.setdefault("additionalProperties", False)
        for value in node.values():
            _forbid_unknown(value)
    elif isinstance(node, list):
        for value in node:
            _forbid_unknown(value)


def chart_with_policies(folder: Path, files: dict[str, str]) -> Path:
    """A copy of the chart whose policies/ folder holds `files`."""
    copy = folder / "aigw"
    shutil.copytree(CHART, copy)
    for relative, text in files.items():
        path = copy / "policies" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return copy


def lay_out_config_map(
    config_map: Manifest, volume: Manifest, root: Path, version: str = "2026_12_07_00"
) -> Path:
    """The policies directory as the kubelet mounts the ConfigMap, or updates it: each item's
    key at its path in a new `..VERSION` folder, then `..data` swapped to it by one rename
    (Kubernetes' atomic writer); the visible files and folders link through `..data`."""
    data = root / f"..{version}"
    for item in volume["configMap"]["items"]:
        path = data / item["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(config_map["data"][item["key"]], encoding="utf-8")
    (root / "..data_tmp").symlink_to(data.name)
    os.replace(root / "..data_tmp", root / "..data")
    for top in {item["path"].split("/")[0] for item in volume["configMap"]["items"]}:
        if not (root / top).is_symlink():
            (root / top).symlink_to(f"..data/{top}")
    return root


def container_command(
    manifests: list[Manifest], policies: Path, ports: dict[int, int]
) -> list[str]:
    """The pod's command as this machine runs it: `python -m gateway.cli` for the image's
    `aigw`, the policies directory where the test laid it, free ports for the container's,
    loopback for 0.0.0.0 (nothing here listens beyond this machine)."""
    (container,) = one(manifests, "Deployment")["spec"]["template"]["spec"]["containers"]
    command = list(container["command"])
    assert command[0] == "aigw"
    mapped = {"/etc/aigw/policies": str(policies), "0.0.0.0": "127.0.0.1"}
    mapped.update({str(inside): str(outside) for inside, outside in ports.items()})
    return [sys.executable, "-m", "gateway.cli", *(mapped.get(word, word) for word in command[1:])]
