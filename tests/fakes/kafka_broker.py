"""A Kafka-protocol broker for tests: librdkafka's mock cluster, on real loopback TCP ports.

    python -m tests.fakes.kafka_broker TOPIC:PARTITIONS ...

librdkafka (shipped inside the confluent-kafka wheel, a dev dependency) has a mock cluster
that serves Kafka's wire protocol (metadata, produce, fetch, consumer groups) from its own
threads on loopback ports; `rd_kafka_mock_cluster_new` starts one, reached here through
ctypes. The process prints the bootstrap address (`127.0.0.1:PORT`) as its first line, then
serves until it is stopped. Clients (aiokafka in the gateway, a consumer in the test) speak
to it as to any broker.
"""

from __future__ import annotations

import ctypes
import signal
import sys
from pathlib import Path

import confluent_kafka


def librdkafka() -> ctypes.CDLL:
    package = Path(confluent_kafka.__file__).parent
    found = sorted(package.parent.glob("confluent_kafka.libs/librdkafka*.so*"))
    found += sorted(package.glob("librdkafka*.so*"))  # other wheel layouts
    if not found:
        raise SystemExit("librdkafka not found beside confluent_kafka")
    lib = ctypes.CDLL(str(found[0]))
    lib.rd_kafka_conf_new.restype = ctypes.c_void_p
    lib.rd_kafka_conf_set.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    lib.rd_kafka_conf_set.argtypes += [ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_new.restype = ctypes.c_void_p
    lib.rd_kafka_new.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.rd_kafka_mock_cluster_new.restype = ctypes.c_void_p
    lib.rd_kafka_mock_cluster_new.argtypes = [ctypes.c_void_p, ctypes.c_int]
    lib.rd_kafka_mock_cluster_bootstraps.restype = ctypes.c_char_p
    lib.rd_kafka_mock_cluster_bootstraps.argtypes = [ctypes.c_void_p]
    lib.rd_kafka_mock_topic_create.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_int,
    ]
    return lib


def main(topics: list[str]) -> None:
    lib = librdkafka()
    error = ctypes.create_string_buffer(512)
    conf = lib.rd_kafka_conf_new()
    # The handle only owns the cluster; it never connects (no bootstrap servers), so quiet it.
    lib.rd_kafka_conf_set(conf, b"log_level", b"0", error, len(error))
    handle = lib.rd_kafka_new(0, conf, error, len(error))  # 0: RD_KAFKA_PRODUCER
    if not handle:
        raise SystemExit(f"rd_kafka_new failed: {error.value.decode()}")
    cluster = lib.rd_kafka_mock_cluster_new(handle, 1)
    for topic in topics:
        name, _, partitions = topic.partition(":")
        lib.rd_kafka_mock_topic_create(cluster, name.encode(), int(partitions or 1), 1)
    print(lib.rd_kafka_mock_cluster_bootstraps(cluster).decode(), flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    main(sys.argv[1:])
