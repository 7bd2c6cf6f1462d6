"""Embeddings for the semantic caches: from a backend, or from the embedder the gateway ships.

`embeddings-backend-id` names a backend (as in APIM: its URL is the whole embeddings URL,
called with its credentials) or an entry of gateway.yaml's `embedders`:

    embedders:
      local: {builtin: minilm-l6-v2}              # offline, in the gateway's own threads
      small: {backend: openai, model: text-embedding-3-small, dimensions: 256}

Whatever cannot be embedded (the backend fails or is slow, the local queue is full) is a cache
miss, never an error: the request goes on to the model.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.config.settings import GatewayConfig
from gateway.runtime.services import BackendCalls

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("aigw.embeddings")

BACKEND_TIMEOUT = 5.0  # seconds; a slower embedding is a miss
# One thread: numpy's BLAS already spreads each product over the cores; two Python threads
# over a multi-threaded BLAS measured slower (49 vs 64-72 short embeddings/s on 2 cores).
LOCAL_WORKERS = 1
LOCAL_QUEUE = 64  # embeddings waiting for a thread; beyond it a request is a miss
WARN_EVERY = 60.0


@dataclass(frozen=True, slots=True)
class EmbedderSpec:
    name: str
    builtin: str | None = None
    backend: str | None = None
    model: str | None = None
    dimensions: int | None = None

    @property
    def identity(self) -> str:
        """What a partition records, so vectors of different embedders never mix."""
        return f"{self.builtin or self.backend}:{self.model or ''}:{self.dimensions or ''}"


class LocalEmbedder:
    """The shipped MiniLM, run in a small thread pool with a bounded queue."""

    def __init__(self) -> None:
        from gateway.embeddings.minilm import MiniLM

        self.model = MiniLM.load()
        self.pool = ThreadPoolExecutor(LOCAL_WORKERS, thread_name_prefix="aigw-embed")
        self.waiting = 0

    async def embed(self, text: str) -> np.ndarray | None:
        if self.waiting >= LOCAL_QUEUE:
            return None  # busy: a miss now beats a slow response
        self.waiting += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self.pool, self.model.embed, text
            )
        finally:
            self.waiting -= 1

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class GatewayEmbeddings:
    def __init__(
        self,
        config: GatewayConfig,
        backend_calls: BackendCalls,
        local: LocalEmbedder | None = None,  # the one loaded before a reload, if any
    ) -> None:
        self.backend_calls = backend_calls
        self.specs = {name: EmbedderSpec(name, backend=name) for name in config.backends}
        for name, entry in config.embedders.items():
            self.specs[name] = EmbedderSpec(
                name,
                builtin=entry.builtin,
                backend=entry.backend,
                model=entry.model,
                dimensions=entry.dimensions,
            )
        # Loaded at start (a fraction of a second), not on the first request that needs it.
        uses_builtin = any(spec.builtin for spec in self.specs.values())
        self.local = (local or LocalEmbedder()) if uses_builtin else None
        self._warned = -WARN_EVERY

    def identity(self, name: str) -> str | None:
        spec = self.specs.get(name)
        return spec.identity if spec is not None else None

    async def embed(self, name: str, text: str) -> np.ndarray | None:
        spec = self.specs.get(name)
        if spec is None:
            return None
        if spec.builtin:
            return await self.local.embed(text) if self.local is not None else None
        try:
            return await self._remote(spec, text)
        except Exception as error:  # any failure is a miss: the cache never fails a request
            if time.monotonic() - self._warned > WARN_EVERY:
                self._warned = time.monotonic()
                log.warning("embeddings from '%s' failed; caching skipped: %s", name, error)
            return None

    async def _remote(self, spec: EmbedderSpec, text: str) -> np.ndarray | None:
        body: dict[str, Any] = {"input": text, "encoding_format": "base64"}
        if spec.model:
            body["model"] = spec.model
        if spec.dimensions:
            body["dimensions"] = spec.dimensions
        assert spec.backend is not None
        status, raw = await self.backend_calls.post_json(
            spec.backend, json.dumps(body).encode(), BACKEND_TIMEOUT
        )
        if status != 200:
            raise RuntimeError(f"the embeddings backend answered {status}")
        embedding = json.loads(raw)["data"][0]["embedding"]
        # Not at the top: every gateway has its GatewayEmbeddings, only one with a semantic
        # cache embeds, and its llm-semantic-cache-lookup loaded numpy at load (a dict lookup).
        import numpy as np

        if isinstance(embedding, str):  # base64 of little-endian float32s
            vector = np.frombuffer(base64.b64decode(embedding), dtype="<f4").astype(np.float32)
        else:
            vector = np.asarray(embedding, dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else None

    def close(self) -> None:
        if self.local is not None:
            self.local.close()
