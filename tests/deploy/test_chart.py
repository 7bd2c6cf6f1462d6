"""deploy/helm/aigw: rendered by Helm's own engine, every manifest valid for Kubernetes
1.25 and the newest, and what the fleet needs checked in what was rendered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import helm_python as helm
import jsonschema
import pytest
import yaml

from gateway.lint.linter import lint_paths
from gateway.proxy.server import DRAIN_SECONDS
from tests.deploy.chart import (
    CHART,
    Manifest,
    chart_with_policies,
    example_values,
    lay_out_config_map,
    one,
    render,
    validate,
)

MOCK = example_values("mock")
FLEET = example_values("fleet")
EXISTING_SECRET = {
    **MOCK,
    "secrets": {"existingSecret": "aigw-keys"},
    "redis": {"enabled": True},
    "postgresql": {"enabled": True},
    "adminKey": {"existingSecret": "aigw-admin", "secretKey": "key"},
    "serviceMonitor": {"enabled": True},
}
ADMIN_FROM = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "mon"}}}]
FENCED = {**FLEET, "networkPolicy": {"enabled": True, "adminFrom": ADMIN_FROM}}
VALUE_SETS = {
    "mock": MOCK,
    "fleet": FLEET,
    "existing-secret": EXISTING_SECRET,
    "network-policy": FENCED,
}


def pod_spec(manifests: list[Manifest]) -> dict[str, Any]:
    return one(manifests, "Deployment")["spec"]["template"]["spec"]


def container(manifests: list[Manifest]) -> dict[str, Any]:
    (found,) = pod_spec(manifests)["containers"]
    return found


def volume(manifests: list[Manifest], name: str) -> dict[str, Any]:
    (found,) = [v for v in pod_spec(manifests)["volumes"] if v["name"] == name]
    return found


def gateway_yaml(manifests: list[Manifest]) -> dict[str, Any]:
    return yaml.safe_load(one(manifests, "ConfigMap")["data"]["gateway.yaml"])


@pytest.mark.parametrize("values", [MOCK, FLEET], ids=["mock", "fleet"])
def test_helm_lint_finds_nothing_worse_than_information(values: dict[str, Any]) -> None:
    found = helm.lint(str(CHART), values, strict=True, kube_version="1.25.0")
    assert found["errors"] == []
    assert [m for m in found["messages"] if m["severity"] > 1] == []  # 1: "icon is recommended"


@pytest.mark.parametrize("values", VALUE_SETS.values(), ids=VALUE_SETS.keys())
def test_every_manifest_is_valid_for_kubernetes(values: dict[str, Any]) -> None:
    manifests = render(values)
    kinds = sorted(m["kind"] for m in manifests)
    assert {"ConfigMap", "Deployment", "PodDisruptionBudget", "Service"} <= set(kinds)
    for manifest in manifests:
        validate(manifest)


def test_the_validation_refuses_what_kubernetes_would() -> None:
    """The schemas are strict: an unknown or mistyped field anywhere fails."""
    manifests = render(FLEET)
    deployment = one(manifests, "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["prot"] = 1
    with pytest.raises(Exception, match="prot"):
        validate(deployment)
    monitor = one(manifests, "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["interval"] = "30 seconds"
    with pytest.raises(jsonschema.ValidationError):
        validate(monitor)
    monitor["spec"]["endpoints"][0]["interval"] = "30s"
    monitor["spec"]["endpoints"][0]["paht"] = "/metrics"
    with pytest.raises(jsonschema.ValidationError, match="paht"):
        validate(monitor)


def test_the_pods_listen_probe_and_run_locked_down() -> None:
    manifests = render(FLEET)
    deployment = one(manifests, "Deployment")
    assert deployment["spec"]["replicas"] == 3
    main = container(manifests)
    assert main["command"] == [
        *("aigw", "run", "/etc/aigw/policies", "--host", "0.0.0.0", "--port", "8080"),
        *("--admin-host", "0.0.0.0", "--admin-port", "9090", "--workers", "2"),
    ]
    ports = {p["name"]: p["containerPort"] for p in main["ports"]}
    assert ports == {"http": 8080, "admin": 9090}
    assert main["readinessProbe"]["httpGet"] == {"path": "/-/ready", "port": "admin"}
    assert main["livenessProbe"]["httpGet"] == {"path": "/-/health", "port": "http"}
    pod = pod_spec(manifests)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # deploy/Dockerfile's USER
    assert main["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    writable = {m["mountPath"] for m in main["volumeMounts"] if not m.get("readOnly")}
    assert writable == {"/tmp", "/var/lib/aigw"}  # the Dockerfile's VOLUMEs, as emptyDirs
    assert volume(manifests, "tmp")["emptyDir"] and "emptyDir" in volume(manifests, "data")
    assert {"name": "TMPDIR", "value": "/tmp"} in main["env"]


def test_termination_waits_for_endpoints_then_the_whole_drain() -> None:
    manifests = render(MOCK)
    pre_stop = container(manifests)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    grace = pod_spec(manifests)["terminationGracePeriodSeconds"]
    assert grace > int(pre_stop[1]) + DRAIN_SECONDS
    with pytest.raises(helm.HelmError, match=r"must exceed drain\.preStopSeconds"):
        render({**MOCK, "terminationGracePeriodSeconds": 30})


def test_the_policies_configmap_is_a_directory_that_lints(tmp_path: Path) -> None:
    manifests = render(FLEET)
    mount = next(m for m in container(manifests)["volumeMounts"] if m["name"] == "policies")
    assert mount == {"name": "policies", "mountPath": "/etc/aigw/policies", "readOnly": True}
    assert "subPath" not in mount  # a subPath mount never sees the ConfigMap's updates
    root = lay_out_config_map(
        one(manifests, "ConfigMap"), volume(manifests, "policies"), tmp_path / "policies"
    )
    assert (root / "apis" / "chat" / "ChatCompletions_Create.xml").is_file()
    assert (root / "apis").is_symlink()  # through ..data, as the kubelet lays it
    config = gateway_yaml(manifests)
    (root / "..data" / "gateway.yaml").write_text(yaml.safe_dump(config))
    result = lint_paths([root])
    assert [d.format() for d in result.diagnostics if d.is_error] == []


def test_gateway_yaml_gets_the_fleets_stores_ledger_and_reload() -> None:
    fleet = gateway_yaml(render(FLEET))
    assert fleet["stores"]["default"] == "${file:/etc/aigw/secrets/redis-url}"
    assert fleet["ledger"]["url"] == "${file:/etc/aigw/secrets/postgresql-url}"
    assert fleet["reload"] == {"watch": True, "interval": "PT2S"}
    alone = gateway_yaml(render(MOCK))
    assert "stores" not in alone  # no Redis: each pod counts on its own
    assert alone["ledger"]["url"] == "/var/lib/aigw/ledger.sqlite"  # on the data emptyDir


def test_secrets_are_files_and_never_in_the_configmap() -> None:
    manifests = render(FLEET)
    secret = one(manifests, "Secret", "demo-aigw")
    assert set(secret["stringData"]) == {
        "openai-key",
        "team-blue-key",
        "redis-url",
        "postgresql-url",
    }
    mount = next(m for m in container(manifests)["volumeMounts"] if m["name"] == "secrets")
    assert mount["mountPath"] == "/etc/aigw/secrets" and mount["readOnly"] is True
    assert volume(manifests, "secrets")["secret"]["secretName"] == secret["metadata"]["name"]
    config_map = yaml.safe_dump(one(manifests, "ConfigMap"))
    for value in secret["stringData"].values():
        assert value not in config_map
    theirs = render(EXISTING_SECRET)
    assert not [m for m in theirs if m["kind"] == "Secret"]  # the admin key's is theirs too
    assert volume(theirs, "secrets")["secret"]["secretName"] == "aigw-keys"
    with pytest.raises(helm.HelmError, match=r"set redis\.url, or secrets\.existingSecret"):
        render({**MOCK, "redis": {"enabled": True}})


def test_services_budget_autoscaler_and_monitor_find_the_pods() -> None:
    manifests = render({**FLEET, "autoscaling": {"enabled": True}})
    pods = one(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert "replicas" not in one(manifests, "Deployment")["spec"]  # the autoscaler's to set

    def selects(selector: dict[str, str]) -> bool:
        return selector.items() <= pods.items()

    traffic, admin = (
        one(manifests, "Service", "demo-aigw"),
        one(manifests, "Service", "demo-aigw-admin"),
    )
    assert selects(traffic["spec"]["selector"]) and selects(admin["spec"]["selector"])
    assert traffic["spec"]["ports"][0]["targetPort"] == "http"
    assert admin["spec"]["ports"][0]["targetPort"] == "admin"
    assert selects(one(manifests, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"])
    hpa = one(manifests, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == one(manifests, "Deployment")["metadata"]["name"]
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    monitor = one(manifests, "ServiceMonitor")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    wanted = monitor["spec"]["selector"]["matchLabels"]
    assert wanted.items() <= admin["metadata"]["labels"].items()
    assert not wanted.items() <= traffic["metadata"]["labels"].items()  # scraped once per pod
    assert monitor["spec"]["endpoints"][0]["port"] == admin["spec"]["ports"][0]["name"]
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    assert not [m for m in render(MOCK) if m["kind"] == "ServiceMonitor"]  # off by default


def test_a_policies_directory_copied_into_the_chart_is_deployed(tmp_path: Path) -> None:
    chart = chart_with_policies(
        tmp_path,
        {
            "gateway.yaml": "apis:\n  demo: {path: demo, style: http, subscription-required: false}\n"
            "named-values:\n  team: blue\n",
            "global.xml": "<policies><inbound /></policies>\n",
            "apis/demo.xml": "<policies><inbound><base /></inbound></policies>\n",
            "notes.txt": "not a policy file\n",
        },
    )
    manifests = render({"gateway": {"named-values": {"team": "green"}}}, chart=chart)
    data = one(manifests, "ConfigMap")["data"]
    assert set(data) == {"gateway.yaml", "global.xml", "apis__demo.xml"}
    config = yaml.safe_load(data["gateway.yaml"])
    assert config["named-values"] == {"team": "green"}  # the value wins over the file
    assert list(config["apis"]) == ["demo"]
    items = volume(manifests, "policies")["configMap"]["items"]
    assert {"key": "apis__demo.xml", "path": "apis/demo.xml"} in items


def test_without_an_api_the_chart_says_what_to_set() -> None:
    with pytest.raises(helm.HelmError, match="no API to serve: set the gateway value"):
        render()


def test_the_admin_key_is_a_secret_of_its_own_mounted_and_named_in_gateway_yaml() -> None:
    manifests = render({**FLEET, "gateway": {**FLEET["gateway"], "admin": {"refresh": 0.5}}})
    secret = one(manifests, "Secret", "demo-aigw-admin")
    assert secret["stringData"] == {"admin-key": "example-admin-key"}  # nothing else in it
    assert "admin-key" not in one(manifests, "Secret", "demo-aigw")["stringData"]
    mount = next(m for m in container(manifests)["volumeMounts"] if m["name"] == "admin-key")
    assert mount == {"name": "admin-key", "mountPath": "/etc/aigw/admin", "readOnly": True}
    assert volume(manifests, "admin-key")["secret"] == {
        "secretName": "demo-aigw-admin",
        "defaultMode": 0o440,
        "items": [{"key": "admin-key", "path": "admin-key"}],
    }
    # Named as a file, the rest of the admin section kept; the key itself never in the map.
    assert gateway_yaml(manifests)["admin"] == {
        "key": "${file:/etc/aigw/admin/admin-key}",
        "refresh": 0.5,
    }
    assert "example-admin-key" not in yaml.safe_dump(one(manifests, "ConfigMap"))
    # A new key restarts the pods: a running gateway keeps the key it read.
    rekeyed = render({**FLEET, "adminKey": {"value": "another-admin-key"}})
    annotation = "checksum/secret"
    assert (
        one(rekeyed, "Deployment")["spec"]["template"]["metadata"]["annotations"][annotation]
        != one(manifests, "Deployment")["spec"]["template"]["metadata"]["annotations"][annotation]
    )

    theirs = render(EXISTING_SECRET)
    assert volume(theirs, "admin-key")["secret"]["secretName"] == "aigw-admin"
    assert volume(theirs, "admin-key")["secret"]["items"] == [{"key": "key", "path": "admin-key"}]
    assert gateway_yaml(theirs)["admin"] == {"key": "${file:/etc/aigw/admin/admin-key}"}

    keyless = render(MOCK)
    assert "admin" not in gateway_yaml(keyless)
    assert not [v for v in pod_spec(keyless)["volumes"] if v["name"] == "admin-key"]
    with pytest.raises(helm.HelmError, match="adminKey: set existingSecret or value, not both"):
        render({**MOCK, "adminKey": {"value": "k", "existingSecret": "s"}})


def test_the_service_monitor_sends_the_admin_key_only_when_one_is_set() -> None:
    (endpoint,) = one(render(FLEET), "ServiceMonitor")["spec"]["endpoints"]
    assert endpoint["authorization"] == {
        "type": "Bearer",
        "credentials": {"name": "demo-aigw-admin", "key": "admin-key"},
    }
    (endpoint,) = one(render(EXISTING_SECRET), "ServiceMonitor")["spec"]["endpoints"]
    assert endpoint["authorization"]["credentials"] == {"name": "aigw-admin", "key": "key"}
    keyless = render({**MOCK, "serviceMonitor": {"enabled": True}})
    (endpoint,) = one(keyless, "ServiceMonitor")["spec"]["endpoints"]
    assert "authorization" not in endpoint
    validate(one(keyless, "ServiceMonitor"))


def test_the_network_policy_keeps_the_admin_port_to_the_peers_named() -> None:
    assert not [m for m in render(FLEET) if m["kind"] == "NetworkPolicy"]  # off by default
    manifests = render(FENCED)
    policy = one(manifests, "NetworkPolicy")
    pods = one(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= pods.items()
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    assert policy["spec"]["ingress"] == [
        {"ports": [{"port": "http", "protocol": "TCP"}]},  # traffic: from anywhere
        {"from": ADMIN_FROM, "ports": [{"port": "admin", "protocol": "TCP"}]},
    ]
    # No peers: no admin rule at all (an empty `from` would admit everyone).
    closed = render({**FLEET, "networkPolicy": {"enabled": True}})
    assert one(closed, "NetworkPolicy")["spec"]["ingress"] == [
        {"ports": [{"port": "http", "protocol": "TCP"}]}
    ]
