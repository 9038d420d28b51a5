"""The fault soak, short: relay and projector killed twice each and the broker stopped once
while commands keep coming; nothing lost, the views what a rebuild makes, each component
going on within seconds (bench/soak.py runs the long one)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from altlas.bootstrap import System, bootstrap
from tests.integration.backends import Backend, OnPostgres
from tests.integration.soak import run_soak
from tests.integration.test_streams import kafka_settings


class TestSoak(OnPostgres):
    @pytest.fixture
    def system(self, backend: Backend, kafka_bootstrap: str, topic_prefix: str
               ) -> Iterator[System]:
        system = bootstrap(kafka_settings(backend, kafka_bootstrap, topic_prefix))
        yield system
        system.close()

    def test_kills_of_relay_projector_and_broker_lose_nothing_and_views_stay_exact(
        self, system: System, tmp_path: Path
    ) -> None:
        report = run_soak(system, tmp_path, seconds=40, seed=7, relay_kills=2,
                          projector_kills=2, broker_stops=1)
        print(report.table())
        assert report.commands > 10 and report.events > 100
        assert report.missing == 0 and report.distinct == report.events
        assert report.mismatched_rows == 0
        assert len(report.faults) == 5
        for fault in report.faults:
            limit = 30 if fault.component == "broker" else 10
            assert fault.recovered_s < limit, report.table()
