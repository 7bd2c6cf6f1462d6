"""Tokens as a unit: what providers report (usage) and what a prompt will cost (tokenizer)."""
