"""The composition root: builds the real adapters from settings; tests pass overrides.

One module by design: it is the only place that knows every adapter, and reading it whole is
how one sees what a process is made of. What only some processes use (the worker, the
relay and Kafka, PostgreSQL's wake-ups and locks, the chat fronts, embeddings, training) is
imported where it is first made, so a read command starts in a fraction of a second."""

from __future__ import annotations

import fcntl
import functools
import hashlib
import importlib.util
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.persistence import PersistenceError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from adapters.charts import MatplotlibCharts
from adapters.event_table import SQLITE_TABLE, in_clear, sqlite_end
from adapters.gguf_header import GgufFiles
from adapters.llm_exec import LLMExecutor
from adapters.llm_local import InUse
from adapters.local_exec import LocalExecutor
from adapters.person_key_seal import KeyTableSeal
from adapters.person_keys import SqlPersonKeys
from adapters.person_keys import metadata as person_key_tables
from adapters.personal_files import PersonalFileRegistry
from adapters.policy_file import load_policy
from adapters.policy_watch import PolicyFollower, PolicyWatch
from adapters.worker_registry import SqlWorkerRegistry
from adapters.worker_registry import metadata as registry_tables
from altlas import log_redaction
from altlas.secret_store import known_values, load_secrets
from altlas.settings import Settings, load_settings, parse_database_url, settings_env
from application.app import AltlasApplication
from application.history import EventHistory
from application.lanes import LANE_NAMES, begin_tracking, tracking_name
from application.ports import (
    Clock,
    Embedder,
    LanguageModel,
    Notifier,
    RateLimits,
    Segmenter,
    SpeechWarmingError,
    StepExecutor,
    Transcriber,
    VectorStore,
    system_clock,
)
from application.use_cases import Ears, UseCases
from application.use_cases.voice import VoiceNotEnabledError
from domain.models import ModelRegistry
from domain.policy import Policy
from domain.secrets import Redactor
from projections.atlas import AtlasProjection
from projections.chat_refs import SqlChatPosts, SqlMessageRefs
from projections.queries import SqlReadModels
from projections.runbooks import RunbooksProjection, following
from projections.runner import STORE, ProjectionRunner
from projections.store import ViewStoreError, create_tables, migrate, open_engine
from projections.views import PROJECTIONS
from streams.checkpoints import CheckpointLog, read_marks, store_problem
from streams.feeds import StoreFeed
from streams.targets import ReplayTargets, peek

if TYPE_CHECKING:  # imported where first used, for the processes that use them
    from fastapi import FastAPI

    from adapters.audit_jobs import AuditJobs
    from adapters.foreground import Foreground
    from adapters.pg_session_locks import PostgresSessionLocks
    from adapters.pg_wakeup import PostgresWakeup
    from adapters.web.session import EndedLately, SignOuts
    from application.conversation import Conversation
    from application.enrichment import Enrichment
    from application.segmentation import SegmentationService
    from application.similar import SimilarRuns
    from application.training_requests import AutoTraining, TrainingRequests
    from application.worker import Worker
    from bots.chat import ChatFront
    from projections.seen_requests import SqlSeenRequests
    from streams.audit import AuditService, StoreGuard
    from streams.feeds import KafkaFeed
    from streams.kafka import KafkaConfig
    from streams.relay import Relay, RelayStateStore
    from streams.witness import Witness


class StartupError(Exception):
    """altlas cannot start with this configuration; the message says what to fix."""


