"""gateway.yaml's `loggers` and an API's `llm-messages`: what each kind needs, and references
to loggers, each error at its line and column."""

from __future__ import annotations

from pathlib import Path

from gateway.config.loader import load_gateway_config

BASE = """
apis:
  chat:
    path: chat
    style: openai
    llm-messages: {logger: line, sampling: 0.25, max-bytes: 100}
loggers:
"""


def diagnostics(tmp_path: Path, loggers: str) -> list[str]:
    (tmp_path / "gateway.yaml").write_text(BASE + loggers)
    config, found = load_gateway_config(tmp_path / "gateway.yaml")
    assert config is not None
    return [f"{d.location.line}:{d.location.column} {d.rule}: {d.message}" for d in found]


def test_a_valid_logger_of_each_kind(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """  line: {kind: file, path: llm.jsonl}
  collector: {kind: otlp, endpoint: "http://127.0.0.1:4318/v1/logs", queue-size: 50}
  kafka: {kind: kafka, bootstrap-servers: [b:9092], topic: t, security-protocol: SASL_SSL,
          sasl-mechanism: SCRAM-SHA-512, sasl-username: u, sasl-password: p}
  hub: {kind: eventhub, connection-string: "Endpoint=sb://n.servicebus.windows.net/;EntityPath=h"}
""",
    )
    assert found == []
    config, _ = load_gateway_config(tmp_path / "gateway.yaml")
    assert config is not None
    wanted = config.apis["chat"].llm_messages
    assert wanted is not None and (wanted.logger, wanted.sampling, wanted.max_bytes) == (
        "line",
        0.25,
        100,
    )
    assert config.loggers["collector"].queue_size == 50
    assert config.loggers["line"].queue_size == 10_000


def test_an_unknown_logger_is_an_error_that_names_the_nearest(tmp_path: Path) -> None:
    found = diagnostics(tmp_path, "  lines: {kind: file, path: llm.jsonl}\n")
    assert found == [
        "6:28 unknown-reference: no logger named 'line'; did you mean 'lines'?",
    ]


def test_each_kind_needs_its_keys_and_takes_no_others(tmp_path: Path) -> None:
    found = diagnostics(
        tmp_path,
        """  line: {kind: file, topic: t}
  k: {kind: kafka, topic: t, path: x}
  hub: {kind: eventhub, connection-string: "${env:AIGW_TEST_UNSET_HUB}"}
""",
    )
    assert found == [
        "8:3 missing-key: logger 'line' of kind file needs 'path'",
        "8:29 conflicting-keys: logger 'line' is of kind file, which has no 'topic' (its keys: path)",
        "9:3 missing-key: logger 'k' of kind kafka needs 'bootstrap-servers'",
        "9:36 conflicting-keys: logger 'k' is of kind kafka, which has no 'path' (its keys: "
        "bootstrap-servers, topic, security-protocol, sasl-mechanism, sasl-username, "
        "sasl-password, tls-ca-file)",
        "10:44 unset-secret: logger 'hub' cannot connect while the environment variable "
        "AIGW_TEST_UNSET_HUB is not set; its messages will be dropped and counted",
    ]


def test_sampling_is_a_share(tmp_path: Path) -> None:
    (tmp_path / "gateway.yaml").write_text(
        BASE.replace("0.25", "1.5") + "  line: {kind: file, path: x}\n"
    )
    _, found = load_gateway_config(tmp_path / "gateway.yaml")
    assert [(d.location.line, d.rule) for d in found] == [(6, "invalid-value")]
