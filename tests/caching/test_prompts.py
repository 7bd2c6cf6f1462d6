"""What a semantic cache compares: the prompt's text, and the settings that must match."""

from __future__ import annotations

import pytest

from gateway.caching.prompts import prompt_of, responses_prompt_of

CHAT = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Name a colour"},
    ],
}


def test_the_text_is_the_messages_and_system_messages_can_be_left_out() -> None:
    kept = prompt_of(CHAT, ignore_system=False)
    dropped = prompt_of(CHAT, ignore_system=True)
    assert kept is not None and dropped is not None
    assert kept.text == "system: You are terse.\nuser: Name a colour"
    assert (dropped.text, dropped.messages) == ("user: Name a colour", 1)
    # Left out of the text, the system prompt still has to match exactly.
    other_system = {
        **CHAT,
        "messages": [{"role": "system", "content": "Be verbose."}, CHAT["messages"][1]],
    }
    assert prompt_of(other_system, ignore_system=True).settings != dropped.settings  # type: ignore[union-attr]


def test_every_setting_that_changes_an_answer_changes_the_partition() -> None:
    base = prompt_of(CHAT, ignore_system=True)
    assert base is not None
    for change in (
        {"model": "gpt-4o-mini"},
        {"temperature": 0.2},
        {"max_tokens": 10},
        {"tools": [{"type": "function", "function": {"name": "f"}}]},
        {"response_format": {"type": "json_object"}},
    ):
        changed = prompt_of({**CHAT, **change}, ignore_system=True)
        assert changed is not None and changed.settings != base.settings, change
    streamed = prompt_of({**CHAT, "stream": True, "user": "u1"}, ignore_system=True)
    assert streamed is not None and streamed.settings == base.settings  # replayed either way


def test_images_are_compared_exactly_and_anthropic_system_fields_count() -> None:
    def picture(url: str) -> dict:
        content = [
            {"type": "text", "text": "What is in this picture?"},
            {"type": "image_url", "image_url": {"url": url}},
        ]
        return {"model": "gpt-4o", "messages": [{"role": "user", "content": content}]}

    cat, dog = (
        prompt_of(picture("https://x/cat.png"), True),
        prompt_of(picture("https://x/dog.png"), True),
    )
    assert cat is not None and dog is not None
    assert cat.text == dog.text == "user: What is in this picture?"
    assert cat.settings != dog.settings
    claude = {
        "model": "claude",
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    }
    assert prompt_of(claude, ignore_system=False).text == "system: Be brief.\nuser: Hi"  # type: ignore[union-attr]
    assert prompt_of({"input": "no messages"}, True) is None
    assert prompt_of({"prompt": "legacy"}, True).text == "legacy"  # type: ignore[union-attr]


def test_a_responses_request_is_keyed_by_its_instructions_and_input_text() -> None:
    plain = responses_prompt_of({"model": "m", "input": "What is the capital of France?"}, False)
    assert plain is not None and plain.text == "user: What is the capital of France?"
    parts = [
        {"type": "input_text", "text": "What is the capital"},
        {"type": "input_text", "text": "of France?"},
    ]
    listed = {
        "model": "m",
        "instructions": "Be brief.",
        "input": [
            {"role": "developer", "content": "Answer in English."},
            {"type": "message", "role": "user", "content": parts},
        ],
    }
    kept = responses_prompt_of(listed, False)
    assert kept is not None and kept.messages == 3
    assert kept.text == (
        "system: Be brief.\ndeveloper: Answer in English.\nuser: What is the capital of France?"
    )
    ignored = responses_prompt_of(listed, True)
    assert ignored is not None and ignored.text == "user: What is the capital of France?"
    # The system side and the settings partition; metadata and streaming do not.
    other = responses_prompt_of({**listed, "instructions": "Be long."}, True)
    assert other is not None and other.settings != ignored.settings
    warmer = responses_prompt_of({**listed, "temperature": 0.9}, True)
    assert warmer is not None and warmer.settings != ignored.settings
    same = responses_prompt_of({**listed, "stream": True, "metadata": {"a": "b"}}, True)
    assert same is not None and same.settings == ignored.settings
    # Neither the chat reading nor the Responses one reads the other's body.
    assert prompt_of({"model": "m", "input": "What is the capital of France?"}, False) is None
    assert responses_prompt_of({"model": "m", "messages": []}, False) is None


@pytest.mark.parametrize(
    "extra",
    [
        {"previous_response_id": "resp_1"},
        {"conversation": "conv_1"},
        {"prompt": {"id": "pmpt_1"}},
        {"background": True},
        {"tools": [{"type": "web_search"}]},
        {"input": [{"type": "function_call_output", "call_id": "c", "output": "4"}]},
        {"input": [{"type": "item_reference", "id": "msg_1"}]},
        {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
        {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
        {"input": {"role": "user"}},
    ],
)
def test_a_responses_request_the_gateway_cannot_key_faithfully_has_no_prompt(
    extra: dict,
) -> None:
    assert responses_prompt_of({"model": "m", "input": "Hi", **extra}, False) is None
