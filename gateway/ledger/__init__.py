"""The usage ledger: one record per LLM call, written off the request path to SQLite or
PostgreSQL, summed by `aigw usage` and compared with a provider's export by `aigw reconcile`
(docs/ledger.md)."""
