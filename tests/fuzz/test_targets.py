"""Every fuzz target under hypothesis (inputs of its kind, generated near the valid ones), and
every saved input of tests/fuzz/corpus/ replayed: an input that once crashed stays fixed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import REPO
from tests.fuzz.loading import bundle, bundle_files
from tests.fuzz.seeds import (
    CHAT_REQUEST,
    CHAT_RESPONSE,
    CHAT_STREAM,
    MESSAGES_REQUEST,
    MESSAGES_RESPONSE,
    MESSAGES_STREAM,
    MODELS,
    RESPONSES_REQUEST,
)
from tests.fuzz.strategies import (
    EXPRESSIONS,
    FRAGMENT_XML,
    JSON_VALUES,
    POLICY_XML,
    SSE_STREAMS,
    TEXT,
    mutated,
)
from tests.fuzz.targets import CORPUS, TARGETS, corpus_inputs, target

# The examples are many small loads and parses: bounded by count, never by a clock.
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MANY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SAMPLE = REPO / "samples" / "token-budgets"


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


@MANY
@given(st.one_of(POLICY_XML, FRAGMENT_XML))
def test_policy_xml_of_any_statements_is_diagnosed_not_a_crash(text: str) -> None:
    target("policy_xml")(_utf8(text))


@FEW
@given(POLICY_XML, st.integers(0, 400), TEXT)
def test_policy_yaml_of_any_statements_is_diagnosed_not_a_crash(
    text: str, at: int, insert: str
) -> None:
    from gateway.common.diagnostics import Report
    from gateway.policy.writer import to_yaml
    from gateway.policy.xml_reader import read_xml

    document = read_xml(text, "p.xml", Report())
    written = to_yaml(document.root) if document is not None else text
    target("policy_yaml")(_utf8(written))
    target("policy_yaml")(_utf8(written[:at] + insert + written[at:]))  # and broken somewhere


_CONFIG = yaml.safe_load((SAMPLE / "gateway.yaml").read_text(encoding="utf-8"))


@MANY
@given(mutated(_CONFIG))
def test_a_gateway_yaml_with_any_part_replaced_is_diagnosed(config: object) -> None:
    target("gateway_yaml")(_utf8(yaml.safe_dump(config, allow_unicode=True)))


_FILES = bundle_files(bundle({p.relative_to(SAMPLE).as_posix(): p.read_bytes() for p in sorted(SAMPLE.rglob("*")) if p.is_file()}))  # fmt: skip


@FEW
@given(st.sampled_from(sorted(_FILES)), st.one_of(POLICY_XML, FRAGMENT_XML, TEXT))
def test_a_policies_directory_with_any_file_replaced_loads_or_is_diagnosed(
    name: str, text: str
) -> None:
    target("directory")(bundle({**_FILES, name: _utf8(text)}))


@MANY
@given(EXPRESSIONS)
def test_closures_and_interpreter_agree_on_any_expression(source: str) -> None:
    target("expression")(_utf8(source))


@MANY
@given(st.one_of(SSE_STREAMS, st.binary(max_size=64)))
def test_any_stream_parses_alike_in_every_chunking(data: bytes) -> None:
    target("sse")(data)


@MANY
@given(st.one_of(*(mutated(doc) for doc in (CHAT_REQUEST, MESSAGES_REQUEST, RESPONSES_REQUEST))))
def test_a_request_is_translated_or_refused_with_translation_error(body: object) -> None:
    target("translate_request")(_utf8(json.dumps(body)))


@MANY
@given(st.one_of(JSON_VALUES, *(mutated(d) for d in (CHAT_RESPONSE, MESSAGES_RESPONSE, MODELS))))
def test_any_backend_document_is_translated_without_an_exception(document: object) -> None:
    target("translate_response")(_utf8(json.dumps(document)))


def _stream_events(stream: bytes) -> list[object]:
    return [json.loads(line[6:]) for line in stream.split(b"\n") if line.startswith(b"data: {")]


def _streams(stream: bytes) -> st.SearchStrategy[bytes]:
    events = _stream_events(stream)
    return st.tuples(st.integers(0, len(events) - 1), JSON_VALUES).flatmap(
        lambda chosen: mutated(events[chosen[0]]).map(
            lambda event: stream.replace(
                json.dumps(events[chosen[0]], separators=(",", ":")).encode(),
                _utf8(json.dumps(event, separators=(",", ":"))),
            )
        )
    )


@MANY
@given(st.one_of(_streams(CHAT_STREAM), _streams(MESSAGES_STREAM), SSE_STREAMS))
def test_any_backend_stream_is_translated_without_an_exception(stream: bytes) -> None:
    target("translate_stream")(stream)


def test_every_target_has_a_property_and_every_saved_input_a_target() -> None:
    properties = [name for name in globals() if name.startswith("test_") and "saved" not in name]
    assert len(properties) == len(TARGETS)  # one each (this test and the replay excluded)
    folders = {path.name for path in CORPUS.iterdir()}
    assert folders <= set(TARGETS), "a corpus folder is named for its target"


@pytest.mark.parametrize(
    ("name", "path"), corpus_inputs(), ids=[f"{n}/{p.name}" for n, p in corpus_inputs()]
)
def test_a_saved_input_replays_without_a_crash(name: str, path: Path) -> None:
    target(name)(path.read_bytes())