@dataclass
class System:
    """Everything one altlas process uses; the read side connects only when first asked."""

    settings: Settings
    policy: Policy
    app: AltlasApplication
    executors: Mapping[str, StepExecutor]
    history: EventHistory
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)
    segmenters: Segmenters = field(init=False)  # what plans, made for the policy in use
    policy_watch: PolicyWatch = field(init=False)  # the policy file, as it stands now
    _engines: dict[str, Engine] = field(default_factory=dict)
    _worker: Worker | None = None
    _wakeup: PostgresWakeup | None = None
    _locks: PostgresSessionLocks | None = None
    _opening: threading.Lock = field(default_factory=threading.Lock)
    _registered: bool = False
    _marked: bool = False
    _guard: StoreGuard | None = None
    _similar: SimilarRuns | None = None
    _rates: RateLimits | None = None  # one count per process, whichever front asks
    summarizer: LanguageModel | None = None  # writes incidents' summaries (else the template)
    ears: Ears | None = None  # hears voice clips; None: the speech extra is not installed

    def close(self) -> None:
        if self._wakeup is not None:
            self._wakeup.stop()
        if self._locks is not None:
            self._locks.close()
        self.app.close()
        for engine in self._engines.values():
            engine.dispose()

    def worker(self) -> Worker:
        """This process's worker: it reacts to the events and runs the steps it claims."""
        if self._worker is None:
            from application.correlator import IncidentDesk
            from application.reactions import Ports
            from application.worker import Worker

            s = self.settings
            self._worker = Worker(
                self.app, Ports(self.segmentation, self._pattern_outcomes,
                                IncidentDesk(self.app), self.enrichment(), self.contenders(),
                                s.arena_run_weight, self.trainer(), self._event_triggers),
                self.executors,
                self.registry(),
                lambda: self.reads(catch_up=self.embedded), parallelism=s.runner_parallelism,
                lease=timedelta(seconds=s.worker_lease_seconds),
                idle_seconds=s.poll_interval_ms / 1000, stop_timeout=s.worker_stop_seconds,
                wake=s.wakeup, secrets=self.secrets,
                training_heartbeat=timedelta(seconds=s.training_heartbeat_seconds),
                auto_train=self.auto_training(), alerts_due=IncidentDesk(self.app).due,
                locks=self._session_locks())
            self.wake_on_other_processes()
        return self._worker

    @functools.cached_property
    def segmentation(self) -> SegmentationService:
        """What plans requests, made when this process first plans: a read never does."""
        return _segmentation(self.settings, self.policy, self.app, self.segmenters, self)

    @property
    def has_worker(self) -> bool:
        return self._worker is not None

    def adopt(self, policy: Policy) -> None:
        """Use ``policy`` from now on: the gates and checks, what plans, what runs the next
        steps, the chat fronts' and the API's use cases."""
        self.policy = policy
        self.app.policy = policy
        self.segmentation.use(*self.segmenters(policy))

    def follow_policy(self, stop: threading.Event, every: float = 1.0) -> None:
        """Until ``stop``: adopt each valid edit of the policy file and record it
        (PolicyChanged, once whichever processes noticed it); an invalid edit is logged
        once and the policy in use kept."""
        path = self.settings.policy_file
        if path is None:
            return  # the built-in policy never changes
        follower = PolicyFollower(self.policy_watch, path)
        while not stop.wait(every):
            try:
                edit = follower.edit()
                if edit is not None:
                    people = {*self.policy.people, *edit.policy.people}
                    self.adopt(edit.policy)
                    self.app.record_policy_change(
                        file=str(path), old_sha256=edit.old_sha256,
                        new_sha256=edit.new_sha256, diff=edit.diff, owner=edit.owner,
                        people=people)
            except Exception:
                logging.getLogger("altlas.policy").exception(
                    "following the policy file failed; trying again in %gs", every)

    def registry(self) -> SqlWorkerRegistry:
        engine = self._engine(self.settings.events_sql_url(), migrated=False)
        if not self._registered:
            create_tables(engine, registry_tables)
            self._registered = True
        return SqlWorkerRegistry(engine, timedelta(seconds=self.settings.worker_lease_seconds))

    def wake_on_other_processes(self) -> None:
        """With PostgreSQL, what other processes record wakes this one's followers at once
        (LISTEN/NOTIFY); on SQLite they poll for it."""
        s = self.settings
        if self._wakeup is None and s.database_url is not None and s.wakeup:
            from adapters.pg_wakeup import PostgresWakeup

            url = s.database_url.get_secret_value().split("?", 1)[0]
            self._wakeup = PostgresWakeup(url, f"{self.app.name}_events",
                                          self.app.recorded).start()

    def _session_locks(self) -> PostgresSessionLocks | None:
        """With PostgreSQL, the workers share the lanes (and the views' feed) out through
        advisory locks; on the embedded store one process works, and the tracking records
        settle any overlap."""
        s = self.settings
        if s.database_url is None:
            return None
        with self._opening:
            if self._locks is None:
                from adapters.pg_session_locks import PostgresSessionLocks

                url = s.database_url.get_secret_value()
                namespace = f"{parse_database_url(url).schema or 'public'}.{self.app.name}"
                self._locks = PostgresSessionLocks(url.split("?", 1)[0], namespace)
        return self._locks

    def views_turn(self) -> Callable[[], bool]:
        """Whether this process is the one to bring the views up to date in the background
        now: with PostgreSQL, one process at a time, the others standing by to take over.
        (A read that must see its own writes catches the views up itself, whoever it is.)"""
        locks = self._session_locks()
        if locks is None:
            return lambda: True
        from application.lane_shares import LaneShares

        return functools.partial(LaneShares(locks, ["views"]).owns, "views")

    @property
    def local_store(self) -> bool:
        """The embedded default: SQLite in the data dir. Processes that serve people run a
        worker inside themselves there; with PostgreSQL, `altlas worker` processes do."""
        return self.settings.database_url is None

    def _engine(self, url: str, *, migrated: bool) -> Engine:
        with self._opening:
            return self._open_engine(url, migrated)

    def _open_engine(self, url: str, migrated: bool) -> Engine:
        if url not in self._engines:
            try:
                engine = open_engine(url)
                if migrated:
                    migrate(engine)
            except (SQLAlchemyError, ViewStoreError, OSError) as e:
                reason = " ".join(str(e).split())[:300]
                raise StartupError(f"cannot open the database {_redact(url)}: {reason}") from None
            self._engines[url] = engine
        return self._engines[url]

    def views(self) -> Engine:
        """The read-model database, migrated to the current schema, and marked as the live
        views (a replay is never let into it)."""
        engine = self._engine(self.settings.views_sql_url(), migrated=True)
        if not self._marked:
            CheckpointLog(engine).mark_live()
            self._marked = True
        return engine

    def checkpoint_log(self) -> CheckpointLog:
        """The checkpoints over the store kept beside the live views."""
        return CheckpointLog(self.views(), keep_every=self.settings.checkpoint_every)

    def store_problem(self) -> str | None:
        """Why the event store cannot be what the views and the checkpoints beside them
        saw (events lost at its end, emptied, unreadable), in one line naming the
        positions; None if it can. Cheap: the store's last position and two small reads of
        the views database, which is not created or migrated for it. The views are read
        first: an event recorded and applied between the two reads would otherwise look
        like one lost from the store's end."""
        url = self.settings.views_sql_url()
        engine = self._engines.get(url)
        own = None
        marks, views_problem = None, None
        try:
            if engine is None:
                engine = own = peek(url)
            if engine is not None:
                with engine.connect() as conn:
                    marks = read_marks(conn)
        except (SQLAlchemyError, ViewStoreError, OSError) as e:
            views_problem = f"cannot read the views database {_redact(url)}: {_reason(e)}"
        finally:
            if own is not None:
                own.dispose()
        try:
            end = self._store_end()
        except Exception as e:  # the library's and the drivers' errors alike: say which
            where = (f"SQLite store in {self.settings.data_dir}" if self.local_store else
                     _redact(self.settings.events_sql_url()))
            return f"cannot read the event store ({where}): {_reason(e)}"
        if views_problem is not None or marks is None:
            return views_problem  # no views yet: nothing has seen the store
        return store_problem(end, marks)

    def _store_end(self) -> int:
        """The store's last position; on SQLite through a connection of its own
        (`sqlite_end`)."""
        if not self.local_store:
            return self.history.last_position()
        path = Path(self.settings.persistence_env()["SQLITE_DBNAME"])
        return sqlite_end(path, getattr(self.app.recorder, "events_table_name", SQLITE_TABLE))

    def store_guard(self) -> StoreGuard:
        """store_problem(), answered from a cache for a second and a half (/healthz)."""
        if self._guard is None:
            from streams.audit import StoreGuard

            self._guard = StoreGuard(self.store_problem)
        return self._guard

    def views_at(self, url: str) -> Engine:
        """Another read-model database (a replay target), migrated."""
        return self._engine(url, migrated=True)

    def _close_engine(self, url: str) -> None:
        """Let go of a database that is removed (a replay evicted from the bound)."""
        with self._opening:
            engine = self._engines.pop(url, None)
        if engine is not None:
            engine.dispose()

    def runners(self, source: str = STORE, names: Sequence[str] | None = None,
                engine: Engine | None = None) -> list[ProjectionRunner]:
        wanted = list(names or PROJECTIONS)
        unknown = [n for n in wanted if n not in PROJECTIONS]
        if unknown:
            raise StartupError(f"unknown projection {unknown[0]!r}; use one of "
                               f"{', '.join(PROJECTIONS)}")
        target = engine or self.views()
        return [ProjectionRunner(target, PROJECTIONS[n], source) for n in wanted]

    def store_feed(self, names: Sequence[str] | None = None) -> StoreFeed:
        return StoreFeed(self.history, self.runners(STORE, names),
                         batch_size=self.settings.relay_batch_size,
                         checkpoints=self.checkpoint_log(), witness=self.witness())

    def witness(self) -> Witness | None:
        """Where how far the history went is told outside the store: the witness file
        (embedded), the events topic (Kafka), or nowhere."""
        from streams.witness import FileWitness, HttpWitness, TopicWitness

        if self.settings.witness_file is not None:
            return FileWitness(self.settings.witness_file)
        if self.settings.witness_url is not None:
            return HttpWitness(self.settings.witness_url)
        return None if self.embedded else TopicWitness(self.kafka())

    def kafka(self) -> KafkaConfig:
        if self.settings.kafka_bootstrap_servers is None:
            raise StartupError("ALTLAS_KAFKA_BOOTSTRAP_SERVERS is not set; Kafka is not "
                               "configured (set it to host:port)")
        from streams.kafka import KafkaConfig

        return KafkaConfig(self.settings.kafka_bootstrap_servers, self.settings.events_topic,
                           self.settings.kafka_partitions, self.settings.kafka_replication)

    def relay_state(self) -> RelayStateStore:
        from streams.relay import RelayStateStore

        engine = self._engine(self.settings.events_sql_url(), migrated=False)
        return RelayStateStore(engine, f"kafka:{self.settings.events_topic}")

    def relay(self) -> Relay:
        """The relay; it creates the topic before it first publishes, and while the broker
        is away it keeps trying (commands are recorded meanwhile)."""
        from streams.kafka import EventProducer
        from streams.relay import Relay

        config = self.kafka()
        return Relay(self.history, self.relay_state(), EventProducer(config),
                     batch_size=self.settings.relay_batch_size,
                     checkpoint_every=self.settings.checkpoint_every, topic=config)

    @property
    def embedded(self) -> bool:
        """No Kafka: views are fed straight from the event store's notification log."""
        return self.settings.kafka_bootstrap_servers is None

    def _pattern_outcomes(self, pattern: str) -> list[tuple[str, str, str | None]]:
        """For the .atlas's watch after each run: only the view it reads is caught up
        first (embedded), not every view nor the checkpoint, so the runs' lane never does
        the views' feed's work."""
        feed = (StoreFeed(self.history, self.runners(STORE, [AtlasProjection.name])).catch_up
                if self.embedded else None)
        return SqlReadModels(self.views, feed).pattern_outcomes(pattern)

    def _event_triggers(self, event: str) -> list[UUID]:
        """The triggers that follow ``event``, from the triggers view (caught up first when
        embedded, that view alone, as the .atlas's watch does)."""
        feed = (StoreFeed(self.history, self.runners(STORE, [RunbooksProjection.name])).catch_up
                if self.embedded else None)
        return [UUID(row["trigger_id"]) for row in SqlReadModels(self.views, feed).triggers()
                if row["schedule"].startswith(following(event))]

    def trainer(self) -> Callable[[UUID], None] | None:
        """What starts a granted training's worker process; None without the train extra."""
        if importlib.util.find_spec("peft") is None or importlib.util.find_spec("torch") is None:
            return None
        from adapters.training_process import ProcessLauncher

        return ProcessLauncher({**os.environ, **settings_env(self.settings)},
                               self.settings.data_dir / "training")

    def personal_files(self) -> PersonalFileRegistry:
        """Where the files that hold people's words are written, so forgetting finds them."""
        return PersonalFileRegistry(self.settings.data_dir)

    def training_requests(self) -> TrainingRequests:
        from adapters.training_sets import TrainingSetFiles
        from application.training_requests import TrainingRequests

        return TrainingRequests(self.app, self.history,
                                TrainingSetFiles(self.settings.data_dir / "training",
                                                 self.personal_files()),
                                minimum=self.settings.training_min_examples)

    def auto_training(self, interval: float = 60.0) -> AutoTraining | None:
        """The workers' job that asks for a training by itself; None when it is off."""
        settings = self.settings
        if settings.training_auto_examples == 0:
            return None
        from adapters.training_sets import read_labelled
        from application.training_requests import AutoTraining

        return AutoTraining(
            self.training_requests(),
            lambda: (read_labelled(settings.training_dev_file),
                     read_labelled(settings.evaluation_file)),
            threshold=settings.training_auto_examples, local_model=settings.local_model,
            interval=interval)

    def contenders(self) -> Callable[[str], Segmenter]:
        """The arena's planners: the rules, and each registered model; made again (the
        models loaded again when they next plan) once the process adopted another policy."""
        from adapters.llm_local import Contenders
        from adapters.segmenter_model import ModelSegmenter

        flag = str(self.settings.data_dir / "maintenance.flag")
        made: list[tuple[Policy, Contenders]] = []

        def registered(name: str) -> InUse | None:
            registry = self.app.model_registry()
            if registry is None:
                return None
            adapter = self.use_cases().models.adapter(name)
            if adapter is not None and adapter.base in registry.models:
                base, measured = registry.models[adapter.base], adapter.evaluation
                assert measured is not None
                return InUse(adapter.base, base["path"], base["sha256"],
                             (name, measured["gguf_path"], measured["gguf_sha256"]))
            found = registry.models.get(name)
            return InUse(name, found["path"], found["sha256"]) if found else None

        def planner(name: str) -> Segmenter:
            policy = self.app.policy
            if not made or made[0][0] is not policy:
                made[:] = [(policy, Contenders(
                    _rules_for(policy, flag), registered,
                    lambda model: ModelSegmenter(model, policy, flag),
                    self.settings.model_cache, threads=self.settings.llm_threads))]
            return made[0][1](name)

        return planner

    def enrichment(self) -> Enrichment:
        """The evidence of new incidents, from the Prometheus the settings name."""
        from adapters.prometheus_metrics import PrometheusMetrics
        from application.enrichment import Enrichment

        url = self.settings.prometheus_url
        return Enrichment(PrometheusMetrics(url) if url else None,
                          lambda: self.reads(catch_up=self.embedded), self.app.clock,
                          lambda service: self.app.policy.queries_of(service),
                          lambda: self.use_cases().atlas(), self.summarizer)

    def similar(self) -> SimilarRuns:
        """The similar-run search, with the embedder and vector store the settings name."""
        if self._similar is None:
            from application.similar import SimilarRuns

            chosen = embedder(self.settings)
            made = SimilarRuns(self.app, self.history, chosen, self._vector_store(chosen.name),
                               lambda person: self.reads().tasks_requested_by(person))
            with self._opening:
                self._similar = self._similar or made
        return self._similar

    def _vector_store(self, embedder_name: str) -> VectorStore:
        s = self.settings
        if s.vector_store == "weaviate":
            if importlib.util.find_spec("weaviate") is None:
                raise StartupError("ALTLAS_VECTOR_STORE=weaviate needs weaviate-client: pip "
                                   "install 'altlas[search]'")
            from adapters.vectors_weaviate import WeaviateStore

            return WeaviateStore(s.weaviate_url, s.weaviate_grpc_port, s.weaviate_collection,
                                 embedder_name)
        from adapters.embeddings import DIMENSIONS
        from adapters.vectors_sql import SqlVectorStore

        return SqlVectorStore(self.views(), DIMENSIONS, embedder_name)

    def reads(self, *, catch_up: bool = True) -> SqlReadModels:
        """View queries. In the embedded default they first catch up with the store, unless
        a background feed (as in `altlas serve`) keeps the views current."""
        feed = self.store_feed().catch_up if self.embedded and catch_up else None
        return SqlReadModels(self.views, feed)

    def reads_at(self, until: datetime) -> tuple[SqlReadModels, int]:
        """The views as they were at ``until`` (replayed once, kept while the history up
        to then stays as it is), and how many events they hold."""
        url, events = self.auditor().views_as_of(until)
        return SqlReadModels(lambda: self.views_at(url)), events

    def auditor(self) -> AuditService:
        from streams.audit import AuditService
        from streams.replay_cache import ReplayCache

        s = self.settings
        return AuditService(
            self.history, self.relay_state, None if self.embedded else self.kafka(),
            runners_at=lambda url: self.runners(engine=self.views_at(url)),
            targets=ReplayTargets(s.data_dir, s.views_sql_url(), s.events_sql_url()),
            replay_dir=s.data_dir,
            as_of=ReplayCache(s.data_dir / "as-of", s.replay_cache_bytes, self._close_engine),
            checkpoints=self.checkpoint_log,
            integrity=self.store_problem, witness=self.witness())

    def use_cases(self, *, catch_up: bool = True) -> UseCases:
        """What every front calls, as the person who asks."""
        return UseCases(self.app, self.history, lambda: self.reads(catch_up=catch_up),
                        self.auditor,
                        self.reads_at, similar=self.similar, charts=MatplotlibCharts(),
                        model_files=GgufFiles(self.settings.model_cache,
                                              self.settings.models_directory),
                        limits=self.rate_limits(), credentials=self.policy_watch.current,
                        ears=self.ears, sign_outs=self.sign_outs)

    def rate_limits(self) -> RateLimits:
        """How often each person may ask for expensive work, counted in this process."""
        if self._rates is None:
            from adapters.rate_limits import BucketRates

            with self._opening:
                self._rates = self._rates or BucketRates(self.settings.rate_limits)
        return self._rates

    def api(self, *, catch_up: bool = True, chat: ChatFront | None = None,
            slack: Any = None) -> FastAPI:
        """The HTTP API; with a Slack app, its events arrive at POST /slack/events."""
        # imported here: FastAPI is a quarter of a second every CLI command need not pay
        from adapters.api import authenticator, create_api
        from adapters.api.voice import MULTIPART_ROOM
        from adapters.audit_jobs import AuditJobs
        from adapters.body_limit import BodyLimit
        from adapters.foreground import CountForeground, Foreground
        from adapters.json_guard import JsonGuard
        from bots.chat import ChatFront
        from bots.http_commands import add_commands
        from streams.metrics import AltlasCollector, registry

        kafka = None if self.embedded else self.kafka()
        collector = AltlasCollector(self.history, self.views,
                                    None if self.embedded else self.relay_state, kafka,
                                    followers=self.followers,
                                    workers=lambda: len(self.registry().live()))
        use_cases = self.use_cases(catch_up=catch_up)
        person = authenticator(use_cases.access)
        jobs = AuditJobs()
        api = create_api(use_cases, workers=self.registry(),
                         metrics=registry(collector), person=person,
                         store_check=self.store_guard().problem,
                         instance=self.settings.instance_name, jobs=jobs)
        add_commands(api, chat or ChatFront(use_cases), person)
        foreground = Foreground()
        self._dashboard(api, use_cases, jobs, foreground)
        if slack is not None:
            from bots.slack_app import slack_endpoint
            from bots.slack_gate import SEEN_FOR

            secret = self.settings.slack_signing_secret
            if secret is None:
                raise StartupError("ALTLAS_SLACK_SIGNING_SECRET is not set: Slack's requests "
                                   "cannot be verified")
            endpoint = slack_endpoint(slack, signing_secret=secret.get_secret_value(),
                                      seen=self.seen_requests(SEEN_FOR))
            api.add_api_route("/slack/events", endpoint, methods=["POST"],
                              include_in_schema=False)
        api.add_middleware(JsonGuard)  # inside the body limit: it reads bounded bodies
        api.add_middleware(BodyLimit, max_bytes=self.settings.max_body_bytes, paths={
            "/alerts/alertmanager": (self.settings.max_alert_body_bytes,
                                     "ALTLAS_MAX_ALERT_BODY_BYTES"),
            # the clip, and room for the multipart envelope and form fields around it
            "/voice": (self.settings.speech_max_bytes + MULTIPART_ROOM,
                       "ALTLAS_SPEECH_MAX_BYTES")})
        api.add_middleware(CountForeground, foreground=foreground)  # the whole answer
        return api

    def _dashboard(self, api: FastAPI, use_cases: UseCases, jobs: AuditJobs,
                   foreground: Foreground) -> None:
        """The web dashboard at /ui, its sessions signed with ALTLAS_UI_SIGNING_KEY; its live
        pages are told of a change once ``foreground``'s requests are answered."""
        import secrets

        from adapters.web import mount_dashboard
        from adapters.web.live import Changes
        from adapters.web.session import Sessions
        from projections.reader import applied_position

        secret = self.settings.ui_signing_key
        key = secret.get_secret_value().encode() if secret else secrets.token_bytes(32)
        end = self.history.last_position
        position = (lambda: applied_position(self.views())) if self.embedded else end
        lifetime = self.settings.ui_signed_in_seconds
        sessions = Sessions(key, lifetime, self.ended_sessions)
        changes = Changes(position, end, self.app.recorded, quiet=foreground.quiet,
                          yield_seconds=self.settings.ui_chat_first_seconds)
        mount_dashboard(api, use_cases, sessions, changes, jobs)

    def followers(self) -> dict[str, int]:
        """Where each follower with a place in the events has got to."""
        names = [tracking_name(lane) for lane in LANE_NAMES]
        names += [f"altlas.tell.{front}" for front in ("slack", "discord")]
        return {name: position for name in names
                if (position := self.app.tracked(name)) is not None}

    def chat(self, *, catch_up: bool = True) -> ChatFront:
        """The chat front every platform shares."""
        from bots.chat import ChatFront

        return ChatFront(self.use_cases(catch_up=catch_up))

    def conversation(self, notifier: Notifier) -> Conversation:
        """Tells people on one chat front what happened, following the events from where
        that front got to, so a front that was down catches up whatever happened."""
        from application.conversation import Conversation

        return Conversation(self.app, self.use_cases(catch_up=False), self.history, notifier,
                            self.chat_posts(), self.message_refs())

    def message_refs(self) -> SqlMessageRefs:
        return SqlMessageRefs(self.views)

    def chat_posts(self) -> SqlChatPosts:
        return SqlChatPosts(self.views)

    def sign_outs(self) -> SignOuts:
        """Ends dashboard sessions where every `serve` on the store looks."""
        from adapters.web.session import SignOuts

        return SignOuts(self.ended_sessions)

    @functools.cached_property
    def ended_sessions(self) -> EndedLately:
        """The dashboard's ended sessions, kept as long as its sessions last (so neither a
        sign-out nor a session outlives the other): one per process, so that its streams'
        view of them knows at once what this process ended."""
        from adapters.web.session import EndedLately

        lifetime = self.settings.ui_signed_in_seconds
        return EndedLately(self.seen_requests(timedelta(seconds=lifetime)), lifetime)

    def seen_requests(self, keep: timedelta) -> SqlSeenRequests:
        from projections.seen_requests import SqlSeenRequests

        return SqlSeenRequests(self.views, keep)

    def slack(self, chat: ChatFront) -> tuple[Any, Notifier] | None:
        """The Slack app and its notifier, if Slack is configured."""
        s = self.settings
        if s.slack_bot_token is None or s.slack_signing_secret is None:
            return None
        from slack_sdk.web import WebClient

        from bots.slack_app import SlackNotifier, create_slack_app

        token = s.slack_bot_token.get_secret_value()
        app = create_slack_app(chat, self.chat_posts(), token=token,
                               signing_secret=s.slack_signing_secret.get_secret_value(),
                               api_url=s.slack_api_url, max_clip_bytes=s.speech_max_bytes)
        client = WebClient(token=token, base_url=s.slack_api_url or WebClient.BASE_URL)
        return app, SlackNotifier(client)

    def discord(self, chat: ChatFront) -> tuple[Any, Notifier] | None:
        """The Discord bot and its notifier, if Discord is configured."""
        if self.settings.discord_token is None:
            return None
        from bots.discord_bot import AltlasDiscord, DiscordNotifier

        bot = AltlasDiscord(chat, self.chat_posts(), guild_id=self.settings.discord_guild_id,
                            hear_clips=self.ears is not None,
                            max_clip_bytes=self.settings.speech_max_bytes)
        return bot, DiscordNotifier(bot)

    def kafka_feeds(self, names: Sequence[str] | None = None) -> list[KafkaFeed]:
        from streams.feeds import KafkaFeed, kafka_source

        config = self.kafka()
        received = CheckpointLog(self.views(), kafka_source(config))
        # One installation's views, one group: the topic names the installation (its
        # prefix), the views database which copy of the views.
        views = hashlib.sha256(_redact(self.settings.views_sql_url()).encode()).hexdigest()[:10]
        return [KafkaFeed(config, runner, self.settings.relay_batch_size, checkpoints=received,
                          group=f"{config.topic}.views.{views}.{runner.name}")
                for runner in self.runners(kafka_source(config), names)]


