"""The .atlas as people use it: what kinds of plans were run, how often they worked, how long
they took, how they failed and who asked; exported as an .atlas document and merged from
another installation's (recorded as an AtlasImported event, so it is history like the rest).
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

import jsonschema

from application.documents import schema_errors
from application.ports import ReadModels
from application.privacy import Privacy
from domain import json_input
from domain.atlas import normalised_request, percentile, wilson
from domain.errors import ConflictError, InvalidInputError, NotAllowedError
from domain.plan import Plan, StepsConflictError
from domain.secrets import credential_paths

ATLAS_VERSION = 1
ERASED = "[erased]"
EXAMPLES = 3  # requests shown per pattern
ASKED = 20  # the latest distinct requests kept per pattern to find them among


@dataclass
class PatternSummary:
    pattern: str
    intent: str
    target_kind: str
    runs: int = 0
    successes: int = 0
    durations: list[float] = field(default_factory=list)
    last_success: datetime | None = None
    last_failure: str | None = None
    failures: Counter[str] = field(default_factory=Counter)
    requesters: Counter[str] = field(default_factory=Counter)
    requests: list[str] = field(default_factory=list)  # normalised, as people read them
    asked: list[tuple[str, list[str]]] = field(default_factory=list)  # (sealed, targets)
    plan: dict[str, Any] | None = None  # the plan of the latest success
    imported: list[dict[str, Any]] = field(default_factory=list)
    resolve_ms: list[float] = field(default_factory=list)  # asked → a run of it succeeded
    history: list[tuple[datetime, bool]] = field(default_factory=list)  # (completed, success)

    @property
    def rate(self) -> float:
        return self.successes / self.runs if self.runs else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.successes, self.runs)

    def to_dict(self) -> dict[str, Any]:
        low, high = self.interval
        mean = statistics.fmean(self.durations) if self.durations else None
        p95 = percentile(self.durations, 0.95)
        if mean is None and self.imported:  # known only from where it was imported
            mean, p95 = (self.imported[0]["duration_ms"][k] for k in ("mean", "p95"))
        return {
            "pattern": self.pattern, "intent": self.intent, "target_kind": self.target_kind,
            "runs": self.runs, "successes": self.successes,
            "success_rate": round(self.rate, 4),
            "interval": [round(low, 4), round(high, 4)],
            "duration_ms": {"mean": None if mean is None else round(mean),
                            "p95": None if p95 is None else round(p95)},
            "last_success": self.last_success.isoformat() if self.last_success else None,
            "last_failure": self.last_failure,
            "failures": [{"error": e, "count": n} for e, n in self.failures.most_common(3)],
            "requesters": [name for name, _ in self.requesters.most_common()],
            "requests": self.requests,
            "plan": self.plan,
            "imported": self.imported,
        }


class AtlasDocumentError(InvalidInputError):
    """An .atlas document that cannot be imported: the message names the JSON path."""


class AtlasConflictError(AtlasDocumentError, ConflictError):
    """A document whose parts each pass the schema but contradict each other (more successes
    than runs, a pattern twice, a plan's steps that do not fit together): 409, not 422, as
    no JSON Schema can say it."""


class AtlasCredentialError(AtlasDocumentError, NotAllowedError):
    """A document that carries a credential where people wrote or steps failed: refused as
    a rule rather than a shape (403), as a plan holding one is."""


FORMATS = jsonschema.FormatChecker(formats=())
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """RFC 3339, as the schema says (jsonschema checks no format without extra packages)."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    datetime.fromisoformat(value.upper().replace("Z", "+00:00"))  # a real day and time
    return True


def document_schema() -> dict[str, Any]:
    """The .atlas document's JSON Schema: what an import accepts, for every front."""
    text = resources.files("altlas").joinpath("schemas/atlas.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


class Atlas:
    def __init__(self, reads: Callable[[], ReadModels], privacy: Privacy,
                 record_import: Callable[[str, str, str, list[dict[str, Any]], str], bool],
                 ) -> None:
        self._reads = reads
        self._privacy = privacy
        self._record_import = record_import

    def patterns(self, query: str | None = None, *, imported: bool = True
                 ) -> list[PatternSummary]:
        """Every pattern with runs here (and, with ``imported``, from other installations),
        most run first; with ``query``, those whose pattern, intent or requests contain all
        its words."""
        words = (query or "").lower().split()
        found: dict[str, PatternSummary] = {}
        for fact in self._reads().atlas_facts():
            summary = found.get(fact["pattern"]) or found.setdefault(
                fact["pattern"], PatternSummary(fact["pattern"], fact["intent"],
                                                fact["target_kind"]))
            _count(summary, fact)
        for entry in self._reads().atlas_imports() if imported else ():
            _merge(found, entry)
        for s in found.values():
            texts = self._privacy.reveal([text for text, _ in s.asked])
            for text, (_, targets) in zip(texts, s.asked, strict=True):
                request = normalised_request(text, targets)
                if ERASED not in request and request not in s.requests:
                    s.requests.append(request)
            s.requests = s.requests[-EXAMPLES:]
        shown = [s for s in found.values() if _matches(s, words)]
        for s in shown:
            names = self._privacy.reveal(list(s.requesters))
            s.requesters = Counter(dict(zip(names, s.requesters.values(), strict=True)))
        return sorted(shown, key=lambda s: (-s.runs, s.pattern))

    def document(self, source: str, now: datetime) -> dict[str, Any]:
        """The .atlas export: local knowledge only (what was imported stays with its
        source), the people who asked left out, erased requests too."""
        patterns = []
        for s in self.patterns(imported=False):
            local = s.to_dict()
            del local["requesters"], local["imported"]
            patterns.append(local)
        return {"atlas": ATLAS_VERSION, "source": source, "exported_at": now.isoformat(),
                "patterns": patterns}

    def import_document(self, raw: bytes, source: str, actor: str) -> dict[str, Any]:
        """Check the document against the schema (the JSON path of the first error), then
        record it; the same document twice is imported once."""
        try:
            document = json_input.loads(raw)
        except (json_input.TooDeepError, json_input.UnsafeJsonError) as e:
            raise AtlasDocumentError(f"$: {e}") from None
        except ValueError as e:  # UnicodeDecodeError and JSONDecodeError among them
            raise AtlasDocumentError(f"$: not JSON ({e})") from None
        validator = jsonschema.Draft202012Validator(document_schema(), format_checker=FORMATS)
        error = next(iter(sorted(validator.iter_errors(document), key=lambda e: e.path)), None)
        if error is not None:
            raise AtlasDocumentError(f"{error.json_path}: {error.message}")
        patterns = document["patterns"]
        _check_sense(patterns)
        digest = hashlib.sha256(raw).hexdigest()
        new = self._record_import(source or document["source"], digest,
                                  document["exported_at"], patterns, actor)
        return {"imported": new, "patterns": len(patterns),
                "runs": sum(p["runs"] for p in patterns), "digest": digest,
                "source": source or document["source"]}


def _check_sense(patterns: list[dict[str, Any]]) -> None:
    """Plans that are .alt plans (422 as the rest of the schema), then what no schema can
    say: counts that add up, each pattern once, steps that fit together (409), and no
    credential in what people wrote or steps failed with (403; its plan is checked where it
    is recorded, as every plan is)."""
    for i, p in enumerate(patterns):
        problems = schema_errors(p["plan"]) if p["plan"] is not None else []
        if problems:
            raise AtlasDocumentError(f"$.patterns[{i}].plan{problems[0][1:]}")
    seen: set[str] = set()
    for i, p in enumerate(patterns):
        where = f"$.patterns[{i}]"
        if p["plan"] is not None:
            try:
                Plan.from_document(p["plan"])
            except StepsConflictError as e:
                raise AtlasConflictError(f"{where}.plan{e.path[1:]}: {e.problem}") from None
        if p["successes"] > p["runs"]:
            raise AtlasConflictError(f"{where}.successes: {p['successes']} successes in "
                                     f"{p['runs']} runs")
        if p["pattern"] in seen:
            raise AtlasConflictError(f"{where}.pattern: {p['pattern']!r} appears twice")
        leaked = credential_paths({k: v for k, v in p.items() if k != "plan"}, where)
        if leaked:
            raise AtlasCredentialError(f"{leaked[0]}: holds a credential; an .atlas carries "
                                       "none, take it out of the document")
        seen.add(p["pattern"])


def _count(s: PatternSummary, fact: dict[str, Any]) -> None:
    s.runs += 1
    if fact["duration_ms"] is not None:
        s.durations.append(float(fact["duration_ms"]))
    s.requesters[fact["requester"]] += 1
    asked = (fact["request"], fact["targets"] or [])
    if asked not in s.asked:
        s.asked = [*s.asked, asked][-ASKED:]
    s.history.append((fact["completed_at"], fact["outcome"] == "succeeded"))
    if fact["outcome"] == "succeeded":
        s.successes += 1
        s.last_success = fact["completed_at"]
        s.plan = fact["plan"]
        s.resolve_ms.append((fact["completed_at"] - fact["requested_at"]).total_seconds() * 1000)
    else:
        error = fact["error"] or f"the run {fact['outcome']}"
        s.failures[error] += 1
        s.last_failure = error


def _merge(found: dict[str, PatternSummary], row: dict[str, Any]) -> None:
    entry = row["entry"]
    s = found.get(row["pattern"]) or found.setdefault(
        row["pattern"], PatternSummary(row["pattern"], entry["intent"], entry["target_kind"]))
    s.runs += entry["runs"]
    s.successes += entry["successes"]
    for failure in entry["failures"]:
        s.failures[failure["error"]] += failure["count"]
    for request in entry["requests"]:
        if request not in s.requests:
            s.requests.append(request)
    if s.plan is None:
        s.plan = entry["plan"]
    s.imported.append({"source": row["source"], "runs": entry["runs"],
                       "successes": entry["successes"], "duration_ms": entry["duration_ms"],
                       "imported_at": row["imported_at"].isoformat()})


def _matches(s: PatternSummary, words: list[str]) -> bool:
    text = " ".join([s.pattern, s.intent, *s.requests]).lower()
    return all(w in text for w in words)
