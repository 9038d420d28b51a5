"""The embedded vector store (the default): vectors in a table of the views database, searched
with numpy in the process. No server; one copy shared by every process of an installation.
Exact search: every stored vector is compared (bench/similar.py measures what it costs)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from application.ports import IndexedRun, NearRun
from projections.schema import run_vectors


class SqlVectorStore:
    name = "embedded"

    def __init__(self, engine: Engine, dimensions: int, embedder: str) -> None:
        self._engine = engine
        self._dimensions = dimensions
        self._embedder = embedder  # the vectors of other embedders are not comparable
        self._lock = threading.Lock()
        self._seen = -1  # the table's size when the matrix was loaded
        self._runs: list[IndexedRun] = []
        self._matrix = np.zeros((0, dimensions), dtype=np.float32)
        self._outcomes = np.array([], dtype=object)  # beside the matrix, for the filters
        self._environments = np.array([], dtype=object)

    def add(self, runs: Sequence[IndexedRun], vectors: Any) -> None:
        if not runs:
            return
        rows = [{"run_id": r.run_id, "embedder": self._embedder, "task_id": r.task_id,
                 "pattern": r.pattern,
                 "outcome": r.outcome, "environment": r.environment,
                 "vector": np.asarray(v, dtype=np.float32).tobytes()}
                for r, v in zip(runs, vectors, strict=True)]
        dialect = postgresql if self._engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(run_vectors)
        statement = statement.on_conflict_do_update(
            index_elements=[run_vectors.c.run_id, run_vectors.c.embedder],
            set_={c: statement.excluded[c] for c in ("pattern", "outcome", "environment",
                                                     "vector")})
        with self._engine.begin() as conn:
            conn.execute(statement, rows)
        with self._lock:
            self._seen = -1

    def near(self, vector: Any, k: int, *, environment: str | None = None,
             outcome: str | None = None) -> list[NearRun]:
        runs, matrix = self._loaded()
        if not runs:
            return []
        scores = matrix @ np.asarray(vector, dtype=np.float32)
        keep = np.ones(len(runs), dtype=bool)
        if environment is not None:
            keep &= self._environments == environment
        if outcome is not None:
            keep &= self._outcomes == outcome
        scores = np.where(keep, scores, -np.inf)
        k = min(k, int(keep.sum()))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [NearRun(runs[i], float(scores[i])) for i in best]

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(run_vectors).where(
                run_vectors.c.embedder == self._embedder)).scalar_one())

    def clear(self) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(run_vectors).where(run_vectors.c.embedder == self._embedder))
        with self._lock:
            self._seen = -1

    def remove(self, task_ids: Sequence[str]) -> None:
        if not task_ids:
            return
        with self._engine.begin() as conn:
            conn.execute(delete(run_vectors).where(run_vectors.c.embedder == self._embedder,
                                                   run_vectors.c.task_id.in_(list(task_ids))))
        with self._lock:
            self._seen = -1

    def _loaded(self) -> tuple[list[IndexedRun], np.ndarray]:
        """The stored vectors as one matrix, read again when the table has grown."""
        with self._lock:
            size = self.count()
            if size != self._seen:
                with self._engine.connect() as conn:
                    rows = conn.execute(select(run_vectors)
                                        .where(run_vectors.c.embedder == self._embedder)
                                        .order_by(run_vectors.c.run_id)).all()
                self._runs = [IndexedRun(r.run_id, r.task_id, r.pattern, r.outcome,
                                         r.environment) for r in rows]
                self._outcomes = np.array([r.outcome for r in rows], dtype=object)
                self._environments = np.array([r.environment for r in rows], dtype=object)
                self._matrix = (np.frombuffer(b"".join(r.vector for r in rows),
                                              dtype=np.float32).reshape(-1, self._dimensions)
                                if rows else np.zeros((0, self._dimensions), np.float32))
                self._seen = size
            return self._runs, self._matrix