def _redact(url: str) -> str:
    if url.startswith("sqlite"):
        return url
    return parse_database_url(url).redacted()


def _reason(e: BaseException) -> str:
    text = " ".join(str(e.__cause__ or e).split())
    return text[:300] if text else type(e).__name__


def bootstrap(
    settings: Settings | None = None, *, policy: Policy | None = None,
    clock: Clock = system_clock, executors: Mapping[str, StepExecutor] | None = None,
    model: LanguageModel | None = None, check_store: bool = True,
) -> System:
    """altlas on these settings. Unless ``check_store`` is false (for the one command that
    deals with it, `audit accept-loss`), a store that cannot be what the views and the
    checkpoints beside them saw is refused here, where every command starts."""
    settings = settings or load_settings()
    policy = policy or load_policy(settings.policy_file, record_in=settings.data_dir)
    model = model or language_model(settings)
    try:
        secrets = load_secrets(settings.secrets_file, os.environ)
    except ValueError as e:
        raise StartupError(str(e)) from None
    credentials = known_values(settings, secrets)
    log_redaction.install(credentials)  # whoever runs altlas, its logs never show them
    app, keys = _open_application(settings, policy, clock, Redactor(credentials))
    if executors is None:  # steps run with the policy the System uses when they start
        executors = _executors(settings, lambda: system.policy, model)
    system = System(settings, policy, app, executors, EventHistory(app), secrets,
                    _engines={settings.events_sql_url(): keys.engine})
    if settings.incident_summary == "model":
        system.summarizer = model or _local_model(settings)
    system.policy_watch = PolicyWatch(policy, settings.policy_file)
    system.policy_watch.consequences.append(
        "every credential of the policy (API tokens, Alertmanager's, chat identities) is "
        "refused")
    system.segmenters = _segmenters(settings, app, model)
    system.ears = ears_from(settings)
    if check_store and (problem := system.store_problem()) is not None:
        system.close()
        raise StartupError(problem)
    return system


