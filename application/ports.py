"""The small interfaces the application needs from the outside world. One module, so that
what the application asks of the outside world is read in one place."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from application.personal_files import FileKind, Swept
    from application.presenters import CardModel
    from domain.plan import PlanStep


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class StepOutcome:
    ok: bool
    exit_code: int | None
    output: str
    error: str | None
    duration_ms: int
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepContext:
    """What a step may know of its run: the outputs and facts of the steps before it, and
    the values of the secrets it refers to (``{secret:NAME}``), for its executor to put in
    where the step says, never anywhere that is recorded."""

    outputs: Mapping[str, str] = field(default_factory=dict)
    facts: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


class StepExecutor(Protocol):
    """Runs one kind of step (local, ssh, promql, …) and reports what happened. It must
    return within the step's timeout and never raise for a failure of the step itself."""

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        """Run the step once."""


Message = Mapping[str, str]  # {"role": "system" | "user" | "assistant", "content": …}


class LanguageModel(Protocol):
    """A chat model: the local GGUF model, or any provider through litellm."""

    @property
    def name(self) -> str:
        """Which model: recorded with what it writes."""

    def complete(self, messages: Sequence[Message], *, max_tokens: int,
                 json_schema: Mapping[str, Any] | None = None, temperature: float = 0.0
                 ) -> str:
        """The model's reply; with a JSON schema, constrained to it where the model can.
        Above 0 ``temperature`` samples (a second reading of the same request)."""


@dataclass(frozen=True)
class SegmentationRequest:
    text: str
    mode: str = "normal"
    persona: str = "technical_expert"
    environment: str | None = None
    chaos_level: int | None = None
    examples: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    temperature: float = 0.0  # above 0: a model's second, sampled reading


class Segmenter(Protocol):
    """Turns a request into the body of an .alt plan ({"alt": 1, "steps": [...]})."""

    @property
    def name(self) -> str:
        """Who plans: recorded with every plan it makes."""

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        """The plan; raises SegmentationError when it cannot make one."""


@dataclass(frozen=True)
class Hearing:
    """What a transcriber heard in one clip. The confidence figures are the decoder's own, so
    that a doubtful hearing is shown and confirmed before anything is planned from it."""

    text: str  # the transcript, spoken host and service names normalised ("web one" -> web-1)
    language: str  # ISO 639-1 code the model placed the clip in ("en", "tr"); "" if it could not
    language_probability: float
    avg_logprob: float  # the decoder's mean log-probability over the transcript's tokens
    no_speech_prob: float  # the model's estimate that the clip holds no speech
    duration_s: float  # the clip's length, before any padding
    model: str  # engine and model, e.g. "faster-whisper:base"; recorded with the request
    seconds: float  # time spent hearing it (real-time factor = seconds / duration_s)


class Transcriber(Protocol):
    """Hears a voice clip on this machine (whisper.cpp or faster-whisper). Refuses what is not
    audio, is over the limits or holds no speech with ``AudioRefusedError``, never a bare
    exception."""

    @property
    def name(self) -> str:
        """Engine and model: recorded with every request heard by it."""

    def transcribe(self, audio: bytes, *, names: Sequence[str] = (),
                   language: str | None = None) -> Hearing:
        """The hearing of ``audio`` (any container ffmpeg/PyAV reads: ogg/opus, m4a, mp3,
        wav, webm). ``names`` (the inventory's hosts and services) prime the decoder and are
        what spoken names are normalised to; ``language`` forces one instead of detecting."""


