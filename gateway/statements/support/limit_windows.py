"""The windows llm-token-limit and llm-cost-limit count in: a minute, and the quota periods."""

from __future__ import annotations

from gateway.stores.counters import Window

MINUTE = Window(60)
QUOTA_WINDOWS = {
    "Hourly": Window(3600),
    "Daily": Window(86400),
    "Weekly": Window(7 * 86400, origin=-3 * 86400),  # weeks start on Monday, 00:00 UTC
    "Monthly": Window(0, calendar="month"),
    "Yearly": Window(0, calendar="year"),
}
QUOTA_PERIODS = tuple(QUOTA_WINDOWS)  # what a *-quota-period attribute may name
