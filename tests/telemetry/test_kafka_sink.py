"""An `eventhub` logger's Kafka settings, derived from its connection string as Event Hubs'
Kafka endpoint wants them; a `kafka` logger's own, secrets resolved only here."""

from __future__ import annotations

import pytest

from gateway.config.loggers import Logger
from gateway.config.secrets import ConfigValue, SecretUnavailable
from gateway.telemetry.kafka_sink import SinkMisconfigured, event_hubs_settings, kafka_settings

CONNECTION = (
    "Endpoint=sb://contoso-ns.servicebus.windows.net/;SharedAccessKeyName=send;"
    "SharedAccessKey=abc123=;EntityPath=llm-logs"
)


def test_event_hubs_endpoint_user_and_password_come_from_the_connection_string() -> None:
    settings = event_hubs_settings(ConfigValue(CONNECTION), None)
    assert settings.bootstrap_servers == ("contoso-ns.servicebus.windows.net:9093",)
    assert settings.topic == "llm-logs"  # EntityPath
    assert settings.security_protocol == "SASL_SSL" and settings.sasl_mechanism == "PLAIN"
    assert settings.username == "$ConnectionString" and settings.password == CONNECTION
    # A topic written in gateway.yaml names the event hub when the string has no EntityPath.
    namespace_wide = CONNECTION.rsplit(";", 1)[0]
    assert event_hubs_settings(ConfigValue(namespace_wide), "other").topic == "other"


def test_a_connection_string_that_cannot_work_says_why_without_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(SinkMisconfigured, match="name the event hub") as no_hub:
        event_hubs_settings(ConfigValue(CONNECTION.rsplit(";", 1)[0]), None)
    with pytest.raises(SinkMisconfigured, match="Endpoint=sb://") as no_endpoint:
        event_hubs_settings(ConfigValue("SharedAccessKey=abc123="), "hub")
    for raised in (no_hub, no_endpoint):
        assert "abc123" not in str(raised.value)
    monkeypatch.delenv("AIGW_TEST_HUB", raising=False)
    with pytest.raises(SecretUnavailable, match="AIGW_TEST_HUB is not set"):
        event_hubs_settings(ConfigValue("${env:AIGW_TEST_HUB}"), None)
    monkeypatch.setenv("AIGW_TEST_HUB", CONNECTION)
    assert event_hubs_settings(ConfigValue("${env:AIGW_TEST_HUB}"), None).password == CONNECTION


def test_a_kafka_logger_resolves_its_sasl_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGW_TEST_SASL", "s3cret")
    logger = Logger(
        id="k",
        kind="kafka",
        bootstrap_servers=("b1:9092", "b2:9092"),
        topic="llm",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-256",
        sasl_username=ConfigValue("gateway"),
        sasl_password=ConfigValue("${env:AIGW_TEST_SASL}"),
    )
    settings = kafka_settings(logger)
    assert settings.bootstrap_servers == ("b1:9092", "b2:9092") and settings.topic == "llm"
    assert (settings.username, settings.password) == ("gateway", "s3cret")
    assert settings.sasl_mechanism == "SCRAM-SHA-256"
