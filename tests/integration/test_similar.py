"""Similar-run search: the vector-store contract on the embedded store and on a real Weaviate
server, the runs a follower indexes as they complete, and a Weaviate that is down."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from uuid import uuid4

import numpy as np
import pytest

from adapters.embeddings import DIMENSIONS, MiniLMEmbedder, WordEmbedder
from adapters.vectors_sql import SqlVectorStore
from adapters.vectors_weaviate import WeaviateStore
from altlas.bootstrap import System
from application.ports import (
    IndexedRun,
    SearchWarmingError,
    VectorStore,
    VectorStoreUnavailableError,
)
from application.similar import SimilarRuns
from projections.schema import run_vectors
from projections.store import open_engine
from testkit.backends import SQLiteBackend
from testkit.helpers import plan, step

WEAVIATE = os.environ.get("ALTLAS_TEST_WEAVIATE", "http://127.0.0.1:58080")
WEAVIATE_GRPC = int(os.environ.get("ALTLAS_TEST_WEAVIATE_GRPC", "58051"))


def unit(*values: float) -> np.ndarray:
    v = np.zeros(DIMENSIONS, dtype=np.float32)
    v[:len(values)] = values
    return v / np.linalg.norm(v)


def run(name: str, outcome: str = "succeeded", environment: str | None = "prod") -> IndexedRun:
    return IndexedRun(str(uuid4()), str(uuid4()), f"ssh:{name}", outcome, environment)


class VectorStoreContract:
    def test_the_nearest_come_first_and_filters_hold(self, store: VectorStore) -> None:
        restart, status, failed, staging = (run("restart"), run("status"),
                                            run("restart", "failed"),
                                            run("restart", environment="staging"))
        store.add([restart, status, failed, staging],
                  np.stack([unit(1, 0), unit(0, 1), unit(1, 0.1), unit(1, 0.2)]))
        assert store.count() == 4
        found = store.near(unit(1, 0.05), 2)
        assert {n.run for n in found} == {restart, failed}
        assert found[0].score >= found[1].score and found[0].score > 0.99
        ok_prod = store.near(unit(1, 0.05), 5, environment="prod", outcome="succeeded")
        assert [n.run for n in ok_prod] == [restart, status]
        assert store.near(unit(1, 0), 3, environment="dev") == []

    def test_a_run_added_again_is_replaced_not_doubled(self, store: VectorStore) -> None:
        first = run("restart")
        store.add([first], np.stack([unit(1, 0)]))
        store.add([first], np.stack([unit(0, 1)]))
        assert store.count() == 1
        [near] = store.near(unit(0, 1), 3)
        assert near.run == first and near.score > 0.99

    def test_removing_a_task_forgets_its_runs_only(self, store: VectorStore) -> None:
        gone, kept = run("restart"), run("status")
        store.add([gone, kept], np.stack([unit(1, 0), unit(0, 1)]))
        store.remove([gone.task_id])
        assert store.count() == 1
        assert [n.run for n in store.near(unit(1, 0), 3)] == [kept]

    def test_clear_forgets_everything(self, store: VectorStore) -> None:
        store.add([run("a"), run("b")], np.stack([unit(1), unit(0, 1)]))
        store.clear()
        assert store.count() == 0 and store.near(unit(1), 3) == []


def sql_store(url: str) -> Iterator[VectorStore]:
    engine = open_engine(url)
    run_vectors.create(engine)
    yield SqlVectorStore(engine, DIMENSIONS, "test")
    engine.dispose()


class TestEmbeddedStore(VectorStoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[VectorStore]:
        yield from sql_store(f"sqlite:///{tmp_path / 'views.sqlite3'}")


class TestEmbeddedStoreOnPostgres(VectorStoreContract):
    @pytest.fixture
    def store(self, postgres_url: str, pg_schema: str) -> Iterator[VectorStore]:
        yield from sql_store(f"{postgres_url}?schema={pg_schema}")


class TestWeaviateStore(VectorStoreContract):
    """Against the Weaviate server scripts/services.sh builds from its Go module."""

    @pytest.fixture
    def store(self) -> Iterator[VectorStore]:
        store = WeaviateStore(WEAVIATE, WEAVIATE_GRPC, f"Test{uuid4().hex[:12]}", "test")
        yield store
        store.drop()


def test_weaviate_down_is_said_not_replaced() -> None:
    store = WeaviateStore("http://127.0.0.1:9", 10, "AltlasRuns", "test", timeout_seconds=2)
    with pytest.raises(VectorStoreUnavailableError) as down:
        store.near(unit(1), 3)
    assert str(down.value).startswith(
        "Weaviate at http://127.0.0.1:9 (gRPC port 10) cannot be used: ")


def test_minilm_puts_paraphrases_nearer_than_other_requests(tmp_path: Path) -> None:
    embedder = MiniLMEmbedder(tmp_path)
    restart, bounce, disk = embedder.embed(["restart nginx on web-1",
                                            "bounce the nginx service on web-2",
                                            "how full is the disk on db-1"])
    assert restart.shape == (DIMENSIONS,) and abs(float(np.linalg.norm(restart)) - 1) < 1e-4
    assert float(restart @ bounce) > float(restart @ disk) + 0.2


def test_words_share_words() -> None:
    restart, again, disk = WordEmbedder().embed(["restart nginx on web-1",
                                                 "please restart nginx on web-2",
                                                 "disk usage of db-1"])
    assert float(restart @ again) > 0.5 > float(restart @ disk)


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = SQLiteBackend(tmp_path).open()
    yield system
    system.close()


def asked(system: System, request: str, action: str) -> str:
    """A task asked in words, planned by hand, run: its task id."""
    task = system.app.submit_plan(request, plan(step("s1", action=action)), "deniz")
    system.worker().until_quiet()
    return task.id


def test_completed_runs_are_indexed_once_and_found_by_meaning(system: System) -> None:
    similar = system.similar()
    disk = asked(system, "check free disk space on the altlas host", "df -h /")
    asked(system, "what is the load average of the altlas host", "uptime")
    assert similar.catch_up() == 2
    assert similar.catch_up() == 0  # nothing new: nothing indexed twice
    found = similar.search("how much space is left on the disks", 1)
    assert [f.task_id for f in found] == [disk]
    assert found[0].request == "check free disk space on the altlas host"
    assert found[0].plan["steps"][0]["action"] == "df -h /"
    assert found[0].pattern == "local:disk" and found[0].outcome == "succeeded"
    assert system.similar().reindex() == 2
    assert similar.store.count() == 2


def test_a_forgotten_persons_runs_leave_the_index(system: System) -> None:
    similar = system.similar()
    theirs = system.app.submit_plan("check free disk space on the altlas host",
                                    plan(step("s1", action="df -h /")), "alice")
    asked(system, "check the free disk space here", "df -h /tmp")
    system.worker().until_quiet()
    assert similar.catch_up() == 2
    erasure = system.app.request_erasure(system.app.privacy.pseudonym("alice"), "erin",
                                         "left the company")
    system.use_cases().vote("bob", erasure.id)
    system.worker().until_quiet()
    similar.catch_up()
    assert similar.store.count() == 1  # the vector of her request is gone, not just hidden
    assert theirs.id not in [f.task_id for f in similar.search("disk space", 3)]


class SlowToLoad(WordEmbedder):
    """Hashed words that take a moment to be ready the first time, like a model loading."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.release.wait(10)
        return super().embed(texts)


def test_a_search_while_the_model_loads_is_told_to_come_back_not_kept_waiting(
    system: System,
) -> None:
    embedder = SlowToLoad()
    similar = SimilarRuns(system.app, system.history, embedder, system.similar().store,
                          system.reads().tasks_requested_by)
    warming = threading.Thread(target=similar.warm)
    warming.start()
    deadline = time.monotonic() + 5
    while not similar._warming.is_set():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    with pytest.raises(SearchWarmingError, match="still loading"):
        similar.search("restart nginx")
    embedder.release.set()
    warming.join(10)
    assert similar.search("restart nginx") == []  # ready: nothing indexed yet
