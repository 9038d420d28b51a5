"""Real services for integration tests: PostgreSQL from scripts/services.sh."""

from __future__ import annotations

import os
from collections.abc import Iterator
from uuid import uuid4

import psycopg
import pytest

DEFAULT_URL = "postgresql://altlas:altlas@127.0.0.1:55432/altlas_test"


@pytest.fixture(scope="session")
def postgres_url() -> str:
    url = os.environ.get("ALTLAS_TEST_DATABASE_URL", DEFAULT_URL)
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as e:
        pytest.fail(f"PostgreSQL is not reachable at {url}: {e}\n"
                    "Start it with: scripts/services.sh up", pytrace=False)
    return url


@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[str]:
    """A fresh schema per test, dropped afterwards, so tests never see each other's events."""
    name = f"t_{uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")
        conn.execute(f"DROP SCHEMA IF EXISTS {name}v CASCADE")  # its views, if a test made them

DEFAULT_KAFKA = "127.0.0.1:59092"


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    from confluent_kafka.admin import AdminClient

    servers = os.environ.get("ALTLAS_TEST_KAFKA", DEFAULT_KAFKA)
    try:
        AdminClient({"bootstrap.servers": servers}).list_topics(timeout=10)
    except Exception as e:  # confluent-kafka raises KafkaException subclasses
        pytest.fail(f"Kafka is not reachable at {servers}: {e}\n"
                    "Start it with: scripts/services.sh up", pytrace=False)
    return servers


@pytest.fixture
def topic_prefix() -> str:
    """A topic of its own per test, so offsets and groups never leak between tests."""
    return f"t{uuid4().hex[:10]}"

