"""A history cut short together with everything beside it is caught by the witness.

Whoever can write the event store can usually write the views database too: deleting the
newest events and the views file (or the checkpoints and the projection positions) leaves
nothing in either that remembers how far the history went. The witness is told outside
them (a file in another directory; with Kafka, the topic), and `audit verify` fails naming
the missing range. What a witness cut short itself still shows, and what it cannot, is
pinned here as README "Events, Kafka and views" and ARCHITECTURE.md §9 say it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from streams.relay import relay_checkpoints, relay_positions
from testkit.backends import Backend, PostgresBackend, SQLiteBackend
from testkit.helpers import gated_plan, run_to_rest
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas
from tests.integration.conftest import (  # noqa: F401  (fixtures)
    kafka_bootstrap,
    pg_schema,
    postgres_url,
    topic_prefix,
)
from tests.integration.test_streams import kafka_settings, publish_all
from tests.security.gatehouse import auth, gatehouse

pytestmark = pytest.mark.long(60)  # seconds, about


# --- on either store, in process --------------------------------------------------------

class Store:
    """A backend with the attacker's hands: cut the store's end and what lies beside it."""

    def __init__(self, backend: Backend, witness: Path, views: Callable[[str], None],
                 drop_views: Callable[[], None]) -> None:
        self.backend, self.witness = backend, witness
        self.views, self.drop_views = views, drop_views

    def settings(self) -> Settings:
        return self.backend.settings().model_copy(update={"witness_file": self.witness})

    def open(self) -> System:
        return bootstrap(self.settings())

    def cut(self, keep: int) -> None:
        column = "rowid" if isinstance(self.backend, SQLiteBackend) else "notification_id"
        self.backend.execute(f"DELETE FROM {self.backend.events_table} WHERE {column} > %s",
                             keep)


def _sqlite(tmp_path: Path) -> Store:
    data = tmp_path / "data"
    data.mkdir()

    def views(sql: str) -> None:
        with sqlite3.connect(data / "views.sqlite3") as conn:
            conn.execute(sql)

    def drop() -> None:
        for side in ("", "-wal", "-shm"):
            (data / f"views.sqlite3{side}").unlink(missing_ok=True)

    return Store(SQLiteBackend(data), _witness_dir(tmp_path) / "altlas.jsonl", views, drop)


def _witness_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return _sqlite(tmp_path)
    url = request.getfixturevalue("postgres_url")
    schema = request.getfixturevalue("pg_schema")
    backend = PostgresBackend(url, schema)
    return Store(backend, _witness_dir(tmp_path) / "altlas.jsonl",
                 lambda sql: backend.execute(sql.replace(" store_checkpoints",
                                                         f" {schema}v.store_checkpoints")
                                             .replace(" projection_positions",
                                                      f" {schema}v.projection_positions")),
                 lambda: backend.execute(f"DROP SCHEMA {schema}v CASCADE"))


def _history(store: Store, tmp_path: Path) -> int:
    """A run and its approvals, applied to the views (the witness told); the store's end."""
    system = store.open()
    try:
        run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")), environment="prod")
        system.store_feed().catch_up()
        assert system.auditor().reports()[0].ok
        return system.history.last_position()
    finally:
        system.close()


def _verify(store: Store) -> list[str]:
    system = store.open()
    try:
        return system.auditor().reports()[0].problems
    finally:
        system.close()


def _missing(store: Store, seen: int, end: int) -> str:
    return (f"the witness file {store.witness} saw the history up to position {seen} but the "
            f"event store ends at position {end}: the events after position {end} up to "
            f"{seen} ({seen - end} events) are missing")


def test_a_tail_cut_with_the_views_fails_verify_naming_the_missing_range(
        store: Store, tmp_path: Path) -> None:
    total = _history(store, tmp_path)
    store.cut(total - 3)
    store.drop_views()
    problems = _verify(store)  # the start-up check has nothing to compare: it opens
    assert problems[0].startswith(_missing(store, total, total - 3))


def test_a_tail_cut_with_the_checkpoints_and_positions_fails_verify(
        store: Store, tmp_path: Path) -> None:
    total = _history(store, tmp_path)
    store.cut(total - 3)
    store.views("DELETE FROM store_checkpoints")
    store.views("DELETE FROM projection_positions")
    assert _verify(store)[0].startswith(_missing(store, total, total - 3))


