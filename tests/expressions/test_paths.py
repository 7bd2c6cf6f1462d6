"""`context.A.B` read by the path readers: what `library.member` gives, the same errors, on the
first read of a class and on every read after it."""

from __future__ import annotations

import pytest

from gateway.expressions import Expression, ExpressionError
from gateway.expressions.model import ContextModel, HeaderDictionary, SubscriptionModel
from gateway.expressions.paths import path_reader
from tests.expressions.context_fixture import prepared_context


def _outcome(read: object, value: object) -> tuple[str, object]:
    try:
        return "value", read(value)  # type: ignore[operator]
    except ExpressionError as error:
        return "error", error.message


@pytest.mark.parametrize(
    "path",
    [
        ("Subscription",),
        ("Subscription", "Id"),
        ("Request", "Headers", "Count"),
        ("Subscription", "Id", "Length"),
        ("Request", "Nothing"),
        ("traces",),  # a Python attribute, not an expression member
    ],
)
def test_a_path_reads_what_the_interpreter_reads_before_and_after_it_learns_a_class(
    path: tuple[str, ...],
) -> None:
    source = "@(context." + ".".join(path) + ")"
    with_subscription = prepared_context()
    without = ContextModel(Subscription=None)
    read = path_reader(path)
    expression = Expression(source)
    for context in (with_subscription, without, with_subscription, without):
        try:
            expected: tuple[str, object] = ("value", Expression(source).interpret(context))
        except ExpressionError as error:
            expected = ("error", error.message)
        assert _outcome(read, context) == expected
        assert _outcome(expression.evaluate, context) == expected  # its own reader


def test_a_class_learnt_on_one_step_is_not_taken_for_another_names_reader() -> None:
    subscription_id = path_reader(("Id",))
    headers_count = path_reader(("Count",))
    assert subscription_id(SubscriptionModel(Id="s-1")) == "s-1"
    assert headers_count(HeaderDictionary({"a": "1"})) == 1
    # HeaderDictionary has no Id, SubscriptionModel no Count: errors, learnt or not.
    assert _outcome(subscription_id, HeaderDictionary()) == (
        "error",
        "HeaderDictionary has no member 'Id'",
    )
    assert _outcome(headers_count, SubscriptionModel()) == (
        "error",
        "Subscription has no member 'Count'",
    )


def test_null_on_the_way_is_the_null_error_after_a_class_was_learnt() -> None:
    read = path_reader(("Subscription", "Id"))
    assert read(ContextModel(Subscription=SubscriptionModel(Id="s-1"))) == "s-1"
    assert _outcome(read, ContextModel(Subscription=None)) == (
        "error",
        "cannot read 'Id' of null (a null reference)",
    )
