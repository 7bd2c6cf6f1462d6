"""Translation between LLM provider APIs (OpenAI Chat Completions <-> Anthropic Messages)."""