def ears_from(settings: Settings) -> Ears | None:
    """What hears voice clips when the speech extra is installed; the engine loads once per
    process, at `serve`'s start or on the first clip (seconds). A clip that comes while
    another thread loads it is refused with SpeechWarmingError rather than held for it."""
    if importlib.util.find_spec("faster_whisper") is None:
        return None
    from application.voice import needs_confirmation

    loading = threading.Lock()
    ready = threading.Event()  # loaded, or failed for good: no need for the lock again

    @functools.cache
    def loaded() -> Transcriber:
        from adapters.packaged import ModelUnavailableError
        from adapters.speech import transcriber_from

        try:
            return transcriber_from(settings)
        except ModelUnavailableError as e:
            raise VoiceNotEnabledError(f"voice requests cannot be heard here: {e}") from None

    def transcriber() -> Transcriber:
        if ready.is_set():
            return loaded()
        if not loading.acquire(blocking=False):
            raise SpeechWarmingError("the speech model is still loading (seconds after a "
                                     "start): send the clip again shortly")
        try:
            return loaded()
        finally:
            ready.set()
            loading.release()

    return Ears(transcriber, lambda hearing, inventory, services: needs_confirmation(
        hearing, settings, inventory, services))


Segmenters = Callable[[Policy], tuple[Segmenter, Segmenter | None]]


