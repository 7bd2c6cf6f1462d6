"""Response caches: exact and semantic."""
