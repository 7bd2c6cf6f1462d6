"""Telemetry: metrics through OpenTelemetry, exported as Prometheus text and over OTLP."""