def _segmenters(settings: Settings, app: AltlasApplication, model: LanguageModel | None
                ) -> Segmenters:
    """What plans, made for a policy: rules alone; a named model first with the rules behind
    it; or, for auto with a local model, the rules first (94% against the model's ~35% on
    the labelled set, BENCHMARKS.md) and the model for the requests the rules do not
    understand. The model itself is loaded once, whatever policy comes."""
    flag = str(settings.data_dir / "maintenance.flag")
    if model is None or settings.segmenter == "rules":
        return lambda policy: (_rules_for(policy, flag), None)
    from adapters.llm_local import LocalModel, RegisteredModel
    from adapters.segmenter_model import ModelSegmenter

    if isinstance(model, LocalModel):  # the model registry's activations change it
        model = RegisteredModel(model, lambda: _active_model(app), settings.model_cache,
                                threads=settings.llm_threads)
    chosen = model
    rules_first = settings.segmenter == "auto" and not settings.litellm_model

    def made(policy: Policy) -> tuple[Segmenter, Segmenter | None]:
        rules, by_model = _rules_for(policy, flag), ModelSegmenter(chosen, policy, flag)
        return (rules, by_model) if rules_first else (by_model, rules)

    return made


def _rules_for(policy: Policy, flag: str) -> Segmenter:
    """The rule segmenter, imported when something first plans."""
    from adapters.segmenter_rules import RuleSegmenter

    return RuleSegmenter(policy, flag)


