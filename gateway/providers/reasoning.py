"""Reasoning across the two APIs, for backends whose `translation.reasoning` is `map`.

OpenAI asks for reasoning with a level (`reasoning_effort`), Anthropic with a token budget
(`thinking: {type: enabled, budget_tokens}`): a level becomes a budget by EFFORT_BUDGETS, and
a budget the nearest level. It is off by default (the request fields are dropped) because
whether a model reasons at all depends on the model, and a model that does not fails a request
that asks it to. The completions' reasoning text crosses in from_anthropic and from_openai.
"""

from __future__ import annotations

from typing import Any

from gateway.providers.common import TranslationError

# reasoning_effort -> Anthropic's budget_tokens; None: no thinking. 1024 is Anthropic's least
# budget. xhigh and max get the largest budget that, with the default 4096 tokens for the
# completion on top (28672), stays within the 32000-token output limit of every Claude model that
# thinks.
EFFORT_BUDGETS: dict[str, int | None] = {
    "none": None,
    "minimal": None,
    "low": 1024,
    "medium": 4096,
    "high": 16384,
    "xhigh": 24576,
    "max": 24576,
}
MIN_BUDGET = 1024
# A budget back to a level: the nearest of low, medium and high on a log scale (the budgets
# grow fourfold, so the bounds are 2048 and 8192). xhigh and max are never chosen: not every
# reasoning model takes them, and a model that does not fails the request.
_LEVELS = ((2048, "low"), (8192, "medium"))


def thinking_for_effort(
    effort: Any, limit: Any, default_limit: int
) -> tuple[dict[str, Any], int] | None:
    """Anthropic's `thinking` and `max_tokens` for OpenAI's reasoning_effort and token limit
    (max_completion_tokens, or None); None when the request goes without thinking.

    OpenAI's limit counts reasoning tokens as Anthropic's max_tokens counts thinking ones, so
    a limit is kept and the budget shrinks below it (Anthropic requires budget_tokens <
    max_tokens); when even the least budget does not fit, the request goes without thinking.
    Without a limit, max_tokens is the budget plus `default_limit` tokens for the completion.
    """
    if effort is None:
        return None
    if not isinstance(effort, str) or effort not in EFFORT_BUDGETS:
        known = ", ".join(EFFORT_BUDGETS)
        raise TranslationError(f"reasoning_effort {effort!r} is not one of {known}")
    budget = EFFORT_BUDGETS[effort]
    if budget is None:
        return None
    if limit is None:
        return {"type": "enabled", "budget_tokens": budget}, budget + default_limit
    budget = min(budget, limit - 1)
    return ({"type": "enabled", "budget_tokens": budget}, limit) if budget >= MIN_BUDGET else None


def effort_for_thinking(thinking: Any, output_config: Any) -> str | None:
    """OpenAI's reasoning_effort for Anthropic's `thinking`; None to send none.

    Enabled thinking: its budget's nearest level. Adaptive thinking (the model decides how much
    to think): `output_config.effort`, whose levels are OpenAI's names too, and without one the
    model's own default. Disabled thinking, or none asked for: none.
    """
    kind = thinking.get("type") if isinstance(thinking, dict) else None
    if kind == "enabled":
        budget = thinking["budget_tokens"]
        return next((level for bound, level in _LEVELS if budget < bound), "high")
    effort = output_config.get("effort") if isinstance(output_config, dict) else None
    if kind != "adaptive" or effort is None:
        return None
    if not isinstance(effort, str) or effort not in EFFORT_BUDGETS:
        raise TranslationError(f"output_config.effort {effort!r} has no reasoning_effort")
    return effort
