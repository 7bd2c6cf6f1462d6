"""Benchmark: the offline MiniLM embedder (gateway.embeddings).

    python bench/embedder.py [--short-runs 200] [--long-runs 50] [--threads 2] [--blas-threads N]

Prints:
- cold start, measured in fresh interpreters (3 runs): `import gateway.embeddings`, then
  `MiniLM.load()`, then the first `embed()`, and that process's peak RSS;
- p50/p99 latency of `embed()` for a ~50-token prompt and a ~500-token prompt (cut to its last
  256 tokens, as MiniLM always does), and how much of it is tokenising;
- embeddings per second, sequentially and from a thread pool (numpy releases the GIL);
- peak RSS of this process.

--blas-threads sets OPENBLAS_NUM_THREADS/OMP_NUM_THREADS before numpy is imported. Measured on
2 cores: with BLAS's own threads (the default) a 2-thread pool was slower than one thread
(~49 vs 64-72 short embeddings/s), with --blas-threads 1 it reached 79-87/s. So a gateway
that embeds from a thread pool should run BLAS single-threaded. No timing is asserted: the
numbers vary by +-30 % on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SHORT = (
    "You are a helpful assistant. A customer writes: I changed my phone and the authenticator "
    "app no longer works, so I cannot log in to the billing portal. How do I reset my "
    "two-factor authentication and get back into my account?"
)
LONG = (
    " ".join(
        f"Clause {i}: the supplier shall deliver the goods listed in schedule {i} within thirty days, "
        "and the buyer shall pay each invoice within sixty days of receipt."
        for i in range(1, 16)
    )
    + " Question: which clause covers the payment terms, and how long does the buyer have?"
)

COLD = """
import json, resource, sys, time
t0 = time.perf_counter()
from gateway.embeddings import MiniLM
t1 = time.perf_counter()
model = MiniLM.load()
t2 = time.perf_counter()
model.embed("How do I reset my password?")
t3 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "first": t3 - t2, "total": t3 - t0, "rss": rss}))
"""


def cold_start(env: dict[str, str]) -> list[dict[str, float]]:
    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", COLD],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return runs


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1e3, p99 * 1e3


def main() -> int:
    parser = argparse.ArgumentParser(description="Benchmark the offline MiniLM embedder.")
    parser.add_argument("--short-runs", type=int, default=200)
    parser.add_argument("--long-runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--blas-threads", type=int)
    args = parser.parse_args()
    if args.blas_threads:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(args.blas_threads)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    sys.path.insert(0, str(ROOT))

    runs = cold_start(env)
    from gateway.embeddings import MiniLM

    model = MiniLM.load()
    short_tokens = len(model.tokenizer.encode(SHORT)) + 2
    long_tokens = len(model.tokenizer.encode(LONG)) + 2
    print(
        f"cpu count {os.cpu_count()}, load avg {os.getloadavg()[0]:.2f}, blas threads "
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'default')}"
    )
    print("\ncold start (fresh interpreter; import + load + first embed):")
    for r in runs:
        print(
            f"  total {r['total'] * 1e3:6.0f} ms = import {r['import'] * 1e3:4.0f} + load "
            f"{r['load'] * 1e3:4.0f} + first embed {r['first'] * 1e3:4.0f};  peak RSS {r['rss']:.0f} MB"
        )

    print("\nlatency of embed():")
    results = {}
    for label, text, n, tokens in (
        ("short", SHORT, args.short_runs, short_tokens),
        ("long", LONG, args.long_runs, long_tokens),
    ):
        model.embed(text)
        samples = []
        for _ in range(n):
            t0 = time.perf_counter()
            model.embed(text)
            samples.append(time.perf_counter() - t0)
        tok = []
        for _ in range(20):
            model.tokenizer.clear_cache()  # as for text never seen before
            t0 = time.perf_counter()
            model.token_ids(text)
            tok.append(time.perf_counter() - t0)
        p50, p99 = percentiles(samples)
        results[label] = p50
        used = min(tokens, MiniLM.max_tokens)
        print(
            f"  {label:5s} {tokens:4d} tokens (embeds {used}): p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
            f"  (tokenising {statistics.median(tok) * 1e3:.2f} ms)  = {1e3 / p50:5.1f}/s sequential"
        )

    print(f"\nthroughput with a pool of {args.threads} threads:")
    for label, text, count in (("short", SHORT, 120), ("long", LONG, 30)):
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(model.embed, [text] * args.threads))
            t0 = time.perf_counter()
            list(pool.map(model.embed, [text] * count))
            elapsed = time.perf_counter() - t0
        print(f"  {label:5s} {count / elapsed:6.1f} embeddings/s")
    batch = [f"{SHORT} (variant {i})" for i in range(64)]
    model.embed_many(batch[:4])
    t0 = time.perf_counter()
    model.embed_many(batch)
    print(
        f"  short, embed_many of 64 in one thread: {64 / (time.perf_counter() - t0):6.1f} embeddings/s"
    )

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS of this process: {rss:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