def test_views_fed_again_after_the_cut_do_not_talk_the_witness_down(
        store: Store, tmp_path: Path) -> None:
    """The feed tells the witness the shorter head it rebuilt; the furthest still counts."""
    total = _history(store, tmp_path)
    store.cut(total - 3)
    store.drop_views()
    system = store.open()
    try:
        system.store_feed().catch_up()
    finally:
        system.close()
    assert json.loads(store.witness.read_text().splitlines()[-1])["position"] == total - 3
    assert _verify(store)[0].startswith(_missing(store, total, total - 3))
    system = bootstrap(store.settings(), check_store=False)
    try:
        assert system.auditor().accept_loss("test", "three were lost")["accepted"]
    finally:
        system.close()
    system = store.open()
    try:
        system.app.request_task("check disk on web-1", "deniz", environment="dev")
        system.store_feed().catch_up()  # the history goes on past the accepted end
        [report] = system.auditor().reports()
    finally:
        system.close()
    assert report.ok and "three were lost" in report.notes[0]


def test_a_witness_line_rewritten_to_match_a_forged_history_is_caught(
        store: Store, tmp_path: Path) -> None:
    _history(store, tmp_path)
    lines = store.witness.read_text().splitlines()
    first = json.loads(lines[0])
    lines[0] = json.dumps({**first, "running_hash": "0" * 64})
    store.witness.write_text("\n".join(lines) + "\n")
    assert any(p.startswith(f"checkpoint at position {first['position']} does not match")
               for p in _verify(store))


# --- what a witness cut short itself still shows -----------------------------------------

def test_a_witness_cut_in_the_middle_of_a_line_is_named(tmp_path: Path) -> None:
    store = _sqlite(tmp_path)
    _history(store, tmp_path)
    text = store.witness.read_bytes()
    store.witness.write_bytes(text[:-7])
    lines = len(text.splitlines())
    assert (f"witness file {store.witness}: line {lines} is not a checkpoint (cut short or "
            "written by something else)") in _verify(store)


def test_a_witness_cut_back_less_far_than_the_store_still_names_what_it_saw(
        tmp_path: Path) -> None:
    store = _sqlite(tmp_path)
    total = _history(store, tmp_path)
    lines = store.witness.read_text().splitlines(keepends=True)
    kept = [line for line in lines if json.loads(line)["position"] <= total - 1]
    store.witness.write_text("".join(kept))
    seen = json.loads(kept[-1])["position"]
    store.cut(seen - 2)
    store.drop_views()
    assert _verify(store)[0].startswith(_missing(store, seen, seen - 2))


@pytest.mark.parametrize("witness_cut", ["to the store's new end", "removed"])
def test_a_witness_cut_as_far_as_the_store_is_not_noticed(tmp_path: Path,
                                                          witness_cut: str) -> None:
    """The limit of the trust model: whoever can write the witness too can cut it with the
    store, and nothing is left that saw further. Keep it where the store's owner cannot
    write (another account, an append-only file, another host; with Kafka, the topic)."""
    store = _sqlite(tmp_path)
    total = _history(store, tmp_path)
    lines = store.witness.read_text().splitlines(keepends=True)
    if witness_cut == "removed":
        store.witness.unlink()
        end = total - 3
    else:
        store.witness.write_text(lines[0])
        end = json.loads(lines[0])["position"]
    store.cut(end)
    store.drop_views()
    assert _verify(store) == []


def test_a_witness_swapped_for_a_link_into_the_data_dir_is_not_written_through(
        tmp_path: Path) -> None:
    store = _sqlite(tmp_path)
    inside = tmp_path / "data" / "witness.jsonl"
    store.witness.symlink_to(inside)
    _history(store, tmp_path)  # the views go on, the feed logs the witness it cannot write
    assert not inside.exists()


# --- accepting the loss -------------------------------------------------------------------

@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    return {**clean, "ALTLAS_DATA_DIR": str(tmp_path / "data"),
            "ALTLAS_WITNESS_FILE": str(_witness_dir(tmp_path) / "altlas.jsonl")}


def _cut_demo(env: dict[str, str], keep: int) -> None:
    data = Path(env["ALTLAS_DATA_DIR"])
    with sqlite3.connect(data / "events.sqlite3") as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid > ?", (keep,))
    for side in ("", "-wal", "-shm"):
        (data / f"views.sqlite3{side}").unlink(missing_ok=True)