class ReadModels(Protocol):
    """Queries over the projections' views."""

    def timeline(self, *, actor: str | None = None, aggregate_id: str | None = None,
                 type_name: str | None = None, since: datetime | None = None,
                 until: datetime | None = None, limit: int = 100,
                 correlation_id: str | None = None,
                 after: tuple[datetime, int] | None = None) -> list[dict[str, Any]]:
        """Events from the audit timeline, oldest first, filtered; ``after``: only those
        past the row at this (time, position), the keyset a page goes on from."""

    def open_approvals(self, at: datetime | None = None) -> list[dict[str, Any]]:
        """The approval queue: approvals still open, soonest to expire first, with the time
        left at ``at`` (now by default)."""

    def list_tasks(self, *, status: str | None, requester: str | None,
                   since: datetime | None, limit: int, before: str | None
                   ) -> list[dict[str, Any]]:
        """Tasks, newest first, each with its run and a ``cursor`` for the next page."""

    def list_runs(self, *, status: str | None, requester: str | None,
                  since: datetime | None, limit: int, before: str | None
                  ) -> list[dict[str, Any]]:
        """Runs with their task's request, newest first, each with a ``cursor``."""

    def atlas_facts(self) -> list[dict[str, Any]]:
        """Every completed run of a planned task, oldest first: its pattern, intent, target
        kind, request (sealed), requester, environment, segmenter, targets, plan, outcome,
        duration, request and completion times and the error it failed with."""

    def pattern_outcomes(self, pattern: str) -> list[tuple[str, str, str | None]]:
        """(run id, outcome, error) of the completed runs of a pattern, oldest first."""

    def atlas_imports(self) -> list[dict[str, Any]]:
        """The patterns imported from other installations: import id, pattern, source, the
        entry as exported, when."""

    def tasks_requested_by(self, requester: str) -> list[str]:
        """The ids of the tasks ``requester`` (as the events name them) asked for."""

    def planner_facts(self) -> list[dict[str, Any]]:
        """Every planned task: the segmenter that made its plan, whether a step of it was
        denied (``refused``), how many of its runs completed and succeeded."""

    def matches(self) -> list[dict[str, Any]]:
        """Every match between two planners, oldest first: match id, a, b, a's score,
        weight, source, when."""

    def incidents(self, *, status: str | None = None, since: datetime | None = None,
                  prefix: str | None = None, root: str | None = None, limit: int = 20
                  ) -> list[dict[str, Any]]:
        """Incidents newest first (by their first alert's start): id, title, status, times,
        alerts (fingerprint → alert id), firing fingerprints, root causes (``root``: the
        likeliest), merged into, summary, evidence, remediation."""

    def triggers(self, due_by: datetime | None = None) -> list[dict[str, Any]]:
        """Triggers by name (only those whose next firing is at or before ``due_by``):
        name, runbook, owner, schedule, next_at, fired and missed counts, last task."""

    def runbooks(self) -> list[dict[str, Any]]:
        """Every runbook by name: its published version (0: none yet), author, plan hash,
        parameters' schema, and the version waiting for approval with its approval id."""

    def events_of(self, aggregate_ids: list[str], limit: int) -> list[dict[str, Any]]:
        """The timeline rows of these aggregates, in the order they were recorded."""

    def open_trainings(self) -> list[str]:
        """Trainings that started and have not ended (trained or failed)."""

    def runs_of(self, task_ids: Collection[str]) -> dict[str, tuple[str, str | None]]:
        """task id → (its run's id, the run's outcome so far) for those that ran."""

    def resolve(self, prefix: str) -> list[tuple[str, str]]:
        """(kind, id) of the tasks, runs and approvals whose id starts with ``prefix``."""

    def claimed_steps(self) -> list[tuple[str, str, str]]:
        """(run id, step id, worker) of every step a worker holds: running, or waiting for
        the same worker's retry."""


@dataclass(frozen=True)
class IndexedRun:
    """A completed run as the similar-run search keeps it: ids and filters, never the
    request's text (that stays sealed in the events; the views reveal it)."""

    run_id: str
    task_id: str
    pattern: str
    outcome: str
    environment: str | None


@dataclass(frozen=True)
class NearRun:
    run: IndexedRun
    score: float  # cosine similarity, 1 the same


class VectorStoreUnavailableError(Exception):
    """The vector store cannot be reached; the message says why. Never replaced by another."""


class RateLimits(Protocol):
    """How often each person may ask for work that costs far more than it takes to ask."""

    def take(self, who: str, work: str) -> float:
        """Count one ``work`` ("replay", "export", "verify", "similar") for ``who``: 0 if
        it may go ahead, else the seconds until it may."""
        ...


class WarmingError(Exception):
    """A model this process needs is still loading (seconds after a start): answered at
    once instead of holding the request for the load; ask again shortly. ``code`` names
    which model, for the API's error body."""

    code = "warming"


class SearchWarmingError(WarmingError):
    """The similar-run search is loading its model in this process: ask again shortly."""

    code = "search_warming"


class SpeechWarmingError(WarmingError):
    """The speech model is loading in this process: send the clip again shortly."""

    code = "speech_warming"


class Embedder(Protocol):
    name: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> Any:
        """One unit-length float32 row per text (a numpy array)."""


class VectorStore(Protocol):
    name: str

    def add(self, runs: Sequence[IndexedRun], vectors: Any) -> None:
        """Store runs with their vectors; a run stored before is replaced."""

    def near(self, vector: Any, k: int, *, environment: str | None = None,
             outcome: str | None = None) -> list[NearRun]:
        """The ``k`` stored runs nearest ``vector``, nearest first, filtered."""

    def count(self) -> int:
        """How many runs are stored."""

    def clear(self) -> None:
        """Forget every stored run (before indexing the history again)."""

    def remove(self, task_ids: Sequence[str]) -> None:
        """Forget the runs of these tasks (their requester was forgotten)."""


