"""Where requests go: backend pools, circuit breakers."""
