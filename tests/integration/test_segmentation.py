"""Segmentation through the real application: fallbacks recorded, risks never lowered."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.segmenter_model import ModelSegmenter
from adapters.segmenter_rules import RuleSegmenter
from altlas.bootstrap import System
from application.core import run_id_of
from application.errors import SegmentationError
from application.ports import SegmentationRequest
from application.segmentation import SECOND_READING, SegmentationService
from application.snapshots import TaskView
from domain.plan import Plan
from domain.task import Task

SET = Path(__file__).resolve().parents[1] / "data" / "segmentation_dev.json"


class ScriptedModel:
    """A stand-in for the LanguageModel port: answers from a script, records prompts."""

    name = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []
        self.temperatures: list[float] = []

    def complete(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int,
                 json_schema: Mapping[str, Any] | None = None, temperature: float = 0.0
                 ) -> str:
        self.prompts.append("\n".join(m["content"] for m in messages))
        self.temperatures.append(temperature)
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def with_model(system: System, model: ScriptedModel) -> SegmentationService:
    rules = RuleSegmenter(system.policy, str(system.settings.data_dir / "maintenance.flag"))
    return SegmentationService(system.app, ModelSegmenter(model, system.policy, "/f"), rules,
                               lambda text, k: system.similar().examples(text, k))


def planned(system: System, text: str, **options: Any) -> TaskView:
    """Ask, and let the worker's policies plan it with the system's segmentation."""
    task_id = system.app.request_task(text, "deniz", **options)
    system.worker().until_quiet()
    return system.app.get_task(task_id)


def asked(system: System, text: str) -> Task:
    return system.app.load(Task, system.app.request_task(text, "deniz"))


def test_invalid_model_output_is_retried_once_then_the_rules_answer(system: System) -> None:
    model = ScriptedModel("this is not JSON")
    system.segmentation = with_model(system, model)  # the worker plans with it
    task = planned(system, "check disk on web-1")
    assert len(model.prompts) == 2
    assert task.status == "segmented" and task.segmenter == "rules"
    event = next(dict(r.state) for r in system.history.read()
                 if r.type_name == "TaskSegmented" and str(r.aggregate_id) == task.id)
    assert event["segmenter"] == "rules" and event["actor"] == "altlas:segmenter"
    fallback = system.app.privacy.reveal(event["fallback_reason"])  # sealed: it may quote
    assert fallback.startswith("scripted: no valid plan in 2 attempt(s)")
    assert "did not answer with JSON" in fallback


def test_model_plan_the_policy_refuses_counts_as_invalid(system: System) -> None:
    bad = json.dumps({"steps": [{"id": "s1", "kind": "ssh", "action": "df -h",
                                 "target": "web-9", "needs": []}]})
    outcome = with_model(system, ScriptedModel(bad)).plan(asked(system, "check disk on web-1"))
    assert outcome.segmenter == "rules" and "unknown host 'web-9'" in str(outcome.fallback_reason)


def test_valid_model_plan_is_recorded_as_the_models(system: System) -> None:
    good = json.dumps({"steps": [
        {"id": "s1", "kind": "ssh", "action": "uptime", "target": "db-1", "needs": []},
        {"id": "s2", "kind": "ssh", "action": "free -m", "target": "db-1", "needs": ["s1"]}]})
    system.segmentation = with_model(system, ScriptedModel(good))
    task = planned(system, "find out why db-1 is slow")
    assert task.status == "segmented" and task.segmenter == "scripted"
    assert task.fallback_reason is None
    assert task.plan is not None
    assert [s["action"] for s in task.plan["steps"]] == ["uptime", "free -m"]


def test_a_model_read_two_ways_is_asked_which_was_meant(system: System) -> None:
    at_once = json.dumps({"steps": [
        {"id": "s1", "target": "web-1", "kind": "ssh", "action": "systemctl restart nginx",
         "needs": []},
        {"id": "s2", "target": "web-1", "kind": "ssh", "action": "systemctl is-active nginx",
         "needs": []}]})
    after = at_once.replace('"needs": []}]', '"needs": ["s1"]}]')
    model = ScriptedModel(at_once, after)
    rules = RuleSegmenter(system.policy, "/f")
    system.segmentation = SegmentationService(
        system.app, ModelSegmenter(model, system.policy, "/f"), rules, readings=2)
    task = planned(system, "restart nginx on web-1 and check its status")
    assert model.temperatures == [0.0, SECOND_READING]
    assert task.status == "asking" and task.question is not None
    assert task.question["about"] == "reading" and len(task.question["choices"]) == 2


def test_rules_first_hand_what_they_do_not_understand_to_the_model(system: System) -> None:
    rules = RuleSegmenter(system.policy, "/f")
    model = ScriptedModel(json.dumps({"steps": [
        {"id": "s1", "target": "web-2", "kind": "ssh", "action": "systemctl restart nginx",
         "needs": []}]}))
    service = SegmentationService(system.app, rules, ModelSegmenter(model, system.policy, "/f"))
    understood = service.plan(asked(system, "restart nginx on web-2"))
    assert understood.segmenter == "rules" and model.prompts == []
    slang = service.plan(asked(system, "give nginx on web-2 a kick"))
    assert slang.segmenter == "scripted" and len(model.prompts) == 1
    assert str(slang.fallback_reason).startswith("rules: the rules did not recognise an action")


def test_request_nobody_understands_is_rejected_with_the_reason(system: System) -> None:
    task = planned(system, "make it faster")
    assert task.status == "rejected" and "did not recognise an action" in str(task.rejection)
    assert [r.type_name for r in system.history.read()] == ["TaskRequested", "TaskRejected"]


def test_similar_successful_plans_go_into_the_prompt(system: System, tmp_path: Path) -> None:
    earlier = planned(system, "check disk and load on the altlas host")
    assert system.app.get_run(run_id_of(UUID(earlier.id))).outcome == "succeeded"
    system.similar().catch_up()  # as the worker's follower does when the run completes
    model = ScriptedModel("not json")
    with_model(system, model).plan(asked(system, "check disk and memory on the altlas host"))
    assert "\ncheck disk and load on the altlas host\n" in model.prompts[0]


def test_chaos_is_refused_outside_dev(system: System) -> None:
    task = planned(system, "check disk on web-1", mode="chaos", chaos_level=5)
    assert task.status == "rejected" and "chaos mode runs only in dev" in str(task.rejection)
    dev = planned(system, "check disk on dev-box", mode="chaos", chaos_level=5)
    assert dev.status == "segmented" and dev.plan is not None
    assert "stress-ng --cpu 1 --timeout 50s" in [s["action"] for s in dev.plan["steps"]]


def test_no_plan_of_the_labelled_set_can_lower_a_risk(system: System) -> None:
    """Whatever a segmenter proposes, each recorded risk is at least the policy's own."""
    rules = RuleSegmenter(system.policy, "/srv/altlas/maintenance.flag")
    checked = 0
    for entry in json.loads(SET.read_text())["requests"]:
        try:
            plan = rules.segment(SegmentationRequest(entry["request"]))
        except SegmentationError:
            continue
        policy_risk = [system.policy.classify(s).risk
                       for s in Plan.from_document(plan).steps]
        for proposal in ("READ_ONLY", "CRITICAL"):
            proposed = {"alt": 1, "steps": [{**s, "risk": proposal} for s in plan["steps"]]}
            _, gates = system.app.check_plan(proposed)
            for gate, own in zip(gates, policy_risk, strict=True):
                recorded = gate["risk"]
                assert recorded == (own.value if proposal == "READ_ONLY" else "CRITICAL"), (
                    entry["request"], gate)
        checked += 1
    assert checked >= 60
