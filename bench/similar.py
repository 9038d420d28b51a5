"""Similar-run search, against baselines measured in the same run.

  retrieval  hit@3 on the labelled requests: the `dev` file's plans stored as successful
             runs, each `test` request (frozen, never tuned on) asks for 3; a hit when one
             of them has the pattern of the request's own labelled plan. MiniLM and hashed
             words in the embedded store, MiniLM in Weaviate, against the word overlap
             (Jaccard) the segmenter used before. The dev file against itself (leaving the
             request out) is reported too: the set the rules were tuned on.
  latency    p50/p99 of a near-vector query at 10,000 and 100,000 stored runs, embedded
             (exact, numpy) vs Weaviate (HNSW), and the import rate.
  throughput requests embedded a second: MiniLM (int8, onnxruntime) vs hashed words.

    python bench/similar.py [--only retrieval,latency,throughput] [--queries 200]

Needs the `search` extra and, for the Weaviate rows, the Weaviate of scripts/services.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from uuid import uuid4

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from adapters.embeddings import DIMENSIONS, MiniLMEmbedder, WordEmbedder
from adapters.vectors_sql import SqlVectorStore
from adapters.vectors_weaviate import WeaviateStore
from application.ports import Embedder, IndexedRun, VectorStore
from domain.atlas import pattern_of, percentile
from domain.plan import PlanError
from projections.schema import run_vectors
from projections.store import open_engine

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
WEAVIATE = os.environ.get("ALTLAS_TEST_WEAVIATE", "http://127.0.0.1:58080")
WEAVIATE_GRPC = int(os.environ.get("ALTLAS_TEST_WEAVIATE_GRPC", "58051"))
_WORD = re.compile(r"[\w-]+", re.UNICODE)


def labelled(name: str) -> list[tuple[str, str]]:
    """(request, pattern of its labelled plan) for the entries that expect a plan."""
    out = []
    for entry in json.loads((DATA / f"segmentation_{name}.json").read_text())["requests"]:
        if entry.get("expect") != "plan":
            continue
        try:
            out.append((entry["request"], pattern_of({"alt": 1, "steps": entry["steps"]}).key))
        except PlanError:
            continue
    return out


def jaccard(a: str, b: str) -> float:
    """The word overlap the segmenter picked examples by before the similar-run search."""
    wa, wb = set(_WORD.findall(a.lower())), set(_WORD.findall(b.lower()))
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0


def sql_store(tmp: Path, embedder: str) -> VectorStore:
    engine = open_engine(f"sqlite:///{tmp / f'{uuid4().hex}.sqlite3'}")
    run_vectors.create(engine)
    return SqlVectorStore(engine, DIMENSIONS, embedder)


def hits(found: Sequence[Sequence[str]], wanted: Sequence[str]) -> float:
    return sum(w in f for f, w in zip(found, wanted, strict=True)) / len(wanted)


def by_store(store: VectorStore, embedder: Embedder, history: list[tuple[str, str]],
             asked: list[tuple[str, str]], leave_out: bool) -> float:
    runs = [IndexedRun(str(i), str(i), pattern, "succeeded", "prod")
            for i, (_, pattern) in enumerate(history)]
    store.add(runs, embedder.embed([r for r, _ in history]))
    vectors = embedder.embed([r for r, _ in asked])
    found = []
    for i, vector in enumerate(vectors):
        near = store.near(vector, 4 if leave_out else 3, outcome="succeeded")
        patterns = [n.run.pattern for n in near if not (leave_out and n.run.run_id == str(i))]
        found.append(patterns[:3])
    return hits(found, [p for _, p in asked])


def by_overlap(history: list[tuple[str, str]], asked: list[tuple[str, str]],
               leave_out: bool) -> float:
    found = []
    for i, (request, _) in enumerate(asked):
        ranked = sorted(((jaccard(request, r), j, p) for j, (r, p) in enumerate(history)
                         if not (leave_out and j == i)), key=lambda t: (-t[0], t[1]))
        found.append([p for _, _, p in ranked[:3]])
    return hits(found, [p for _, p in asked])


def retrieval(tmp: Path, minilm: Embedder) -> None:
    dev, test = labelled("dev"), labelled("test")
    words = WordEmbedder()
    rows: list[tuple[str, float, float]] = [
        ("word overlap (Jaccard, before)", by_overlap(dev, dev, True), by_overlap(dev, test,
                                                                                 False))]
    for label, embedder, store in (
            ("hashed words, embedded store", words, lambda: sql_store(tmp, "words")),
            ("MiniLM, embedded store", minilm, lambda: sql_store(tmp, "minilm")),
            ("MiniLM, Weaviate", minilm, lambda: WeaviateStore(
                WEAVIATE, WEAVIATE_GRPC, f"Bench{uuid4().hex[:10]}", "minilm"))):
        scores = []
        for history, asked, leave_out in ((dev, dev, True), (dev, test, False)):
            made = store()
            scores.append(by_store(made, embedder, history, asked, leave_out))
            if isinstance(made, WeaviateStore):
                made.drop()
        rows.append((label, scores[0], scores[1]))
    print(f"\nretrieval: hit@3, {len(dev)} dev plans stored; dev against itself (left out) "
          f"and {len(test)} frozen test requests")
    print(f"{'retrieval':<34} {'dev':>6} {'test':>6} {'test vs before':>15}")
    for label, on_dev, on_test in rows:
        print(f"{label:<34} {on_dev:>6.0%} {on_test:>6.0%} {on_test / rows[0][2]:>14.2f}×")


def timed_queries(store: VectorStore, queries: np.ndarray) -> list[float]:
    took = []
    for q in queries:
        started = time.perf_counter()
        store.near(q, 3, outcome="succeeded")
        took.append((time.perf_counter() - started) * 1000)
    return took


def latency(tmp: Path, minilm: Embedder, queries: int) -> None:
    rng = np.random.default_rng(1)
    print(f"\nlatency: near-vector query, k=3, {queries} queries, random unit vectors")
    print(f"{'store':<22} {'runs':>8} {'import/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for size in (10_000, 100_000):
        vectors = rng.standard_normal((size, DIMENSIONS)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        runs = [IndexedRun(str(uuid4()), str(uuid4()), "ssh:restart nginx",
                           "succeeded" if i % 4 else "failed", "prod") for i in range(size)]
        asked = rng.standard_normal((queries, DIMENSIONS)).astype(np.float32)
        for label, store in (("embedded (numpy)", sql_store(tmp, "bench")),
                             ("Weaviate (HNSW)", WeaviateStore(
                                 WEAVIATE, WEAVIATE_GRPC, f"Bench{uuid4().hex[:10]}", "bench",
                                 timeout_seconds=120))):
            started = time.perf_counter()
            for i in range(0, size, 5000):
                store.add(runs[i:i + 5000], vectors[i:i + 5000])
            rate = size / (time.perf_counter() - started)
            timed_queries(store, asked[:5])  # warm: the embedded store loads its matrix
            took = timed_queries(store, asked)
            print(f"{label:<22} {size:>8} {rate:>9.0f} {statistics.median(took):>8.2f} "
                  f"{percentile(took, 0.99) or 0:>8.2f}")
            if isinstance(store, WeaviateStore):
                store.drop()


def throughput(minilm: Embedder) -> None:
    texts = [r for r, _ in labelled("dev")] * 3
    print(f"\nembedding throughput ({len(texts)} requests, 2 cores)")
    for embedder in (minilm, WordEmbedder()):
        embedder.embed(texts[:10])
        started = time.perf_counter()
        embedder.embed(texts)
        print(f"{embedder.name:<22} {len(texts) / (time.perf_counter() - started):>9.0f} "
              "requests/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="retrieval,latency,throughput")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    parts = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        minilm = MiniLMEmbedder(Path(tmp))
        steps: dict[str, Callable[[], None]] = {
            "retrieval": lambda: retrieval(Path(tmp), minilm),
            "latency": lambda: latency(Path(tmp), minilm, args.queries),
            "throughput": lambda: throughput(minilm)}
        for name, step in steps.items():
            if name in parts:
                step()
    return 0


if __name__ == "__main__":
    sys.exit(main())
