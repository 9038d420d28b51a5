"""Weaviate as the vector store, through weaviate-client v4: one collection of runs with the
vectors altlas computes (no vectorizer module), batch import, near-vector queries filtered
by environment and outcome. When Weaviate cannot be reached the search says so
(VectorStoreUnavailableError); the embedded store is never put in its place."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from application.ports import IndexedRun, NearRun, VectorStoreUnavailableError

_PROPERTIES = ("run_id", "task_id", "pattern", "outcome", "environment", "embedder")


class WeaviateStore:
    name = "weaviate"

    def __init__(self, url: str, grpc_port: int, collection: str, embedder: str,
                 timeout_seconds: float = 10.0) -> None:
        self._embedder = embedder  # the vectors of other embedders are not comparable
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or (443 if parts.scheme == "https" else 8080)
        self._secure = parts.scheme == "https"
        self._grpc_port = grpc_port
        self._collection = collection
        self._timeout = timeout_seconds
        self._client: Any = None
        self._lock = threading.Lock()
        self._where = f"Weaviate at {url} (gRPC port {grpc_port})"

    @contextmanager
    def _runs(self) -> Iterator[Any]:
        """The collection, the client connected (and the collection made) on first use;
        every failure of the server or the network becomes VectorStoreUnavailableError."""
        import weaviate
        from weaviate.exceptions import WeaviateBaseError

        try:
            with self._lock:
                if self._client is None:
                    self._client = self._connect(weaviate)
            yield self._client.collections.get(self._collection)
        except (WeaviateBaseError, OSError) as e:
            self._drop()
            reason = str(e).splitlines()[0][:300] if str(e) else type(e).__name__
            raise VectorStoreUnavailableError(f"{self._where} cannot be used: {reason}") from None

    def _connect(self, weaviate: Any) -> Any:
        from weaviate.classes.config import Configure, DataType, Property
        from weaviate.classes.init import AdditionalConfig, Timeout

        client = weaviate.connect_to_custom(
            http_host=self._host, http_port=self._port, http_secure=self._secure,
            grpc_host=self._host, grpc_port=self._grpc_port, grpc_secure=self._secure,
            additional_config=AdditionalConfig(timeout=Timeout(
                init=self._timeout, query=self._timeout, insert=self._timeout * 3)))
        try:
            if not client.collections.exists(self._collection):
                client.collections.create(
                    self._collection,
                    properties=[Property(name=p, data_type=DataType.TEXT, skip_vectorization=True)
                                for p in _PROPERTIES],
                    vector_config=Configure.Vectors.self_provided())
        except Exception:
            client.close()
            raise
        return client

    def _drop(self) -> None:
        with self._lock:
            if self._client is not None:
                try:
                    self._client.close()
                finally:
                    self._client = None

    def add(self, runs: Sequence[IndexedRun], vectors: Any) -> None:
        if not runs:
            return
        from weaviate.util import generate_uuid5

        with self._runs() as collection:
            with collection.batch.fixed_size(batch_size=200) as batch:
                for run, vector in zip(runs, vectors, strict=True):
                    batch.add_object(properties={**_properties(run),
                                                 "embedder": self._embedder},
                                     uuid=generate_uuid5(f"{self._embedder}:{run.run_id}"),
                                     vector=[float(x) for x in vector])
            failed = collection.batch.failed_objects
            if failed:
                raise VectorStoreUnavailableError(
                    f"{self._where} refused {len(failed)} of {len(runs)} runs: "
                    f"{failed[0].message}")

    def near(self, vector: Any, k: int, *, environment: str | None = None,
             outcome: str | None = None) -> list[NearRun]:
        from weaviate.classes.query import Filter, MetadataQuery

        where = Filter.by_property("embedder").equal(self._embedder)
        for name, value in (("environment", environment), ("outcome", outcome)):
            if value is not None:
                where = where & Filter.by_property(name).equal(value)
        with self._runs() as collection:
            found = collection.query.near_vector(
                near_vector=[float(x) for x in vector], limit=k, filters=where,
                return_metadata=MetadataQuery(distance=True))
        return [NearRun(IndexedRun(o.properties["run_id"], o.properties["task_id"],
                                   o.properties["pattern"], o.properties["outcome"],
                                   o.properties.get("environment") or None),
                        1.0 - float(o.metadata.distance or 0.0))
                for o in found.objects]

    def count(self) -> int:
        from weaviate.classes.query import Filter

        with self._runs() as collection:
            return int(collection.aggregate.over_all(
                total_count=True, filters=Filter.by_property("embedder").equal(self._embedder)
            ).total_count or 0)

    def clear(self) -> None:
        from weaviate.classes.query import Filter

        with self._runs() as collection:
            collection.data.delete_many(
                where=Filter.by_property("embedder").equal(self._embedder))

    def remove(self, task_ids: Sequence[str]) -> None:
        if not task_ids:
            return
        from weaviate.classes.query import Filter

        with self._runs() as collection:
            collection.data.delete_many(where=(
                Filter.by_property("embedder").equal(self._embedder)
                & Filter.by_property("task_id").contains_any(list(task_ids))))

    def drop(self) -> None:
        """Delete the whole collection (every embedder's runs)."""
        with self._runs():
            self._client.collections.delete(self._collection)
        self._drop()

    def close(self) -> None:
        self._drop()


def _properties(run: IndexedRun) -> dict[str, str]:
    return {"run_id": run.run_id, "task_id": run.task_id, "pattern": run.pattern,
            "outcome": run.outcome, "environment": run.environment or ""}
