"""History recorded by release 0.1 (RunCompleted at schema version 1) still replays."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from altlas.bootstrap import System
from domain.catalog import upcast
from streams.cloudevents import decode, encode
from testkit.backends import Backend, OnPostgres, OnSQLite
from testkit.views import dump

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "events_v1.jsonl"


class SchemaEvolutionContract:
    @pytest.fixture
    def system(self, backend: Backend) -> Iterator[System]:
        system = backend.open()
        rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
        system.app.recorder.insert_events([
            StoredEvent(originator_id=UUID(r["originator_id"]),
                        originator_version=r["originator_version"], topic=r["topic"],
                        state=r["state"].encode()) for r in rows])
        yield system
        system.close()

    def _old_completions(self, system: System) -> list:
        return [r for r in system.history.read() if r.type_name == "RunCompleted"]

    def test_fixture_really_holds_version_1_events(self, system: System) -> None:
        old = self._old_completions(system)
        assert len(old) == 2
        assert all(r.schema_version == 1 and "summary" not in r.state for r in old)

    def test_old_runs_load_with_the_new_field_upcast(self, system: System) -> None:
        for record in self._old_completions(system):
            run = system.app.get_run(record.aggregate_id)
            assert run.outcome in ("succeeded", "failed")
            assert run.summary is None
        assert upcast(self._old_completions(system)[0]).state["summary"] is None

    def test_old_history_still_verifies(self, system: System) -> None:
        report = system.history.verify()
        assert report.ok and report.events == 12

    def test_old_history_replays_into_the_views(self, system: System) -> None:
        system.store_feed().catch_up()
        runs = dump(system.views())["runs"]
        assert sorted(r["outcome"] for r in runs) == ["failed", "succeeded"]
        assert all(r["summary"] is None for r in runs)

    def test_old_events_travel_on_the_wire_with_their_schema_version(
        self, system: System
    ) -> None:
        record = self._old_completions(system)[0]
        wire = decode(encode(record))
        assert json.loads(encode(record))["schemaversion"] == "1"
        assert wire.state == record.state

    def test_new_runs_record_the_new_field(self, system: System, tmp_path: Path) -> None:
        from testkit.journeys import journey

        _, run_id, _ = journey(system, tmp_path)
        assert system.app.get_run(run_id).summary == {"succeeded": 3}
        newest = self._old_completions(system)[-1]
        assert newest.schema_version == 2 and newest.state["summary"] == {"succeeded": 3}
        assert system.history.verify().ok


class TestSchemaEvolutionOnSQLite(OnSQLite, SchemaEvolutionContract):
    pass


class TestSchemaEvolutionOnPostgres(OnPostgres, SchemaEvolutionContract):
    pass
