"""A Kafka-protocol broker the tests own (tests/fakes/kafka_broker.py: librdkafka's mock
cluster in its own process), and a consumer that reads what was produced to it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.conftest import REPO


def require_kafka_libraries() -> None:
    """aiokafka (the gateway's client) and confluent-kafka (whose librdkafka is the broker):
    the `kafka` and `dev` extras. Skips loudly without them; fails under CI=true."""
    try:
        import aiokafka  # noqa: F401
        import confluent_kafka  # noqa: F401
    except ImportError as error:
        message = f"{error.name} is not installed (pip install -e '.[dev]'): no Kafka tests"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI=true: it is required)")
        print(f"\n*** SKIPPING: {message} ***", file=sys.stderr)
        pytest.skip(message)


@contextmanager
def kafka_broker(*topics: str) -> Iterator[str]:
    """A broker with these topics (`name:partitions`); yields its bootstrap address."""
    require_kafka_libraries()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.kafka_broker", *topics],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        address = process.stdout.readline().decode().strip()
        assert address.startswith("127.0.0.1:"), f"the broker printed {address!r}"
        yield address
    finally:
        process.terminate()
        process.wait(timeout=20)


def consume(bootstrap: str, topic: str, count: int, timeout: float = 15.0) -> list[object]:
    """At least `count` records of `topic` from its start (aiokafka ConsumerRecords), or all
    there are once `timeout` seconds have passed."""
    from aiokafka import AIOKafkaConsumer

    async def read() -> list[object]:
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        await consumer.start()
        records: list[object] = []
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while len(records) < count and loop.time() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                records += [record for batch in batches.values() for record in batch]
        finally:
            await consumer.stop()
        return records

    return asyncio.run(read())
