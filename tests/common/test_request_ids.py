"""Request ids: version 4 UUIDs in text form, unique within a process and across a fork."""

from __future__ import annotations

import os
import uuid

from gateway.common.request_ids import new_request_id


def test_an_id_is_a_version_4_uuid_as_str_writes_it() -> None:
    for _ in range(600):  # more than one draw of random bytes
        text = new_request_id()
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_ids_do_not_repeat() -> None:
    ids = [new_request_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)


def test_a_forked_process_makes_its_own_ids() -> None:
    new_request_id()  # the parent has ids drawn and waiting
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # the child: its next ids, to the parent
        os.close(reading)
        os.write(writing, "\n".join(new_request_id() for _ in range(300)).encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        theirs = set(pipe.read().split("\n"))
    os.waitpid(child, 0)
    ours = {new_request_id() for _ in range(300)}
    assert len(theirs) == 300
    assert not theirs & ours
