"""What llm-content-safety sends to Azure AI Content Safety: the prompt's texts, cut within the
service's limits, and the calls they make (gateway.statements.support.content_safety_service)."""

from __future__ import annotations

from gateway.statements.support.content_safety_service import (
    ANALYZE_PATH,
    SHIELD_PATH,
    Settings,
    calls_for,
    chunks,
    prompt_texts,
    units,
)


def test_chat_messages_give_every_text_and_the_last_user_message() -> None:
    prompt = prompt_texts(
        {
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "first question"},
                {"role": "assistant", "content": "an answer"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "look at"},
                        {"type": "image_url", "image_url": {"url": "data:..."}},
                        {"type": "text", "text": "this"},
                    ],
                },
            ]
        }
    )
    assert prompt is not None
    assert prompt.whole == "Be brief.\nfirst question\nan answer\nlook at this"
    assert prompt.user_prompt == "look at this"
    assert prompt.documents == ["Be brief.", "first question", "an answer"]


def test_anthropic_legacy_and_responses_prompts() -> None:
    claude = prompt_texts(
        {
            "system": [{"type": "text", "text": "You are terse."}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi there"}]}],
        }
    )
    assert claude is not None and claude.whole == "You are terse.\nhi there"
    assert (claude.user_prompt, claude.documents) == ("hi there", ["You are terse."])
    legacy = prompt_texts({"prompt": "Once upon a time"})
    assert legacy is not None and (legacy.whole, legacy.user_prompt) == ("Once upon a time",) * 2
    responses = prompt_texts({"instructions": "Be kind.", "input": "hello"})
    assert responses is not None and responses.whole == "Be kind.\nhello"
    assert prompt_texts({"model": "gpt-4o"}) is None  # nothing to check


def test_long_text_is_cut_at_whitespace_within_the_limit() -> None:
    text = " ".join(["word"] * 5000)  # 24,999 characters
    pieces = chunks(text)
    assert len(pieces) == 3 and all(units(p) <= 10_000 for p in pieces)
    assert " ".join(pieces) == text  # only the whitespace at each cut is dropped
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in pieces)
    solid = "x" * 25_000  # no whitespace: hard cuts
    assert [len(p) for p in chunks(solid)] == [10_000, 10_000, 5_000]
    # Outside the BMP a character counts twice, as the service (.NET) counts it.
    emoji = "\U0001f600" * 12_000
    assert [units(p) for p in chunks(emoji)] == [10_000, 10_000, 4_000]
    assert chunks("short") == ["short"] and chunks("   ") == []


def test_shield_documents_are_batched_within_the_limits() -> None:
    messages = [{"role": "system", "content": f"doc {i}"} for i in range(7)]
    messages.append({"role": "user", "content": "question"})
    prompt = prompt_texts({"messages": messages})
    assert prompt is not None
    settings = Settings("cs", True, "FourSeverityLevels", (("Hate", 4),), ())
    calls = calls_for(prompt, settings)
    assert [c.path for c in calls] == [ANALYZE_PATH, SHIELD_PATH, SHIELD_PATH]
    assert calls[1].payload == {
        "userPrompt": "question",
        "documents": [f"doc {i}" for i in range(5)],
    }
    assert calls[2].payload == {"userPrompt": "", "documents": ["doc 5", "doc 6"]}
    assert calls[0].payload["categories"] == ["Hate"]
    assert "blocklistNames" not in calls[0].payload
