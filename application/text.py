"""Plain text of the view models, in the reader's language: the command line prints it, and
the chat fronts post it (tables in a code block, so their columns line up). One module, so
the fronts' texts stay alike."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from application.i18n import t
from application.plain_text import clip as clip
from application.plain_text import short as short
from application.plain_text import shown as shown
from application.plain_text import shown_lines as shown_lines
from application.presenters import CardModel, PlanModel, PlanStepModel, RunModel, RunStepModel

if TYPE_CHECKING:  # only read from: the command line's reads import no aggregate
    from application.snapshots import ApprovalView, TaskView

FENCE = "```"
def plan_step_line(step: PlanStepModel) -> str:
    needs = f" ← {','.join(step.needs)}" if step.needs else ""
    where = f"@{step.target}" if step.target else ""
    line = (f"{step.id:<4} {step.kind:<6} {clip(step.action, 38):<38}{where:<12}{needs:<10} "
            f"{step.risk:<11} {step.gate}")
    if step.gate == "approval":
        line += f" ({step.required} of {', '.join(sorted(step.eligible))})"
    return line


def plan_text(plan: PlanModel, locale: str, *, fenced: bool = False) -> str:
    """The plan: what each step does, where, its risk and its gate; or why there is none."""
    if plan.status == "rejected":
        return t(locale, "rejected", request=shown(plan.request),
                 reason=shown(plan.rejection or ""))
    if plan.segmenter is None:
        return t(locale, "plan.none" if plan.status == "requested" else "plan.none.asked",
                 request=shown(plan.request), status=plan.status, requester=plan.requester)
    lines = [t(locale, f"plan.{plan.persona}", request=shown(plan.request), n=len(plan.steps),
               segmenter=plan.segmenter)]
    if plan.fallback_reason:
        lines.append(t(locale, "fallback", segmenter=plan.segmenter,
                       reason=shown(plan.fallback_reason)))
    table = [plan_step_line(s) for s in plan.steps]
    if plan.persona == "researcher":
        table = [row for s, line in zip(plan.steps, table, strict=True)
                 for row in (line, t(locale, "step.why", reason=s.reason))]
    lines += _fenced(table, fenced)
    if plan.mode == "dream":
        lines.append(t(locale, "dream"))
    return "\n".join(lines)


def outcome_text(outcome: str | None, locale: str) -> str:
    return t(locale, f"run.{outcome}") if outcome else t(locale, "run.in_progress")


def run_step_line(step: RunStepModel, locale: str) -> str:
    took = f"{step.duration_ms} ms" if step.duration_ms is not None else ""
    if step.waiting_for is not None:
        detail = t(locale, "waiting", remaining=step.waiting_for,
                   approval=short(step.approval_id))
    elif step.asks_when is not None:
        detail = t(locale, "asks_when", condition=step.asks_when)
    elif step.confirmed_by is not None:
        detail = t(locale, "manual.confirmed", person=step.confirmed_by)
    elif step.manual is not None and step.status in ("manual", "skipped"):
        detail = t(locale, "manual", risk=step.risk, action=shown(step.manual))
    else:
        detail = shown(step.error or "")
    if step.redacted:
        detail = f"{detail} {t(locale, 'redacted', n=step.redacted)}".lstrip()
    return f"{step.id:<4} {step.status:<10} {step.risk:<11} {took:>8}  {detail}".rstrip()


def output_lines(step: RunStepModel, limit: int = 6) -> list[str]:
    return [f"     | {line}" for line in shown_lines(step.output.rstrip())[:limit]
            if step.output.strip()]


def run_text(run: RunModel, locale: str, *, with_output: bool = False,
             fenced: bool = False) -> str:
    lines = []
    for step in run.steps:
        lines.append(run_step_line(step, locale))
        if with_output:
            lines += output_lines(step)
    head = t(locale, "run", run=short(run.run_id), outcome=outcome_text(run.outcome, locale))
    return "\n".join([head, *_fenced(lines, fenced)])


def card_lines(card: CardModel, locale: str, now: datetime) -> list[str]:
    """The approval message's lines, for every medium."""
    a = card.approval
    target = f" @{card.step['target']}" if card.step.get("target") else ""
    lines = [
        t(locale, "card.title", risk=a.risk, environment=a.environment),
        t(locale, "card.request", request=shown(card.task.request), requester=a.requester),
        t(locale, "card.step", step=a.step_id, kind=card.step.get("kind", ""),
          action=shown(card.step.get("action", "")), target=shown(target)),
        t(locale, "card.why", reason=a.reason),
    ]
    approvers = ", ".join(p for p in sorted(a.eligible) if p not in a.excluded)
    if a.status == "open":
        if a.votes:
            lines.append(t(locale, "card.votes", votes=", ".join(a.votes),
                           remaining=a.remaining, approvers=approvers))
        else:
            lines.append(t(locale, "card.no_votes", remaining=a.remaining,
                           approvers=approvers))
        minutes = max(int((a.expires_at - now).total_seconds() // 60), 0)
        lines.append(t(locale, "card.time_left", minutes=minutes,
                       when=a.expires_at.strftime("%H:%M UTC")))
        if card.oncall:
            lines.append(t(locale, "card.oncall", people=", ".join(card.oncall)))
    elif a.status == "granted":
        lines.append(t(locale, "card.granted", votes=", ".join(a.votes)))
    elif a.status == "denied":
        lines.append(t(locale, "card.denied", reason=shown(a.decision_reason or "")))
    elif a.status == "expired":
        lines.append(t(locale, "card.expired"))
    else:
        lines.append(t(locale, "card.cancelled", reason=shown(a.decision_reason or "")))
    if card.run_outcome:
        lines.append(t(locale, "card.run_finished", run=short(a.run_id),
                       outcome=t(locale, f"run.{card.run_outcome}")))
    return lines


def approval_text(a: ApprovalView, locale: str, now: datetime) -> str:
    """An approval as the command line shows it."""
    minutes = max(int((a.expires_at - now).total_seconds() // 60), 0)
    lines = [t(locale, "approval.head", id=a.id, status=a.status,
               left=t(locale, "approval.left", minutes=minutes) if a.status == "open"
               else a.status),
             _approval_subject(a, locale),
             t(locale, "approval.why", reason=a.reason),
             t(locale, "approval.asked", requester=a.requester,
               approvers=", ".join(sorted(a.eligible)))]
    votes = ", ".join(a.votes) or t(locale, "approval.nobody")
    if a.status == "open":
        lines.append(t(locale, "approval.open", votes=votes, remaining=a.remaining))
    else:
        lines.append(t(locale, "approval.closed", votes=votes)
                     + (f"; {shown(a.decision_reason)}" if a.decision_reason else ""))
    return "\n".join(lines)


def _approval_subject(a: ApprovalView, locale: str) -> str:
    """What granting it does: a step of a run, or a change to the whole installation."""
    if a.subject == "step":
        return t(locale, "approval.step", step=a.step_id, run=a.run_id or "-",
                 risk=a.risk, environment=a.environment)
    if a.subject == "erasure":
        return t(locale, "approval.erasure", person=a.forgets)
    return t(locale, f"approval.{a.subject}", id=short(a.task_id))


def _fenced(lines: list[str], fenced: bool) -> list[str]:
    return [FENCE, *lines, FENCE] if fenced and lines else lines


def choice_label(number: int, choice: str, limit: int) -> str:
    """A button's label: the choice, or, when the button cannot hold it (two readings of a
    request often start alike), its number and its start — the question lists every choice
    whole, numbered."""
    if len(choice) <= limit:
        return choice
    head = f"{number}. "
    return f"{head}{choice[:limit - len(head) - 1]}…"


def question_text(task: TaskView, locale: str, how: str) -> str:
    """What altlas asks about a task, in the requester's language: the question, the choices
    numbered, and how to answer on this front (``how``: cli, chat or chat.text)."""
    q = task.question or {}
    request = shown(task.request)
    part = shown(q.get("part") or "")
    if q.get("about") == "host":
        key = "question.host.unknown" if part else "question.host"
    elif q.get("about") == "reading":
        key = "question.reading"
    else:
        key = "question.clause" if part else "question.unclear"
    lines = [t(locale, key, part=part, request=request)]
    choices = q.get("choices") or []
    if choices:
        lines.append(t(locale, "question.choices", choices=", ".join(
            f"{i}. {c}" for i, c in enumerate(choices, 1))))
    if how == "chat" and not choices:
        how = "chat.text"
    lines.append(t(locale, f"question.how.{how}", id=short(task.id), requester=task.requester))
    if q.get("expires_at"):
        when = datetime.fromisoformat(q["expires_at"]).strftime("%H:%M UTC")
        lines.append(t(locale, "question.expires", when=when))
    return "\n".join(lines)


def _seconds(ms: int | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.1f} s"


def atlas_text(patterns: list[dict[str, Any]], locale: str, *, query: str | None = None,
               limit: int = 10) -> str:
    """The .atlas's patterns, most run first: runs, success rate with its 95% interval,
    durations, how it was asked and how it last failed."""
    if not patterns:
        return t(locale, "atlas.none", query=query) if query else t(locale, "atlas.empty")
    lines = []
    for p in patterns[:limit]:
        low, high = p["interval"]
        lines.append(t(locale, "atlas.line", pattern=p["pattern"], runs=p["runs"],
                       rate=round(p["success_rate"] * 100), low=round(low * 100),
                       high=round(high * 100), mean=_seconds(p["duration_ms"]["mean"]),
                       p95=_seconds(p["duration_ms"]["p95"])))
        if p["requests"]:
            lines.append(t(locale, "atlas.asked", requests="; ".join(
                f"“{clip(shown(r), 80)}”" for r in p["requests"])))
        if p["last_failure"]:
            lines.append(t(locale, "atlas.failed", error=clip(shown(p["last_failure"]), 160)))
        for i in p["imported"]:
            lines.append(t(locale, "atlas.imported", runs=i["runs"], source=i["source"]))
    if len(patterns) > limit:
        lines.append(t(locale, "atlas.more", count=len(patterns) - limit))
    return "\n".join(lines)


def _percent(value: float) -> int:
    return round(value * 100)


def leaderboard_text(board: dict[str, Any], locale: str, *, limit: int = 5) -> str:
    """Runbooks and planners, surest first, and the planners' ratings: a compact table."""
    if not board["runbooks"] and not board["planners"] and not board["ratings"]["ratings"]:
        return t(locale, "board.empty")
    lines = [t(locale, "board.runbooks")] if board["runbooks"] else []
    for rank, r in enumerate(board["runbooks"][:limit], 1):
        lines.append(t(locale, "board.runbook", rank=rank, pattern=r["pattern"],
                       successes=r["successes"], runs=r["runs"], low=_percent(r["interval"][0]),
                       high=_percent(r["interval"][1]),
                       p50=_seconds(r["time_to_resolve_ms"]["p50"])))
    if board["planners"]:
        lines.append(t(locale, "board.planners"))
    for rank, p in enumerate(board["planners"][:limit], 1):
        lines.append(t(locale, "board.planner", rank=rank, planner=p["planner"],
                       successes=p["successes"], runs=p["runs"], low=_percent(p["interval"][0]),
                       high=_percent(p["interval"][1]), plans=p["plans"],
                       refused=_percent(p["refused_rate"])))
    ratings = board["ratings"]
    if not ratings["ratings"]:
        lines.append(t(locale, "board.no_matches"))
        return "\n".join(lines)
    lines.append(t(locale, "board.ratings", matches=ratings["matches"],
                   method={"elo": "Elo", "bt": "Bradley-Terry"}[ratings["method"]]))
    for rank, r in enumerate(ratings["ratings"][:limit], 1):
        lines.append(t(locale, "board.rating", rank=rank, planner=r["planner"],
                       rating=round(r["rating"]), low=round(r["interval"][0]),
                       high=round(r["interval"][1]), matches=r["matches"]))
    return "\n".join(lines)


def runbook_history_text(found: dict[str, Any], locale: str, *, limit: int = 8) -> str:
    """One runbook's success over time, the latest periods."""
    periods = " · ".join(f"{p['from']} {p['successes']}/{p['runs']}"
                         for p in found["history"][-limit:])
    return t(locale, "board.history", pattern=found["pattern"], successes=found["successes"],
             runs=found["runs"], periods=periods)


_INCIDENT_MARKS = {"open": "🔥", "resolved": "✅", "merged": "↪️"}


def incidents_text(incidents: list[dict[str, Any]], locale: str, *, every: bool = False,
                   limit: int = 10, list_every: str = "incidents all") -> str:
    """Incidents newest first, each with its likeliest cause; ``list_every``: the command
    that lists them all on this front."""
    if not incidents:
        return t(locale, "incidents.none_at_all" if every else "incidents.none",
                 every=list_every)
    return "\n".join(_incident_lines(i, locale) for i in incidents[:limit])


def incident_text(incident: dict[str, Any], locale: str, *, limit: int = 20,
                  proposed: PlanModel | None = None, run: RunModel | None = None) -> str:
    """One incident: every root-cause candidate, what was found and proposed (with the
    proposal's steps, their risk and gate, once planned; how its run stands, once it
    runs) and the latest of its timeline."""
    lines = [_incident_lines(incident, locale, causes=3)]
    if incident["summary"]:
        lines.append(t(locale, "incidents.summary", summary=incident["summary"]))
    remedy = incident.get("remediation")
    if remedy:
        lines.append(t(locale, f"incidents.remedy.{remedy['source']}", request=remedy["request"],
                       task=short(remedy["task_id"]), pattern=remedy["pattern"] or ""))
    if proposed is not None and proposed.steps:
        lines += _fenced([plan_step_line(s) for s in proposed.steps], True)
    if run is not None:
        lines.append(run_text(run, locale, fenced=True))
    elif remedy and remedy.get("run_id"):
        lines.append("   " + t(locale, "run", run=short(remedy["run_id"]),
                                outcome=outcome_text(remedy.get("outcome"), locale)))
    lines += [t(locale, "incidents.event", time=e["time"][:19].replace("T", " "),
                event=e["event"], fingerprint=e["fingerprint"] or "")
              for e in incident.get("timeline", [])[-limit:]]
    return "\n".join(lines)


def _incident_lines(i: dict[str, Any], locale: str, causes: int = 1) -> str:
    lines = [t(locale, "incidents.line", mark=_INCIDENT_MARKS[i["status"]], id=short(i["id"]),
               title=i["title"], status=i["status"],
               firing=sum(a["firing"] for a in i["alerts"]), alerts=len(i["alerts"]),
               opened=i["opened_at"][:16].replace("T", " "))]
    if i["merged_into"]:
        lines.append(t(locale, "incidents.merged", into=short(i["merged_into"])))
    lines += [t(locale, "incidents.cause", component=c["component"], evidence=c["evidence"])
              for c in i["root_causes"][:causes]]
    return "\n".join(lines)


def models_text(catalog: dict[str, Any], locale: str) -> str:
    """The registered models, the one that plans marked, and a change waiting for its
    approval."""
    if not catalog["models"]:
        return t(locale, "models.none")
    lines = [t(locale, "models.head")]
    for m in catalog["models"]:
        lines.append(t(locale, "models.line", mark="▶" if m["active"] else " ",
                       name=m["name"], architecture=m["architecture"],
                       parameters=_count(m["parameters"]), quantization=m["quantization"],
                       context=m["context_length"], source=m["source"],
                       sha=m["sha256"][:12]))
        if m["active"] and catalog.get("adapter"):
            lines.append(t(locale, "models.adapter", name=catalog["adapter"]["name"]))
    if catalog["active"] is None:
        lines.append(t(locale, "models.default"))
    back = catalog.get("rollback_to")
    if back is not None:
        lines.append(t(locale, "models.rollback", to=in_charge(back)))
    pending = catalog["pending"]
    if pending:
        lines.append(t(locale, "models.pending", model=pending["model"],
                       who=pending["requester"], approval=short(pending["approval_id"])))
    return "\n".join(lines)


def in_charge(state: dict[str, Any]) -> str:
    """What plans in a state of the registry: an adapter, a model, or the settings' model."""
    if state.get("adapter"):
        return str(state["adapter"]["name"])
    return str(state.get("model") or "ALTLAS_LOCAL_MODEL")


def _count(n: int) -> str:
    """135M, 1.5B: parameter counts as model cards write them."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.3g}{unit}"
    return str(n)


def duel_text(duel: dict[str, Any], locale: str) -> str:
    """The two plans side by side as A and B; once decided, who made which and the verdict."""
    lines = [t(locale, "arena.head", request=shown(duel["request"]))]
    for side in ("a", "b"):
        plan = duel["plans"].get(side)
        lines.append(t(locale, f"arena.{side}"))
        if plan:
            lines += _fenced([f"{s['id']:<4} {s['kind']:<6} {clip(shown(s['action']), 60)}"
                              + (f" @{s['target']}" if s.get("target") else "")
                              for s in plan["steps"]], True)
        else:
            lines.append(t(locale, "arena.no_plan", problem=shown(
                duel["problems"].get(side) or "-")))
    if duel["status"] == "decided":
        lines.append(t(locale, "arena.decided", a=duel["planners"]["a"],
                       b=duel["planners"]["b"], voter=duel["voter"],
                       verdict=t(locale, f"arena.verdict.{duel['outcome']}")))
    elif duel["status"] == "planned":
        lines.append(t(locale, "arena.ask"))
    return "\n".join(lines)


def training_text(training: dict[str, Any], locale: str) -> str:
    """A training: where it stands, its latest progress, its adapter or why it stopped."""
    lines = [t(locale, "training.head", id=short(training["id"]), base=training["base"],
               status=training["status"], examples=training["examples"])]
    if training["progress"]:
        p = training["progress"][-1]
        lines.append(t(locale, "training.progress", step=p["step"], steps=p["steps"],
                       loss=f"{p['loss']:.3f}", rate=f"{p['tokens_per_s']:.0f}",
                       eta=f"{p['eta_s']:.0f}"))
    adapter = training["adapter"]
    if adapter:
        lines.append(t(locale, "training.adapter", name=adapter["name"], steps=adapter["steps"],
                       seconds=f"{adapter['duration_ms'] / 1000:.0f}",
                       first=f"{adapter['loss_curve'][0]:.3f}",
                       last=f"{adapter['loss_curve'][-1]:.3f}", sha=adapter["sha256"][:12]))
    measured = training.get("evaluation")
    if measured:
        base, ours = measured["base"], measured["adapter_scores"]
        lines.append(t(locale, "training.evaluated", sampled=measured["sampled"],
                       of=measured["of"], file=Path(measured["file"]).name,
                       base_exact=base["exact"], exact=ours["exact"],
                       base_asked=base["asked"], asked=ours["asked"],
                       base_wrong=base["wrong"], wrong=ours["wrong"],
                       base_s=f"{base['seconds_per_request']:.2f}",
                       s=f"{ours['seconds_per_request']:.2f}"))
        lines.append(t(locale, "training.promotable", name=measured["adapter"])
                     if training["promotable"] else
                     t(locale, "training.not_promotable", why=training["why_not"]))
    if training["reason"]:
        lines.append(t(locale, "training.reason", reason=shown(training["reason"])))
    return "\n".join(lines)


def audit_report_text(report: dict[str, Any]) -> str:
    """One source's audit: its counts and verdict, then each problem and accepted loss."""
    head = (f"{report['source']}: {report['events']} events in {report['aggregates']} "
            f"aggregates, {report['checkpoints']} checkpoint(s)")
    lines = [f"{head}: every hash chain and checkpoint verified" if report["ok"]
             else f"{head}: {len(report['problems'])} problem(s)"]
    lines += [f"  - {problem}" for problem in report["problems"]]
    lines += [f"  note: {note}" for note in report["notes"]]
    return "\n".join(lines)
