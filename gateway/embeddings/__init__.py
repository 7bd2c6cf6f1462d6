"""Offline sentence embeddings for the semantic cache.

`MiniLM.load()` gives all-MiniLM-L6-v2 (384-d, cosine similarity) computed with numpy from
int8 weights shipped in this package: no service, no download at run time, no torch.
"""

from gateway.embeddings.minilm import MiniLM
from gateway.embeddings.wordpiece import WordPiece

__all__ = ["MiniLM", "WordPiece"]