@dataclass(frozen=True)
class ModelFacts:
    """What a GGUF file says of itself, with its sha256 and size."""

    sha256: str
    size: int
    architecture: str
    parameters: int
    quantization: str
    context_length: int
    chat_template: str | None
    tokenizer: dict[str, Any]  # model, pre, vocabulary (its size)
    title: str | None  # general.name, when the file has one


class ModelFiles(Protocol):
    """Model files on this machine."""

    def resolve(self, path: str) -> str:
        """Where ``path`` really is; InvalidInputError when that is outside the directory
        people's model files are read from (a model file is untrusted input)."""

    def describe(self, path: str) -> ModelFacts:
        """The header of the file at ``path`` (resolved as ``resolve`` does);
        InvalidInputError naming the field or byte offset where it is not a GGUF model
        altlas can use."""

    def packaged(self) -> list[tuple[str, str, ModelFacts]]:
        """(short name, path, header) of each model installed as a package here, its file
        checked against the sha256 altlas pins."""


class MetricsUnavailableError(Exception):
    """Prometheus cannot answer now: the incident is enriched without its metrics."""


class Metrics(Protocol):
    """Range queries for the evidence of an incident (Prometheus)."""

    def series(self, query: str, start: datetime, end: datetime, step_s: float
               ) -> list[tuple[str, list[tuple[float, float]]]]:
        """Each series of ``query`` between the two times: its labels as PromQL writes them,
        and its (seconds since the epoch, value) samples. Raises MetricsUnavailableError."""


class Charts(Protocol):
    """Pictures of the leaderboards, as PNG bytes for chat threads and the HTTP API."""

    def success_over_time(self, title: str, points: list[dict[str, Any]]) -> bytes:
        """Success rate per period with its interval (application.leaderboards.buckets)."""

    def ratings(self, title: str, ratings: list[dict[str, Any]]) -> bytes:
        """Each planner's rating with its 95% interval, best on top."""

    def metric(self, title: str, points: list[tuple[float, float]], opened_at: float,
               peak_at: float | None) -> bytes:
        """A series over time (seconds since the epoch), the incident's opening and its
        anomalous sample marked."""

    def loss_curve(self, title: str, points: list[tuple[int, float]]) -> bytes:
        """A training's loss at each (step, loss) recorded."""

    def comparison(self, title: str, groups: list[str], series: dict[str, list[float]],
                   unit: str) -> bytes:
        """Bars side by side: for each group, one bar per series (e.g. an adapter's exact,
        asked, refused and wrong plans against its base's)."""


