"""gateway.yaml: typed objects from a valid file, a precise diagnostic for each mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.common.diagnostics import Diagnostic
from gateway.config.loader import load_gateway_config
from gateway.config.secrets import ConfigValue, SecretUnavailable
from gateway.config.settings import GatewayConfig
from tests.config.valid_gateway import VALID


def load(tmp_path: Path, text: str) -> tuple[GatewayConfig | None, list[Diagnostic]]:
    path = tmp_path / "gateway.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_gateway_config(path)


def test_valid_file_gives_typed_objects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AOAI_EAST_KEY", "set")
    config, diagnostics = load(tmp_path, VALID)
    assert diagnostics == []
    assert config is not None
    east = config.backends["aoai-east"]
    assert east.timeout == 120.0
    rule = east.circuit_breaker.rules[0]
    condition = rule.failure_condition
    assert (condition.count, condition.interval, rule.trip_duration) == (3, 10.0, 30.0)
    assert condition.status_code_ranges == ((429, 429), (500, 599))
    pool = config.backends["aoai-pool"]
    assert pool.is_pool and pool.pool.strategy == "priority"
    assert [(m.backend, m.priority, m.weight) for m in pool.pool.services] == [
        ("aoai-east", 1, 3),
        ("aoai-west", 2, 1),
    ]
    api = config.apis["azure-openai"]
    assert (api.path, api.style, api.key_header) == ("openai", "azure-openai", "api-key")
    assert config.apis["inventory"].key_header == "Ocp-Apim-Subscription-Key"
    assert config.apis["inventory"].operations[0].url_template == "/items/{id}"
    assert config.subscriptions["team-a"].scope == "product/starter"
    assert config.named_values["tenant"].plain_value == "contoso"
    assert config.named_values["partner-key"].plain_value is None


MISTAKES = [
    ("apis:\n  a: {path: x, backnd: b}\n", "unknown-key", (2, 16), "did you mean 'backend'?"),
    (
        "apis:\n  a: {path: x, subscription-required: maybe}\n",
        "wrong-type",
        (2, 39),
        "true or false",
    ),
    ("apis:\n  a: {path: x, style: soap}\n", "invalid-value", (2, 23), "allowed: azure-openai"),
    ("apis:\n  a: {style: http}\n", "missing-key", (2, 6), "needs 'path'"),
    ("backends: {}\n", "missing-key", (1, 1), "needs 'apis'"),
    (
        "apis:\n  a: {path: x, backend: nope}\n",
        "unknown-reference",
        (2, 25),
        "no backend named 'nope'",
    ),
    (
        "apis:\n  a: {path: x}\nsubscriptions:\n  s: {scope: product/gold, primary-key: k}\n",
        "unknown-reference",
        (4, 14),
        "no product named 'gold'",
    ),
    (
        "apis:\n  a: {path: x}\nsubscriptions:\n  s: {scope: team, primary-key: k}\n",
        "invalid-value",
        (4, 14),
        "all-apis, product/<id> or api/<id>",
    ),
    ("apis:\n  a: {path: x}\n  b: {path: x}\n", "duplicate-path", (3, 13), "its own path"),
    (
        "apis:\n  a: {path: x}\nstores:\n  default: redis+sentinel://10.0.0.1:26379\n",
        "invalid-value",
        (4, 12),
        "name the Sentinel service",
    ),
    (
        "apis:\n  a: {path: x}\nstores:\n  default: mongodb://10.0.0.1\n",
        "invalid-value",
        (4, 12),
        "redis+cluster://",
    ),
    (  # the ledger's URL names a database the gateway cannot write; its password is not shown
        "apis:\n  a: {path: x}\nledger:\n  url: mysql://u:secret@db/ledger\n",
        "invalid-value",
        (4, 8),
        "ledger.url is a mysql:// URL: give sqlite:///PATH, a path, or postgresql://",
    ),
    (
        "apis:\n  a: {path: x}\nledger:\n  batch-size: 0\n",
        "invalid-value",
        (4, 15),
        "ledger.batch-size must be at least 1",
    ),
    ("apis:\n  a: {path: x}\n  a: {path: y}\n", "duplicate-key", (3, 3), "declared twice"),
    (  # credentials.value was declared once but never sent; it is gone
        "apis:\n  a: {path: x}\nbackends:\n  b: {url: 'https://x', credentials: {value: k}}\n",
        "unknown-key",
        (4, 39),
        "unknown key 'value' in backends.b.credentials",
    ),
    (
        "apis:\n  a: {path: x}\nbackends:\n  p: {pool: {services: [{backend: q}]}}\n"
        "  q: {pool: {services: [{backend: p}]}}\n",
        "pool-cycle",
        (4, 13),
        "p -> q -> p",
    ),
    (
        "apis:\n  a: {path: x}\nnamed-values:\n  k: ${vault:thing}\n",
        "invalid-reference",
        (4, 6),
        "${env:NAME}",
    ),
    (
        "apis:\n  a: {path: x}\nbackends:\n  b: {url: ftp://x}\n",
        "invalid-value",
        (4, 12),
        "http(s) URL",
    ),
    ("apis:\n  a: {path: x\n", "yaml-syntax", (3, 1), "YAML syntax"),
    (
        "apis:\n  a: {path: x}\nsubscriptions:\n  s: {scope: all-apis, primary-key: 'sha256:abc'}\n",
        "invalid-value",
        (4, 37),
        "64 lowercase hex",
    ),
    (
        "apis:\n  a: {path: x}\nbackends:\n  b: {url: 'https://x', timeout: soon}\n",
        "wrong-type",
        (4, 34),
        "duration",
    ),
    (
        "apis:\n  a: {path: x}\nbackends:\n  b: {url: 'https://x'}\n"
        "  p: {pool: {services: [b], session-affinity: {cookie: 'my session'}}}\n",
        "invalid-value",
        (5, 56),
        "cannot be a cookie name",
    ),
    (
        "apis:\n  a: {path: x}\nbackends:\n  b: {url: 'https://x'}\n"
        "  p: {pool: {strategy: race, services: [b], session-affinity: {cookie: s}}}\n",
        "ignored-setting",
        (5, 72),
        "no effect",
    ),
    (
        "apis:\n  a: {path: x}\ntelemetry:\n  traces: {sampling: 0.5}\n",
        "missing-key",
        (4, 22),
        "set telemetry.traces.otlp-endpoint",
    ),
    (
        "apis:\n  a: {path: x}\ntelemetry:\n  traces: {sampling: 5, otlp-endpoint: 'http://c'}\n",
        "invalid-value",
        (4, 22),
        "1",
    ),
    (  # an enum setting: the allowed values named
        "apis:\n  a: {path: x}\nlimits:\n  token-counter: fast\n",
        "invalid-value",
        (4, 18),
        "limits.token-counter is 'fast'; allowed: compact, tiktoken",
    ),
    (
        "apis:\n  a: {path: x}\nlimits:\n  trusted-proxies: [127.0.0.1, 10.0.0/8x]\n",
        "invalid-value",
        (4, 32),
        "'10.0.0/8x' is not an address or a CIDR range",
    ),
]


@pytest.mark.parametrize(
    ("text", "rule", "position", "words"), MISTAKES, ids=[m[1] for m in MISTAKES]
)
def test_each_mistake_is_reported_at_its_place(
    tmp_path: Path, text: str, rule: str, position: tuple[int, int], words: str
) -> None:
    _, diagnostics = load(tmp_path, text)
    matching = [d for d in diagnostics if d.rule == rule]
    assert matching, [d.format() for d in diagnostics]
    found = matching[0]
    assert (found.location.line, found.location.column) == position, found.format()
    assert words in found.message
    assert found.location.path.endswith("gateway.yaml")


def test_secret_references_resolve_late_and_never_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "partner.key").write_text("s3cret\n")
    config, _ = load(tmp_path, VALID)
    assert config is not None
    assert config.named_values["partner-key"].value.resolve() == "s3cret"
    key = config.backends["aoai-east"].credentials.headers["api-key"]
    monkeypatch.delenv("AOAI_EAST_KEY", raising=False)
    with pytest.raises(SecretUnavailable, match="AOAI_EAST_KEY is not set"):
        key.resolve()
    monkeypatch.setenv("AOAI_EAST_KEY", "k-east")
    assert key.resolve() == "k-east"
    assert "k-east" not in repr(key)
    assert repr(ConfigValue("plain-secret")) == "ConfigValue('***')"


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, len(VALID) - 1),
    st.integers(0, 8),
    st.sampled_from(["", ":", "- ", "{", "x", "\n  ", "'", "9"]),
)
def test_mutated_files_give_diagnostics_not_exceptions(at: int, cut: int, insert: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "gateway.yaml"
        path.write_text(VALID[:at] + insert + VALID[at + cut :], encoding="utf-8")
        config, diagnostics = load_gateway_config(path)
        assert config is not None or diagnostics
        for diagnostic in diagnostics:
            assert diagnostic.location.line >= 1 and diagnostic.message


def test_an_unset_backend_secret_is_a_warning_at_its_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AOAI_EAST_KEY", raising=False)
    _, diagnostics = load(tmp_path, VALID)
    assert [
        (d.severity.value, d.rule, d.location.line, d.location.column) for d in diagnostics
    ] == [("warning", "unset-secret", 7, 28)]  # at the credential's line
    assert "AOAI_EAST_KEY is not set" in diagnostics[0].message


def test_a_secret_file_is_read_whole_less_one_newline_and_a_missing_one_is_named(
    tmp_path: Path,
) -> None:
    """`${file:/etc/aigw/secrets/NAME}`: how a Kubernetes Secret mounted as files reaches
    gateway.yaml (deploy/helm/aigw); the error names the path, never a value."""
    secret = tmp_path / "secrets" / "openai-key"
    secret.parent.mkdir()
    secret.write_text("sk-line\n\n")
    value = ConfigValue(f"Bearer ${{file:{secret}}}", base=Path("/elsewhere"))
    assert value.resolve() == "Bearer sk-line\n"  # one newline, the editor's, is not the key's
    missing = ConfigValue("${file:secrets/absent}", base=tmp_path)
    with pytest.raises(SecretUnavailable) as raised:
        missing.resolve()
    assert str(raised.value) == (
        f"cannot read the secret file {tmp_path / 'secrets/absent'}: No such file or directory"
    )