def _segmentation(settings: Settings, policy: Policy, app: AltlasApplication,
                  segmenters: Segmenters, system: System) -> SegmentationService:
    from application.segmentation import SegmentationService

    def examples(text: str, k: int) -> tuple[tuple[str, dict[str, Any]], ...]:
        return system.similar().examples(text, k)  # from the runs indexed so far

    first, fallback = segmenters(policy)
    readings = 1 if fallback is None else settings.segmenter_readings
    return SegmentationService(app, first, fallback, examples, readings=readings)


def _active_model(app: AltlasApplication) -> InUse | None:
    registry = app.model_registry()
    if registry is None or registry.active is None:
        return None
    return _in_use(registry)


def _in_use(registry: ModelRegistry) -> InUse:
    """The active model with its promoted adapter, if any."""
    assert registry.active is not None
    chosen = registry.models[registry.active]
    adapter = registry.adapter
    return InUse(chosen["name"], chosen["path"], chosen["sha256"],
                 None if adapter is None else (adapter["name"], adapter["path"],
                                               adapter["sha256"]))


def embedder(settings: Settings) -> Embedder:
    """all-MiniLM-L6-v2 when asked for, or (auto) when installed; else the hashed words."""
    from adapters.embeddings import MINILM_INSTALL, MiniLMEmbedder, WordEmbedder

    if settings.embeddings == "words" or (settings.embeddings == "auto"
                                          and not MiniLMEmbedder.installed()):
        return WordEmbedder()
    if not MiniLMEmbedder.installed():
        raise StartupError(f"ALTLAS_EMBEDDINGS=minilm needs the model: {MINILM_INSTALL}")
    return MiniLMEmbedder(settings.model_cache)