def test_the_cli_fails_verify_and_accepts_the_loss_only_when_told(env: dict[str, str]) -> None:
    assert altlas(env, "demo").returncode == 0
    assert altlas(env, "approvals").returncode == 0  # the views catch up: the witness told
    _cut_demo(env, 12)
    verified = altlas(env, "audit", "verify")
    assert verified.returncode == 1
    assert (f"the witness file {env['ALTLAS_WITNESS_FILE']} saw the history up to position 16 "
            "but the event store ends at position 12: the events after position 12 up to 16 "
            "(4 events) are missing") in verified.stdout
    asked = one_line_error(altlas(env, "audit", "accept-loss"))
    assert asked.startswith(f"altlas: the witness file {env['ALTLAS_WITNESS_FILE']} saw")
    done = altlas(env, "audit", "accept-loss", "--yes", "--reason", "disk died")
    assert done.returncode == 0, done.stderr
    report = json.loads(altlas(env, "audit", "verify", "--json").stdout)[0]
    assert report["ok"] and "the witness file" in report["notes"][0]
    assert "reason: disk died" in report["notes"][0]
    told = [json.loads(line) for line in Path(env["ALTLAS_WITNESS_FILE"]).read_text()
            .splitlines()]
    assert [t["position"] for t in told if "accepted" in t] == [12]


def test_a_witness_inside_the_data_dir_is_refused_however_it_is_spelled(
        env: dict[str, str], tmp_path: Path) -> None:
    data = Path(env["ALTLAS_DATA_DIR"])
    data.mkdir()
    (tmp_path / "link").symlink_to(data)
    for spelling in (data / "w.jsonl", tmp_path / "elsewhere" / ".." / "data" / "w.jsonl",
                     tmp_path / "link" / "w.jsonl"):
        line = one_line_error(altlas({**env, "ALTLAS_WITNESS_FILE": str(spelling)}, "events"))
        assert line.startswith("altlas: ALTLAS_WITNESS_FILE: ")
        assert "is inside ALTLAS_DATA_DIR" in line
    line = one_line_error(altlas({**env, "ALTLAS_WITNESS_FILE": str(tmp_path / "no" / "w")},
                                 "events"))
    assert "is not a directory; create it first" in line


def test_over_http_the_verify_job_reports_the_cut(tmp_path: Path) -> None:
    witness = _witness_dir(tmp_path) / "altlas.jsonl"
    with gatehouse(tmp_path, worker=False, witness_file=witness) as g:
        for words in ("check disk on the altlas host", "check uptime on the altlas host"):
            assert g.post("/tasks", "erin", {"request": words, "mode": "dream"}
                          ).status_code == 201
        g.get("/tasks", "erin")  # the views catch up
        total = g.events()
    assert total > 1
    data = tmp_path / "data"
    with sqlite3.connect(data / "events.sqlite3") as conn:
        conn.execute("DELETE FROM stored_events WHERE rowid > 1")
    for side in ("", "-wal", "-shm"):
        (data / f"views.sqlite3{side}").unlink(missing_ok=True)
    with gatehouse(tmp_path, worker=False, witness_file=witness) as g:
        job = g.client.get("/audit/verify", headers=auth("ivy")).json()
        done = g.until(lambda: (r := g.client.get(f"/audit/jobs/{job['id']}",
                                                  headers=auth("ivy")).json())["status"]
                       != "running" and r)
    assert not done["result"]["ok"]
    assert done["result"]["reports"][0]["problems"][0].startswith(
        f"the witness file {witness} saw the history up to position {total} but the event "
        "store ends at position 1")


# --- with Kafka: the topic is the witness -------------------------------------------------

@pytest.fixture
def kafka_store(postgres_url: str, pg_schema: str, kafka_bootstrap: str,  # noqa: F811
                topic_prefix: str) -> Iterator[tuple[PostgresBackend, Settings]]:  # noqa: F811
    backend = PostgresBackend(postgres_url, pg_schema)
    yield backend, kafka_settings(backend, kafka_bootstrap, topic_prefix)


def test_with_kafka_a_tail_cut_with_views_relay_state_and_checkpoints_fails_verify(
        kafka_store: tuple[PostgresBackend, Settings], tmp_path: Path) -> None:
    backend, settings = kafka_store
    system = bootstrap(settings)
    try:
        run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")), environment="prod")
        total = system.history.last_position()
        publish_all(system.relay())
        assert system.auditor().reports()[0].ok
    finally:
        system.close()
    backend.execute(f"DELETE FROM {backend.events_table} WHERE notification_id > %s", total - 3)
    schema = backend.schema
    backend.execute(f"DROP SCHEMA IF EXISTS {schema}v CASCADE")
    backend.execute(f"DELETE FROM {schema}.{relay_checkpoints.name}")
    backend.execute(f"DELETE FROM {schema}.{relay_positions.name}")
    system = bootstrap(settings)  # nothing beside the store remembers: it opens
    try:
        [store] = system.auditor().reports()
    finally:
        system.close()
    assert store.problems[0].startswith(
        f"the topic {settings.events_topic} saw the history up to position {total} but the "
        f"event store ends at position {total - 3}: the events after position {total - 3} "
        f"up to {total} are missing")


