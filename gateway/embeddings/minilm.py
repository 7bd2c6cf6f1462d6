"""all-MiniLM-L6-v2 sentence embeddings, computed offline with numpy only.

The weights ship inside the package (int8 per row with float32 row scales, plus 1.4 % of
outlier weights kept exactly; made by tools/convert_minilm.py) together with the model's
vocab.txt, so a fresh machine embeds without a service, a download or torch. Vectors have a
cosine >= 0.9995 to the fp32 model's. The forward pass is BERT (6 layers, 384 wide, 12
heads) followed by mean pooling over real tokens and L2 normalisation, exactly what
sentence-transformers does for this model.

Performance notes, because they are easy to undo by accident:
- Every activation stays float32. Scalars are Python floats: an np.float64 scalar such as
  `1 / np.sqrt(head_dim)` silently promotes whole arrays to float64 and doubles the latency.
- The attention scale is folded into the query weights once, and Q, K and V are one matmul.
- numpy releases the GIL inside BLAS and ufuncs, so embedding in a thread pool does not block an
  event loop. A loaded MiniLM is read-only apart from the tokenizer's word cache, which is safe
  to share between threads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import ClassVar

import numpy as np

from gateway.embeddings.wordpiece import WordPiece

NPZ_NAME = "minilm-l6-v2-int8.npz"
VOCAB_NAME = "vocab.txt"
# How a quantised matrix NAME is stored: NAME.int8 (rows x cols), NAME.scale (one float32 per
# row) and NAME.outlier_index / NAME.outlier_value (flat positions and exact float32 values).
_PARTS = frozenset(("scale", "outlier_index", "outlier_value"))

_HIDDEN = 384
_HEADS = 12
_HEAD_DIM = _HIDDEN // _HEADS
_EPS = 1e-12
# Padded keys get this added to their attention scores; exp() of it is exactly 0 in float32.
_MASKED = -1e30

# GELU with erf, via Abramowitz & Stegun 7.1.26 (|error of erf| <= 1.5e-7):
#   erf(z) = 1 - P(t) exp(-z^2), t = 1 / (1 + p z), z = |x| / sqrt(2), so
#   gelu(x) = x * (1 + erf(x / sqrt 2)) / 2 = relu(x) - |x| * P(t) * exp(-x^2 / 2) / 2.
# The 1/2 and 1/sqrt(2) are folded into the constants. Python floats on purpose (see above).
_P_OVER_SQRT2 = 0.3275911 / 2.0**0.5
_A = tuple(0.5 * a for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact-erf GELU to ~1e-7, in place on a float32 array (returned for convenience)."""
    a = np.abs(x)
    t = a * _P_OVER_SQRT2
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * _A[4]
    for coef in (_A[3], _A[2], _A[1], _A[0]):
        poly += coef
        poly *= t
    e = np.square(x)
    e *= -0.5
    np.exp(e, out=e)
    poly *= e
    poly *= a
    np.maximum(x, 0.0, out=x)
    x -= poly
    return x


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    x -= x.mean(axis=-1, keepdims=True)
    var = np.square(x).mean(axis=-1, keepdims=True)
    var += _EPS
    np.sqrt(var, out=var)
    x /= var
    x *= gamma
    x += beta
    return x


class _Layer:
    """One encoder layer's weights, kept (out, in) as in the checkpoint and used as `h @ w.T`:
    BLAS reads the transpose for free, so loading copies nothing it does not have to."""

    __slots__ = ("b1", "b2", "bo", "bqkv", "ln1", "ln2", "w1", "w2", "wo", "wqkv")

    def __init__(self, w: Mapping[str, np.ndarray], prefix: str) -> None:
        def get(name: str) -> np.ndarray:
            return np.asarray(w[prefix + name], dtype=np.float32)

        scale = 1.0 / _HEAD_DIM**0.5  # Python float: keeps everything float32
        self.wqkv = np.concatenate(
            [
                get("attention.self.query.weight") * scale,
                get("attention.self.key.weight"),
                get("attention.self.value.weight"),
            ]
        )
        self.bqkv = np.concatenate(
            [
                get("attention.self.query.bias") * scale,
                get("attention.self.key.bias"),
                get("attention.self.value.bias"),
            ]
        )
        self.wo = get("attention.output.dense.weight")
        self.bo = get("attention.output.dense.bias")
        self.ln1 = (
            get("attention.output.LayerNorm.weight"),
            get("attention.output.LayerNorm.bias"),
        )
        self.w1 = get("intermediate.dense.weight")
        self.b1 = get("intermediate.dense.bias")
        self.w2 = get("output.dense.weight")
        self.b2 = get("output.dense.bias")
        self.ln2 = (get("output.LayerNorm.weight"), get("output.LayerNorm.bias"))


