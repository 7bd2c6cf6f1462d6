"""The circuit breaker the pool and affinity tests give their members: one 5xx opens it."""

from __future__ import annotations

from gateway.config.backends import BreakerRule, CircuitBreaker, FailureCondition

OPENS_ON_A_5XX = CircuitBreaker(
    rules=(
        BreakerRule(
            failure_condition=FailureCondition(
                interval=60, count=1, status_code_ranges=((500, 599),)
            ),
            trip_duration=60,
        ),
    )
)
