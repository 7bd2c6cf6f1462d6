"""What every layer may use and that knows nothing of the gateway: diagnostics, literals,
nearest-name suggestions, fast JSON, YAML loading."""