class MiniLM:
    """sentence-transformers/all-MiniLM-L6-v2, int8 weights dequantised to float32 at load."""

    name: ClassVar[str] = "minilm-l6-v2-int8"
    dimension: ClassVar[int] = _HIDDEN
    # sentence-transformers' max_seq_length for this model, [CLS] and [SEP] included.
    max_tokens: ClassVar[int] = 256
    # embed_many runs texts of similar length together, at most this many (padded) tokens per
    # batch. Small on purpose: measured on 2 cores, 256 beat 1024-4096 by 1.3-2x, because the
    # activations (tokens x 1536 floats) then stay in cache for the elementwise passes; only
    # short texts gain from batching at all.
    batch_tokens: ClassVar[int] = 256

    def __init__(
        self,
        word: np.ndarray,
        position: np.ndarray,
        token_type: np.ndarray,
        ln: tuple[np.ndarray, np.ndarray],
        layers: list[_Layer],
        tokenizer: WordPiece,
    ) -> None:
        self._word = word
        # Token type is always 0 for single sentences: fold it into the position table.
        self._position = np.ascontiguousarray(position + token_type[0])
        self._ln = ln
        self._layers = layers
        self.tokenizer = tokenizer

    @classmethod
    def from_weights(cls, w: Mapping[str, np.ndarray], tokenizer: WordPiece) -> MiniLM:
        """Build from float tensors named as in the Hugging Face BertModel checkpoint.

        load() uses it after dequantising; tools/convert_minilm.py feeds it the original fp32
        tensors to measure what the int8 weights cost.
        """

        def get(name: str) -> np.ndarray:
            return np.asarray(w[name], dtype=np.float32)

        if get("embeddings.word_embeddings.weight").shape[1] != _HIDDEN:
            raise ValueError("not a 384-wide MiniLM checkpoint")
        layers = []
        i = 0
        while f"encoder.layer.{i}.attention.self.query.weight" in w:
            layers.append(_Layer(w, f"encoder.layer.{i}."))
            i += 1
        return cls(
            get("embeddings.word_embeddings.weight"),
            get("embeddings.position_embeddings.weight"),
            get("embeddings.token_type_embeddings.weight"),
            (get("embeddings.LayerNorm.weight"), get("embeddings.LayerNorm.bias")),
            layers,
            tokenizer,
        )

    @classmethod
    def load(cls) -> MiniLM:
        """Load the weights and vocabulary shipped in gateway/embeddings/data (no network)."""
        data = resources.files("gateway.embeddings").joinpath("data")
        weights: dict[str, np.ndarray] = {}
        with data.joinpath(NPZ_NAME).open("rb") as fh, np.load(fh, allow_pickle=False) as npz:
            meta = json.loads(str(npz["__meta__"]))
            if meta.get("format") != 1:
                raise ValueError(f"unsupported {NPZ_NAME} format {meta.get('format')!r}")
            for key in npz.files:
                if key.endswith(".int8"):
                    name = key[: -len(".int8")]
                    # Dequantise once: row * scale, in float32 (both operands are float32),
                    # then put back the few outliers that were stored exactly.
                    w = npz[key].astype(np.float32)
                    w *= npz[name + ".scale"][:, None]
                    np.put(w, npz[name + ".outlier_index"], npz[name + ".outlier_value"])
                    weights[name] = w
                elif "." in key and key.rsplit(".", 1)[1] in _PARTS:
                    continue
                elif key != "__meta__":
                    weights[key] = npz[key]
        tokenizer = WordPiece.from_text(data.joinpath(VOCAB_NAME).read_text(encoding="utf-8"))
        return cls.from_weights(weights, tokenizer)

    def token_ids(self, text: str) -> list[int]:
        """[CLS] + at most 254 wordpieces + [SEP].

        A longer text keeps its LAST 254 wordpieces, not its first ones as sentence-transformers
        does: in a chat prompt the actual question is at the end, after context, documents and
        instructions, and two prompts that share a long preamble must not embed the same.
        """
        tok = self.tokenizer
        return [tok.cls_id, *tok.encode_tail(text, self.max_tokens - 2), tok.sep_id]

    def embed(self, text: str) -> np.ndarray:
        """L2-normalised float32 vector of shape (384,)."""
        return self.embed_many([text])[0]

    def embed_many(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, shape (len(texts), 384), in the order given."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("embed_many takes a list of strings (use embed for one)")
        out = np.empty((len(texts), _HIDDEN), dtype=np.float32)
        if not texts:
            return out
        ids = [self.token_ids(t) for t in texts]
        # Group texts of similar length so little padding is computed.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batch: list[int] = []
        for index in order:
            longest = len(ids[index])  # sorted, so this text is the batch's longest
            if batch and (len(batch) + 1) * longest > self.batch_tokens:
                out[batch] = self._forward([ids[i] for i in batch])
                batch = []
            batch.append(index)
        out[batch] = self._forward([ids[i] for i in batch])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        n = len(batch)
        length = max(len(ids) for ids in batch)
        tokens = np.zeros((n, length), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros((n, length), dtype=np.float32)
        for row, ids in enumerate(batch):
            tokens[row, : len(ids)] = ids
            mask[row, : len(ids)] = 1.0
        padded = bool(mask.min() == 0.0)

        h = self._word[tokens.reshape(-1)]
        h = h.reshape(n, length, _HIDDEN)
        h += self._position[:length]
        h = _layer_norm(h.reshape(n * length, _HIDDEN), *self._ln)
        # Additive attention bias, broadcast over heads and query positions.
        bias = ((1.0 - mask) * _MASKED)[:, None, None, :] if padded else None

        for layer in self._layers:
            qkv = h @ layer.wqkv.T
            qkv += layer.bqkv
            # (n*len, 3*384) -> 3 x (n, heads, len, head_dim)
            qkv = qkv.reshape(n, length, 3, _HEADS, _HEAD_DIM).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            scores = q @ k.transpose(0, 1, 3, 2)  # the 1/sqrt(d) scale is already in q
            if bias is not None:
                scores += bias
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n * length, _HIDDEN)
            attn = ctx @ layer.wo.T
            attn += layer.bo
            attn += h
            h = _layer_norm(attn, *layer.ln1)
            inner = h @ layer.w1.T
            inner += layer.b1
            ffn = gelu(inner) @ layer.w2.T
            ffn += layer.b2
            ffn += h
            h = _layer_norm(ffn, *layer.ln2)

        # Mean pooling over real tokens ([CLS] and [SEP] included, as sentence-transformers).
        h = h.reshape(n, length, _HIDDEN)
        if padded:
            h *= mask[:, :, None]
        pooled = h.sum(axis=1) / mask.sum(axis=1, keepdims=True)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return pooled.astype(np.float32, copy=False)