def language_model(settings: Settings) -> LanguageModel | None:
    """The model the settings ask for; None means the rules (and plain digests). A model
    named in ALTLAS_LITELLM_MODEL writes the llm steps' summaries whatever plans."""
    choice = settings.segmenter
    if choice == "litellm" and not settings.litellm_model:
        raise StartupError("ALTLAS_SEGMENTER=litellm needs ALTLAS_LITELLM_MODEL")
    if settings.litellm_model and choice in ("litellm", "auto", "rules"):
        if importlib.util.find_spec("litellm") is None:
            raise StartupError("ALTLAS_LITELLM_MODEL needs the litellm package: pip install "
                               "'altlas[litellm]' (or unset it)")
        from adapters.llm_litellm import LiteLLMModel

        key = settings.litellm_api_key.get_secret_value() if settings.litellm_api_key else None
        return LiteLLMModel(settings.litellm_model, settings.litellm_api_base, key)
    if choice == "rules":
        return None
    from adapters.llm_local import LocalModel
    from adapters.packaged import ModelUnavailableError

    # auto uses a model only if a capable one is installed: SmolLM2 plans half as well as the
    # rules (BENCHMARKS.md), so it is used only when asked for by name.
    name = settings.local_model if choice == "local" else "qwen2.5-coder-0.5b"
    try:
        return LocalModel.named(name, settings.model_cache,
                                threads=settings.llm_threads)
    except ModelUnavailableError as e:
        if choice == "local":
            raise StartupError(str(e)) from None
        logging.getLogger("altlas").info("segmenter: rules only (%s)", e)
        return None


def _local_model(settings: Settings) -> LanguageModel:
    """The local model ALTLAS_LOCAL_MODEL names, for what the settings ask a model of."""
    from adapters.llm_local import LocalModel
    from adapters.packaged import ModelUnavailableError

    try:
        return LocalModel.named(settings.local_model, settings.model_cache,
                                threads=settings.llm_threads)
    except ModelUnavailableError as e:
        raise StartupError(f"ALTLAS_INCIDENT_SUMMARY=model: {e}") from None


