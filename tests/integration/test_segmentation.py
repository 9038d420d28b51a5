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
from application.errors import SegmentationError
from application.ports import SegmentationRequest
from application.segmentation import SegmentationService
from domain.plan import Plan

SET = Path(__file__).resolve().parents[1] / "data" / "segmentation_set.json"


class ScriptedModel:
    """A stand-in for the LanguageModel port: answers from a script, records prompts."""

    name = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.prompts: list[str] = []

    def complete(self, messages: Sequence[Mapping[str, str]], *, max_tokens: int,
                 json_schema: Mapping[str, Any] | None = None) -> str:
        self.prompts.append("\n".join(m["content"] for m in messages))
        return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def with_model(system: System, model: ScriptedModel) -> SegmentationService:
    rules = RuleSegmenter(system.policy, str(system.settings.data_dir / "maintenance.flag"))
    return SegmentationService(system.app, ModelSegmenter(model, system.policy, "/f"), rules,
                               system.reads)


def segmented_event(system: System, task_id: UUID) -> dict[str, Any]:
    return next(dict(r.state) for r in system.history.read()
                if r.type_name == "TaskSegmented" and r.aggregate_id == task_id)


def test_invalid_model_output_is_retried_once_then_the_rules_answer(system: System) -> None:
    model = ScriptedModel("this is not JSON")
    task_id = system.app.request_task("check disk on web-1", "deniz")
    task = with_model(system, model).segment(task_id)
    assert len(model.prompts) == 2
    assert task.status == "segmented" and task.segmenter == "rules"
    event = segmented_event(system, task_id)
    assert event["segmenter"] == "rules"
    assert event["fallback_reason"].startswith("scripted: no valid plan in 2 attempt(s)")
    assert "did not answer with JSON" in event["fallback_reason"]


def test_model_plan_the_policy_refuses_counts_as_invalid(system: System) -> None:
    bad = json.dumps({"steps": [{"id": "s1", "kind": "ssh", "action": "df -h",
                                 "target": "web-9", "needs": []}]})
    task = with_model(system, ScriptedModel(bad)).segment(
        system.app.request_task("check disk on web-1", "deniz"))
    assert task.segmenter == "rules" and "unknown host 'web-9'" in str(task.fallback_reason)


def test_valid_model_plan_is_recorded_as_the_models(system: System) -> None:
    good = json.dumps({"steps": [
        {"id": "s1", "kind": "ssh", "action": "uptime", "target": "db-1", "needs": []},
        {"id": "s2", "kind": "ssh", "action": "free -m", "target": "db-1", "needs": ["s1"]}]})
    task = with_model(system, ScriptedModel(good)).segment(
        system.app.request_task("find out why db-1 is slow", "deniz"))
    assert task.status == "segmented" and task.segmenter == "scripted"
    assert task.fallback_reason is None
    assert [s["action"] for s in task.plan["steps"]] == ["uptime", "free -m"]


def test_rules_first_hand_what_they_do_not_understand_to_the_model(system: System) -> None:
    rules = RuleSegmenter(system.policy, "/f")
    model = ScriptedModel(json.dumps({"steps": [
        {"id": "s1", "target": "web-2", "kind": "ssh", "action": "systemctl restart nginx",
         "needs": []}]}))
    service = SegmentationService(system.app, rules, ModelSegmenter(model, system.policy, "/f"))
    understood = service.segment(system.app.request_task("restart nginx on web-2", "deniz"))
    assert understood.segmenter == "rules" and model.prompts == []
    slang = service.segment(system.app.request_task("bounce nginx on web-2", "deniz"))
    assert slang.segmenter == "scripted" and len(model.prompts) == 1
    assert slang.fallback_reason.startswith("rules: the rules did not recognise an action")


def test_request_nobody_understands_is_rejected_with_the_reason(system: System) -> None:
    task = system.segmentation.segment(system.app.request_task("make it faster", "deniz"))
    assert task.status == "rejected" and "did not recognise an action" in task.rejection
    assert [r.type_name for r in system.history.read()] == ["TaskRequested", "TaskRejected"]


def test_similar_successful_plans_go_into_the_prompt(system: System, tmp_path: Path) -> None:
    earlier = system.segmentation.segment(system.app.request_task(
        "check disk and load on the altlas host", "deniz"))
    run = system.app.start_run(UUID(earlier.id), actor="deniz")
    assert system.worker.advance(UUID(run.id)).outcome == "succeeded"
    model = ScriptedModel("not json")
    with_model(system, model).segment(system.app.request_task(
        "check disk and memory on the altlas host", "deniz"))
    assert "\ncheck disk and load on the altlas host\n" in model.prompts[0]


def test_chaos_is_refused_outside_dev(system: System) -> None:
    chaos = system.app.request_task("check disk on web-1", "deniz", mode="chaos",
                                    chaos_level=5)
    task = system.segmentation.segment(chaos)
    assert task.status == "rejected" and "chaos mode runs only in dev" in task.rejection
    dev = system.segmentation.segment(system.app.request_task(
        "check disk on dev-box", "deniz", mode="chaos", chaos_level=5))
    assert dev.status == "segmented"
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
