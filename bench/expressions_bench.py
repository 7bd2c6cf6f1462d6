"""Benchmark: microseconds per evaluation of typical policy expressions, the reference
interpreter against the compiled closures that requests use.

    python bench/expressions_bench.py [--repeat 7]

Each expression is compiled once and evaluated many times over one prepared context (the body
is read with preserveContent, so it can be read again); the figure is the best of --repeat
timings of a loop, divided by its length. Wall-clock: run it on a quiet machine, and compare
the two columns of one run rather than runs with each other.
"""

from __future__ import annotations

import argparse
import json
import timeit

from gateway.expressions import compile_expression
from gateway.expressions.model import (
    ApiModel,
    ContextModel,
    HeaderDictionary,
    MessageBody,
    OperationModel,
    RequestModel,
    ResponseModel,
    SubscriptionModel,
    UrlModel,
)

EXPRESSIONS = {
    "header compare": '@(context.Request.Headers.GetValueOrDefault("x-mode", "") == "fast")',
    "concat + Substring": '@(context.Request.Url.Path.Substring(1, 6) + "-" + context.Api.Id)',
    "JSON body field": (
        '@(context.Request.Body.As<JObject>(preserveContent: true)["model"].ToString())'
    ),
    "choose condition": (
        "@(context.Response.StatusCode == 429 || context.Response.StatusCode >= 500)"
    ),
    "variables cast": (
        '@((int)context.Variables["remaining-tokens"] < (int)context.Variables["threshold"])'
    ),
    "null-conditional ??": '@(context.Subscription?.Id ?? "anonymous")',
    "interpolated": '@($"{context.Api.Id}/{context.Operation.Id}")',
    "LINQ lambda": '@(context.Request.Headers.Any(h => h.Key.StartsWith("x-")))',
    "@{ } block": """@{
        var tier = context.Request.Headers.GetValueOrDefault("x-tier", "bronze");
        int limit = 10;
        if (tier == "gold") { limit = 100; } else if (tier == "silver") { limit = 50; }
        return limit * 2;
    }""",
}


def prepared_context() -> ContextModel:
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    return ContextModel(
        Api=ApiModel(Id="azure-openai", Name="Azure OpenAI", Path="openai"),
        Operation=OperationModel(Id="ChatCompletions_Create", Name="Creates a completion"),
        Subscription=SubscriptionModel(Id="sub-1", Name="Team A", Key="k1"),
        Request=RequestModel(
            Method="POST",
            Url=UrlModel(Host="gw.example.com", Path="/openai/deployments/gpt-4o/chat"),
            Headers=HeaderDictionary(
                {
                    "User-Agent": "sdk/1.0",
                    "x-mode": "fast",
                    "x-tier": "silver",
                    "Content-Type": "application/json",
                }
            ),
            Body=MessageBody(body),
        ),
        Response=ResponseModel(StatusCode=429, StatusReason="Too Many Requests"),
        Variables={"remaining-tokens": 500, "threshold": 1000},
    )


def per_call_us(function: object, repeat: int) -> float:
    timer = timeit.Timer(function)  # type: ignore[arg-type]
    number, _ = timer.autorange()
    return min(timer.repeat(repeat, number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    context = prepared_context()
    print(f"{'expression':<22} {'interpreter µs':>15} {'closures µs':>12} {'speed-up':>9}")
    for label, source in EXPRESSIONS.items():
        expression = compile_expression(source)
        assert expression.evaluate(context) == expression.interpret(context), label
        old = per_call_us(lambda e=expression: e.interpret(context), args.repeat)
        new = per_call_us(lambda e=expression: e.evaluate(context), args.repeat)
        print(f"{label:<22} {old:>15.2f} {new:>12.2f} {old / new:>8.1f}x")


if __name__ == "__main__":
    main()