class FrontUnavailableError(Exception):
    """The chat platform cannot be reached now (down, rate-limited, not connected yet); the
    same update should be tried again later rather than dropped, and no sooner than
    ``retry_after`` seconds when the platform said so (HTTP 429 Retry-After)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Vote:
    """An Approve and a Deny button for one open approval, on a message that is not its
    card (an incident's): a click votes exactly as on the card."""

    approval_id: str
    approve: str  # the buttons' labels, in the message's language
    deny: str


class Notifier(Protocol):
    """One chat front's way of telling people. Raises FrontUnavailableError when the
    platform cannot take the message now (down, rate-limited, not connected yet)."""

    platform: str

    def say(self, channel: str, thread: str | None, text: str,
            votes: Sequence[Vote] = ()) -> str:
        """Post a message, in reply to ``thread`` if given, with the buttons of ``votes``;
        returns the message's id."""

    def show_card(self, channel: str, card: CardModel, locale: str) -> str:
        """Post an approval card with its buttons; returns the message's id."""

    def ask(self, channel: str, thread: str | None, text: str, task_id: str,
            choices: list[str]) -> str:
        """Post what altlas asks about a task, with a button for each choice (a click
        answers it); returns the message's id."""

    def update_card(self, channel: str, message: str, card: CardModel, locale: str) -> None:
        """Show a card's current state in the message that shows it."""

    def duel(self, channel: str, thread: str | None, text: str, duel_id: str,
             labels: Sequence[tuple[str, str]]) -> str:
        """Post an arena duel's plans with a button per verdict ((verdict, label): a, b,
        tie, both_bad); returns the message's id."""

    def attach(self, channel: str, thread: str, filename: str, title: str, png: bytes) -> None:
        """Share a picture in reply to ``thread``."""

    def rewrite(self, channel: str, message: str, text: str,
                votes: Sequence[Vote] = ()) -> None:
        """Replace a message with ``text`` and the buttons of ``votes`` only: a question
        answered or expired (its buttons would only be refused), an incident as it is now
        (with the votes its remediation still waits for)."""


class SignOuts(Protocol):
    """Where every process serving the dashboard looks before it lets a session in."""

    def end_everywhere(self, person: str) -> None:
        """End every session ``person`` opened until now, in every process; those they open
        afterwards work."""


class ChatPosts(Protocol):
    """What a chat front has posted, by key (``thread:<task id>``, ``event:<event id>``)."""

    def get(self, platform: str, key: str) -> tuple[str, str] | None:
        """(channel, message) of what was posted under ``key``, if anything."""

    def add(self, platform: str, key: str, channel: str, message: str) -> None:
        """Remember a post (the first one under a key stays)."""


@dataclass(frozen=True)
class WorkerInfo:
    """One worker process: ``id`` names it in the StepStarted events of the steps it claims."""

    id: str
    host: str
    pid: int
    started_at: datetime


class WorkerRegistry(Protocol):
    """Which workers are alive: each renews its lease while it runs."""

    def beat(self, worker: WorkerInfo) -> None:
        """Renew the worker's lease (and register it the first time)."""

    def leave(self, worker_id: str) -> None:
        """The worker stopped on purpose; its lease ends now."""

    def alive(self, worker_id: str) -> bool:
        """The worker's lease is current (and, on this host, its process exists)."""

    def live(self) -> list[WorkerInfo]:
        """Every worker whose lease is current."""


class SessionLocks(Protocol):
    """Named locks this process holds through its session with the event store: the store
    lets them go the moment the process dies or its connection drops."""

    def try_acquire(self, name: str) -> bool:
        """Take ``name`` if nobody holds it; False if another process does (or the store
        is away)."""

    def release(self, name: str) -> None:
        """Let ``name`` go."""

    def held(self) -> frozenset[str]:
        """What this process holds now: after a lost connection, nothing."""


@dataclass(frozen=True)
class PersonKey:
    """A person's pseudonym, the name it stands for, and the key what they wrote is sealed
    with."""

    pseudonym: str
    name: str
    key: bytes


class PersonKeys(Protocol):
    """Each person's pseudonym and key, kept outside the events (beside them in the store's
    database, never on the topic): forgetting a person destroys their key."""

    def enrol(self, candidate: PersonKey) -> PersonKey:
        """The person's key on record, or ``candidate`` recorded as theirs if none is."""

    def named(self, name: str) -> PersonKey | None:
        """The key of the person of this name, if one is on record."""

    def known(self, pseudonyms: Collection[str]) -> dict[str, PersonKey]:
        """The keys on record among these pseudonyms; forgotten ones are missing."""

    def forget(self, pseudonym: str) -> bool:
        """Destroy the person's key and name for good; False if none was on record."""


class PersonalFiles(Protocol):
    """The files of application.personal_files' kinds, written only through here so that
    forgetting a person finds every one."""

    def write(self, kind: FileKind, path: str, lines: Iterable[str]) -> int:
        """Write ``lines`` to ``path`` as a file of ``kind`` and remember it; how many."""

    def forget(self, pseudonym: str, name: str) -> list[Swept]:
        """Take the person out of every file remembered, as its kind says."""


class MessageRefs(Protocol):
    """Where each approval was posted, so its messages can be updated in place."""

    def add(self, approval_id: str, platform: str, channel: str, message: str,
            thread: str | None = None, locale: str = "en") -> None:
        """Remember a posted approval message and the language it speaks."""

    def of(self, approval_id: str, platform: str) -> list[tuple[str, str, str]]:
        """(channel, message, locale) of each message on ``platform`` showing the approval."""


class Auditor(Protocol):
    """Verification and export of the recorded history."""

    def verify(self, *, kafka: bool = False,
               progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
        """One report per source checked: the event store, and the topic if asked;
        ``progress`` hears of every event checked."""

    def require_kafka(self) -> None:
        """Raise InvalidInputError unless a topic is configured to verify."""

    def export_lines(self, until: datetime | None = None,
                     since: datetime | None = None) -> Iterator[str]:
        """The history from ``since`` to ``until`` as CloudEvents JSON lines."""

    def replay(self, until: datetime, into: str | None = None,
               progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Rebuild the views as of ``until`` into a separate database; never the live one."""

    def replay_target(self, until: datetime, into: str | None = None) -> str:
        """Where a replay as of ``until`` would go, checked (refused if it may not)."""


class TrainingSets(Protocol):
    """Where training sets are kept for the training worker to read."""

    def keep(self, lines: Iterable[str]) -> tuple[str, str]:
        """Keep a training set (JSON lines): where it is, and its sha256."""

    def discard(self, where: str) -> None:
        """Remove a training set no training will read."""