def test_with_kafka_an_unreachable_topic_leaves_the_end_unchecked_and_says_so(
        postgres_url: str, pg_schema: str, tmp_path: Path) -> None:  # noqa: F811
    backend = PostgresBackend(postgres_url, pg_schema)
    settings = kafka_settings(backend, "127.0.0.1:9", "nowhere")
    system = bootstrap(settings)
    try:
        run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")), environment="prod")
        [store] = system.auditor().reports()
    finally:
        system.close()
    assert not store.ok
    assert store.problems[0].startswith("the witness (topic nowhere.events) cannot be read, "
                                        "so the end of the history is unchecked")



# --- an HTTP sink on another host ------------------------------------------------------------

class Sink(ThreadingHTTPServer):
    """An append-only log over HTTP, as the other host would keep it."""

    lines: list[bytes]


class _Handler(BaseHTTPRequestHandler):
    server: Sink

    def do_POST(self) -> None:
        self.server.lines.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def do_GET(self) -> None:
        body = b"".join(self.server.lines)
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        return None


@pytest.fixture
def sink() -> Iterator[Sink]:
    server = Sink(("127.0.0.1", 0), _Handler)
    server.lines = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _sink_url(server: Sink) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/witness"


def _on_sink(tmp_path: Path, url: str) -> Settings:
    return SQLiteBackend(tmp_path / "data").settings().model_copy(update={"witness_url": url})


def test_an_http_sink_catches_a_tail_cut_with_the_views(sink: Sink, tmp_path: Path) -> None:
    settings = _on_sink(tmp_path, _sink_url(sink))
    system = bootstrap(settings)
    try:
        run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")), environment="prod")
        system.store_feed().catch_up()
        total = system.history.last_position()
        assert sink.lines and system.auditor().reports()[0].ok
    finally:
        system.close()
    store = _sqlite_views_of(tmp_path)
    store.cut(total - 3)
    store.drop_views()
    system = bootstrap(settings)
    try:
        problems = system.auditor().reports()[0].problems
    finally:
        system.close()
    assert problems[0].startswith(
        f"the witness at {_sink_url(sink)} saw the history up to position {total} but the "
        f"event store ends at position {total - 3}")


def test_a_sink_that_cannot_be_reached_leaves_the_views_going_and_verify_failing(
        tmp_path: Path) -> None:
    url = "http://127.0.0.1:9/witness"  # the discard port: nothing answers
    system = bootstrap(_on_sink(tmp_path, url))
    try:
        run_to_rest(system, gated_plan(str(tmp_path / "maintenance.flag")), environment="prod")
        feed = system.store_feed()
        feed.catch_up()
        assert feed.applied_through() == system.history.last_position()
        [report] = system.auditor().reports()
        assert report.problems[0].startswith(f"the witness at {url} cannot be read, so the "
                                             "end of the history is unchecked")
    finally:
        system.close()


def test_a_loss_is_not_accepted_while_the_sink_cannot_be_told(
        sink: Sink, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")},
           "ALTLAS_DATA_DIR": str(data), "ALTLAS_WITNESS_URL": _sink_url(sink)}
    assert altlas(env, "demo").returncode == 0
    assert altlas(env, "approvals").returncode == 0
    _cut_demo(env, 12)
    down = {**env, "ALTLAS_WITNESS_URL": "http://127.0.0.1:9/witness"}
    line = one_line_error(altlas(down, "audit", "accept-loss", "--yes"))
    assert line.startswith("altlas: the witness at http://127.0.0.1:9/witness cannot be read")
    assert line.endswith("nothing was accepted")
    assert altlas(env, "audit", "verify").returncode == 1  # still the loss, named
    with sqlite3.connect(data / "views.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM store_checkpoints WHERE superseded "
                            "IS NOT NULL").fetchone() == (0,)


def test_one_witness_at_a_time(env: dict[str, str]) -> None:
    line = one_line_error(altlas({**env, "ALTLAS_WITNESS_URL": "http://127.0.0.1:9/w"},
                                 "events"))
    assert line == ("altlas: ALTLAS_WITNESS_URL: set one witness: ALTLAS_WITNESS_FILE or "
                    "ALTLAS_WITNESS_URL")


def _sqlite_views_of(tmp_path: Path) -> Store:
    data = tmp_path / "data"

    def drop() -> None:
        for side in ("", "-wal", "-shm"):
            (data / f"views.sqlite3{side}").unlink(missing_ok=True)

    return Store(SQLiteBackend(data), tmp_path / "unused", lambda sql: None, drop)