class _Executors(Mapping[str, StepExecutor]):
    """Each kind's executor, made when a step of that kind first runs: the commands that
    run no steps (relay, project, audit) start without loading SSH, HTTP and Prometheus
    clients — a restarted projector is back sooner. Made again for the next step once the
    process has adopted another policy (its hosts, addresses, local allow-list)."""

    def __init__(self, factories: Mapping[str, Callable[[Policy], StepExecutor]],
                 current: Callable[[], Policy]) -> None:
        self._factories = factories
        self._current = current
        self._made: dict[str, tuple[Policy, StepExecutor]] = {}
        self._lock = threading.Lock()

    def __getitem__(self, kind: str) -> StepExecutor:
        policy = self._current()
        with self._lock:
            made = self._made.get(kind)
            if made is None or made[0] is not policy:
                made = self._made[kind] = (policy, self._factories[kind](policy))
            return made[1]

    def __iter__(self) -> Iterator[str]:
        return iter(self._factories)

    def __len__(self) -> int:
        return len(self._factories)


def _executors(settings: Settings, current: Callable[[], Policy],
               model: LanguageModel | None) -> Mapping[str, StepExecutor]:
    cap = settings.output_cap_bytes

    def prometheus_for(target: str | None) -> str | None:
        env = current().environments.get(target or "")
        return (env.prometheus if env else None) or settings.prometheus_url

    def ssh(policy: Policy) -> StepExecutor:
        from adapters.ssh_exec import SSHExecutor

        return SSHExecutor(policy.hosts, known_hosts=settings.ssh_known_hosts,
                           client_key=settings.ssh_key, default_user=settings.ssh_user,
                           connect_timeout=settings.ssh_connect_timeout, output_cap=cap)

    def promql(_: Policy) -> StepExecutor:
        from adapters.promql_exec import PromQLExecutor

        return PromQLExecutor(prometheus_for)

    def http(policy: Policy) -> StepExecutor:
        from adapters.http_exec import HTTPExecutor

        return HTTPExecutor(policy.hosts)

    return _Executors({
        "local": lambda policy: LocalExecutor(policy.classify, output_cap=cap),
        "ssh": ssh, "promql": promql, "http": http,
        "llm": lambda _: LLMExecutor(model),
    }, current)


def _open_application(settings: Settings, policy: Policy, clock: Clock, redactor: Redactor
                      ) -> tuple[AltlasApplication, SqlPersonKeys]:
    """The application on its event store, with the people's keys kept beside the events."""
    if settings.database_url is None:
        try:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StartupError(
                f"ALTLAS_DATA_DIR={settings.data_dir}: cannot create it: {e.strerror}"
            ) from None
        where = f"SQLite store in {settings.data_dir}"
    else:
        db = parse_database_url(settings.database_url.get_secret_value())
        where = db.redacted()
    try:
        with _schema_lock(settings, where):
            keys = SqlPersonKeys(open_engine(settings.events_sql_url()), _key_table_seal(settings))
            app = AltlasApplication(policy, clock, env=settings.persistence_env(), keys=keys,
                                    files=PersonalFileRegistry(settings.data_dir),
                                    redactor=redactor)
            if (problem := _cipher_problem(app)) is not None:
                app.close()
                raise StartupError(f"cannot read the event store ({where}): {problem}")
            begin_tracking(app, LANE_NAMES)
            create_tables(keys.engine, person_key_tables)
            if keys.seal is not None:
                keys.seal_rows()  # those of a release before sealing
            return app, keys
    except (PersistenceError, sqlite3.Error, SQLAlchemyError, OSError) as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StartupError(f"cannot open the event store ({where}): {reason}") from None


def _key_table_seal(settings: Settings) -> KeyTableSeal | None:
    """The people's keys are sealed whenever the events are encrypted."""
    if settings.cipher_key is None:
        return None
    return KeyTableSeal.of(settings.cipher_key.get_secret_value())


def _cipher_problem(app: AltlasApplication) -> str | None:
    """Why the stored events cannot be read with ALTLAS_CIPHER_KEY (or without it), in one
    line; None if they can. Its first and last events are decoded here, before anything is
    recorded, so a wrong or missing key never meets a command half-way."""
    last = app.recorder.max_notification_id()
    if not last:
        return None  # a new store is encrypted from its first event, or never
    keyed = app.mapper.cipher is not None
    history, select = EventHistory(app), app.recorder.select_notifications
    for n in [*select(0, 1), *select(last, 1)]:
        try:
            history.decode(n)
        except ValueError as e:
            clear = in_clear(n.state)
            if keyed and clear:
                return ("its events are stored in clear, but ALTLAS_CIPHER_KEY is set: unset "
                        "it (a store is encrypted from its first event or not at all)")
            if keyed:
                return (f"ALTLAS_CIPHER_KEY does not decrypt the event at position {n.id}: it "
                        "is not the key this store was begun with")
            if not clear:
                return ("its events are encrypted: set ALTLAS_CIPHER_KEY to the key this store "
                        "was begun with")
            return str(e)
    return None


# Any fixed 64-bit key; only altlas processes take it.
SCHEMA_LOCK_KEY = 0x616C746C6173_00


@contextmanager
def _schema_lock(settings: Settings, where: str) -> Iterator[None]:
    """Serialise table creation across processes starting together: PostgreSQL's
    CREATE ... IF NOT EXISTS is not safe against itself, nor is the library's first
    tracking row on a new SQLite file. Connecting first also fails fast with the
    driver's own reason, rather than a pool timeout."""
    if settings.database_url is None:
        with open(settings.data_dir / "events.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        return
    import psycopg

    url = settings.database_url.get_secret_value()
    try:
        conn = psycopg.connect(url.split("?", 1)[0], connect_timeout=5, autocommit=True)
    except psycopg.Error as e:
        reason = " ".join(str(e).split())
        raise StartupError(f"cannot connect to {where}: {reason}") from None
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK_KEY,))
