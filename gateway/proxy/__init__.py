"""The proxy: serves the compiled policies over HTTP (the web framework lives only here)."""
