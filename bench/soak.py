"""The fault soak of the production path, long: a PostgreSQL store, a separate relay and a
separate Kafka projector, commands recorded without pause, the relay and the projector
killed with SIGKILL and the broker stopped and started at seeded moments. Prints how long
each component took to go on after each fault, and what was lost, duplicated or wrong.

    python bench/soak.py [--seconds 900] [--relay-kills 9] [--projector-kills 9]
                         [--broker-stops 2] [--seed 1]

Needs the PostgreSQL and Kafka of scripts/services.sh (`eval "$(scripts/services.sh env)"`).
The short version runs in the test command (tests/integration/test_recovery.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from uuid import uuid4

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the harness is the test's

from altlas.bootstrap import bootstrap
from testkit.backends import PostgresBackend
from testkit.soak import run_soak

DATABASE = os.environ.get("ALTLAS_TEST_DATABASE_URL",
                          "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test")
SERVERS = os.environ.get("ALTLAS_TEST_KAFKA", "127.0.0.1:59092")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=900)
    parser.add_argument("--relay-kills", type=int, default=9)
    parser.add_argument("--projector-kills", type=int, default=9)
    parser.add_argument("--broker-stops", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    schema = f"soak_{uuid4().hex[:8]}"
    with psycopg.connect(DATABASE, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        settings = PostgresBackend(DATABASE, schema).settings().model_copy(update={
            "kafka_bootstrap_servers": SERVERS, "kafka_topic_prefix": schema})
        system = bootstrap(settings)
        try:
            with tempfile.TemporaryDirectory() as work:
                report = run_soak(system, Path(work), seconds=args.seconds, seed=args.seed,
                                  relay_kills=args.relay_kills,
                                  projector_kills=args.projector_kills,
                                  broker_stops=args.broker_stops)
        finally:
            system.close()
    finally:
        with psycopg.connect(DATABASE, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            conn.execute(f"DROP SCHEMA IF EXISTS {schema}v CASCADE")
    print(report.table())
    return 0 if report.missing == 0 and report.mismatched_rows == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
