"""Offline embeddings: the WordPiece tokenizer and the numpy MiniLM."""
