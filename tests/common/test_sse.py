"""The one SSE parser (gateway.common.sse), against the specification's rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.common.sse import (
    USAGE_OR_END,
    Event,
    SSEParser,
    ends_stream,
    parse,
    reports_usage,
)


def events_of(chunks: list[bytes]) -> tuple[list[Event], bytes]:
    parser = SSEParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    events += parser.close()
    return events, parser.leftover


def fields(events: list[Event]) -> list[tuple[str, str, str | None]]:
    return [(event.name, event.data, event.id) for event in events]


def test_the_specification_s_fields_comments_and_line_ends() -> None:
    body = (
        b"\xef\xbb\xbfevent: a\r\ndata: 1\r\ndata:2\r\nid: 7\r\n\r\n"
        b": a comment\n\n"
        b"retry: 9\ndata\nunknown: x\n\n"
        b"data: \xc3\xa9\r\r"
    )
    assert fields(parse(body)) == [("a", "1\n2", "7"), ("message", "", "7"), ("message", "é", "7")]


def test_a_block_without_data_dispatches_nothing_and_an_id_with_nul_is_ignored() -> None:
    assert fields(parse(b"event: x\nid: 1\n\nid: a\x00b\ndata: y\n\n")) == [("message", "y", "1")]


def test_a_last_event_without_its_blank_line_is_dispatched_but_a_cut_line_is_not() -> None:
    events, leftover = events_of([b"data: x\n\ndata: y\ndata: cu"])
    assert fields(events) == [("message", "x", None), ("message", "y", None)]
    assert leftover == b"data: cu"


def test_each_event_keeps_the_bytes_that_carried_it() -> None:
    body = b": ping\r\n\r\ndata: a\r\n\r\ndata: b\rdata: c\r\r: tail"
    events, leftover = events_of([body])
    assert [event.raw for event in events] == [
        b": ping\r\n\r\ndata: a\r\n\r\n",
        b"data: b\rdata: c\r\r",
    ]
    assert leftover == b": tail"


def test_a_crlf_split_between_reads_is_one_line_end() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: a\r\n\r") == [Event("a", raw=b"data: a\r\n\r")]  # at once
    assert parser.feed(b"\ndata: b\r\n\r\n") == [Event("b", raw=b"\ndata: b\r\n\r\n")]
    assert parser.close() == []


def test_a_byte_order_mark_split_between_reads_is_still_skipped() -> None:
    # Found by fuzzing (tests/fuzz/corpus/sse): the mark's second byte cleared the "first
    # line" state, so the mark stayed on the first field's name and its event was lost.
    body = b"\xef\xbb\xbfdata: a\n\n"
    for cut in (1, 2, 3):
        events, leftover = events_of([body[:cut], body[cut:]])
        assert fields(events) == [("message", "a", None)]
        assert b"".join(event.raw for event in events) + leftover == body
    events, _ = events_of([b"\xef", b"x: 1\ndata: b\n\n"])  # not a mark: a field named so
    assert fields(events) == [("message", "b", None)]


def test_the_ends_of_llm_streams() -> None:
    [done, stop, completed, named, chunk] = parse(
        b"data: [DONE]\n\n"
        b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
        b'event: response.completed\ndata: {"type":"response.completed"}\n\n'
        b'data: {"type":"message_stop"}\n\n'
        b'data: {"choices":[]}\n\n'
    )
    assert all(map(ends_stream, (done, stop, completed, named)))
    assert not ends_stream(chunk)


# Lines without line ends (the only characters a field cannot hold), as events of fields.
_text = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12
)
_line = st.one_of(
    st.builds(lambda v: "data: " + v, _text),
    st.builds(lambda v: "data:" + v, _text),
    st.builds(lambda v: "event: " + v, _text),
    st.builds(lambda v: "id: " + v, _text.filter(lambda v: "\0" not in v)),
    st.builds(lambda v: ":" + v, _text),
)
_stream = st.lists(st.lists(_line, min_size=1, max_size=4), max_size=6)


def _framed(blocks: list[list[str]], eol: str) -> bytes:
    return "".join(eol.join(block) + eol + eol for block in blocks).encode()


@given(_stream, st.lists(st.integers(min_value=0, max_value=400), max_size=12))
def test_any_split_of_a_stream_gives_the_same_events(blocks, cuts) -> None:
    for eol in ("\n", "\r\n", "\r"):
        body = _framed(blocks, eol)
        whole, _ = events_of([body])
        points = sorted({min(cut, len(body)) for cut in cuts})
        chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
        split, split_rest = events_of(chunks)
        assert fields(whole) == fields(split)
        # Nothing lost: an event goes at its blank line's CR, so the LF of a CRLF split there
        # starts the next event's bytes; all of them still add up to the stream.
        assert b"".join(event.raw for event in split) + split_rest == body


@given(_stream)
def test_lf_crlf_and_cr_framings_give_the_same_events(blocks) -> None:
    lf, crlf, cr = (fields(parse(_framed(blocks, eol))) for eol in ("\n", "\r\n", "\r"))
    assert lf == crlf == cr


@given(_stream, st.integers(min_value=1, max_value=7))
def test_bytes_one_at_a_time_as_a_whole(blocks, size) -> None:
    body = _framed(blocks, "\r\n")
    chunks = [body[i : i + size] for i in range(0, len(body), size)]
    assert fields(events_of(chunks)[0]) == fields(parse(body))


@given(_stream)
def test_whole_blocks_read_at_once_give_what_line_by_line_reading_gives(blocks) -> None:
    # Read whole, LF-framed `data:` blocks are taken a block at a time; a byte at a time, no
    # chunk ever holds a whole block, so every line goes through the line-by-line reading.
    body = _framed(blocks, "\n")
    assert events_of([body]) == events_of([body[i : i + 1] for i in range(len(body))])


def test_usage_objects_are_found_on_the_text_and_null_usage_or_answer_text_is_not() -> None:
    carries = [
        '{"choices":[],"usage":{"prompt_tokens":3}}',  # OpenAI's last chunk
        '{"choices": [], "usage" : {"prompt_tokens": 3}}',
        '{"type":"message_start","message":{"usage":{"input_tokens":3}}}',  # Anthropic
        '{"type":"message_delta","usage":{"output_tokens":5}}',
        '{"type":"response.completed","response":{"usage":{"input_tokens":3}}}',
    ]
    carries_not = [
        '{"choices":[{"delta":{"content":"a"}}],"usage":null}',  # every other OpenAI chunk
        '{"choices":[{"delta":{"content":"say \\"usage\\":{ twice"}}]}',  # the answer's text
        '{"type":"content_block_delta","delta":{"text":"usage"}}',
        "[DONE]",
    ]
    assert all(reports_usage(Event(data)) for data in carries)
    assert not any(reports_usage(Event(data)) for data in carries_not)


def test_what_an_event_without_end_makes_the_parser_hold_is_measured() -> None:
    """An upstream may never end its event: `held` is what a reader bounds (StreamReading)."""
    parser = SSEParser()
    parser.feed(b"data: " + b"x" * 1000)  # a line without its end
    parser.feed(b"\ndata: more\n")  # lines without their blank line
    assert parser.held == len(b"data: " + b"x" * 1000 + b"\ndata: more\n")
    assert [e.data for e in parser.feed(b"\n")] == ["x" * 1000 + "\nmore"]
    assert parser.held == 0


# Marks among the text (and escapes, CRs, blank lines), so that marked events come often.
_marked_text = st.lists(
    st.sampled_from(['"usage":{"prompt_tokens":1}', "[DONE]", '"type"', "message_start", "x"])
    | _text,
    max_size=3,
).map("".join)
_marked_line = st.one_of(
    st.builds(lambda v: "data: " + v, _marked_text),
    st.builds(lambda v: "data:" + v, _marked_text),
    _line,
)
_marked_stream = st.lists(st.lists(_marked_line, min_size=1, max_size=2), max_size=6)


@given(_marked_stream, st.lists(st.integers(min_value=0, max_value=300), max_size=6))
def test_marked_events_are_those_feed_gives_that_hold_a_mark(blocks, cuts) -> None:
    """A chunk of whole one-line `data:` events gives those holding a mark, where they are in
    it, and leaves the parser as feeding it would; any other chunk is left to `feed`."""
    for eol in ("\n", "\r\n"):
        body = _framed(blocks, eol)
        points = sorted({min(cut, len(body)) for cut in cuts})
        chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
        marking, feeding = SSEParser(), SSEParser()
        for chunk in chunks:
            fed = feeding.feed(chunk)
            marked = marking.marked_events(chunk, USAGE_OR_END)
            if marked is None:
                assert marking.feed(chunk) == fed
                continue
            assert b"".join(event.raw for event in fed) == chunk
            held = [e for e in fed if any(mark in e.raw for mark in USAGE_OR_END)]
            assert [event for _, event in marked] == held
            assert all(chunk[at : at + len(e.raw)] == e.raw for at, e in marked)
        assert marking.close() == feeding.close() and marking.leftover == feeding.leftover


def test_an_event_that_reports_usage_or_ends_a_stream_holds_a_mark() -> None:
    """What lets a reader skip the events without a mark (StreamReading)."""
    stream = (
        b'data: {"choices":[],"usage":{"prompt_tokens":3}}\n\n'
        b'data: {"type":"message_start","message":{"usage":{"input_tokens":3}}}\n\n'
        b'data: {"type":"message_delta","usage":{"output_tokens":5}}\n\n'
        b'data: {"type":"response.completed","response":{"usage":{"input_tokens":3}}}\n\n'
        b'data: {"type":"message_stop"}\n\n'
        b"data:  [DONE] \n\n"
    )
    events = parse(stream)
    assert all(reports_usage(event) or ends_stream(event) for event in events)
    assert all(any(mark in event.raw for mark in USAGE_OR_END) for event in events)
    assert [e for _, e in SSEParser().marked_events(stream, USAGE_OR_END) or []] == events
