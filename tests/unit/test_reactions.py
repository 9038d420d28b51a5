"""The process policies, on an in-memory event store with fakes for every port: what altlas
does by itself after each event, once, whoever recorded it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from uuid import UUID

import pytest

from application.app import AltlasApplication
from application.core import Reaction, run_id_of
from application.presenters import RunModel
from application.reactions import EVENT_HANDLERS, LANES, SHARDS, Ports, advance_run
from application.reactor import Lane, begin_tracking, tracking_name
from application.segmentation import SegmentationService
from application.text import run_step_line
from domain.approval import Approval
from domain.duel import Duel
from domain.run import Run
from domain.task import Task
from testkit.fakes.ports import FakePersonKeys, FakeSegmenter
from testkit.helpers import FakeClock, default_policy, step

FLAG = "touch /srv/altlas/maintenance.flag"
CHECK_THEN_FLAG = "check disk and load on this host, then set the maintenance flag"
PLANS = {
    "check disk on this host": [step("s1", action="df -h")],
    CHECK_THEN_FLAG: [step("s1", action="df -h"), step("s2", action="uptime"),
                      step("s3", action=FLAG, needs=["s1", "s2"])],
    "set the maintenance flag on this host if its disk is above 90%": [
        step("s1", action="df -h"),
        step("s2", action=FLAG, needs=["s1"], when="s1.max_percent > 90")],
    "delete /var/lib/app on web-1": [
        step("s1", kind="ssh", action="rm -rf /var/lib/app", target="web-1")],
}


class Altlas:
    """One store, and the lanes of as many workers as a test wants."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.app = AltlasApplication(default_policy(), self.clock,
                                     env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                     keys=FakePersonKeys())
        begin_tracking(self.app, LANES)
        self.segmenter = FakeSegmenter(PLANS)
        self.ports = Ports(SegmentationService(self.app, self.segmenter, None))
        self.claims: dict[str, list[tuple[UUID, str]]] = {}

    def lanes(self, worker: str = "w1") -> list[Lane]:
        claimed = self.claims.setdefault(worker, [])
        return [Lane(self.app, name, kinds, self.ports, worker=worker,
                     on_claims=claimed.extend) for name, kinds in LANES.items()]

    def settle(self, *lanes: Lane) -> None:
        lanes = lanes or tuple(self.lanes())
        while sum(lane.poll() for lane in lanes):
            pass

    def ask(self, request: str, mode: str = "normal") -> UUID:
        task_id = self.app.request_task(request, "deniz", mode=mode, environment="prod")
        self.settle()
        return task_id

    def run(self, task_id: UUID) -> Run:
        return self.app.load(Run, run_id_of(task_id))

    def finish(self, task_id: UUID, step_id: str, worker: str = "w1", **facts: object) -> None:
        """What the worker's executor records when the step returns."""
        self.app.record_step_succeeded(run_id_of(task_id), step_id, exit_code=0, output="ok",
                                       duration_ms=1, facts=dict(facts), worker=worker)


@pytest.fixture
def altlas() -> Iterator[Altlas]:
    found = Altlas()
    yield found
    found.app.close()


def statuses(run: Run) -> dict[str, str]:
    return {s.id: s.status for s in run.steps.values()}


def test_a_request_is_planned_classified_and_its_run_started(altlas: Altlas) -> None:
    task_id = altlas.ask(CHECK_THEN_FLAG)
    task = altlas.app.load(Task, task_id)
    assert task.status == "segmented" and task.segmenter == "fake"
    assert [g["risk"] for g in task.gates] == ["READ_ONLY", "READ_ONLY", "HIGH_RISK"]
    run = altlas.run(task_id)
    assert statuses(run) == {"s1": "running", "s2": "running", "s3": "pending"}
    assert {s.worker for s in run.steps.values() if s.status == "running"} == {"w1"}
    assert altlas.claims["w1"] == [(run.id, "s1"), (run.id, "s2")]
    approval = altlas.app.load(Approval, UUID(str(run.steps["s3"].approval_id)))
    assert approval.is_open and approval.required == 2


def test_a_request_nobody_can_plan_is_rejected_with_the_reason(altlas: Altlas) -> None:
    task = altlas.app.load(Task, altlas.ask("make it faster"))
    rejection = altlas.app.privacy.reveal(str(task.rejection))  # sealed: it quotes the request
    assert task.status == "rejected" and "no plan for 'make it faster'" in rejection
    assert not altlas.app.exists(run_id_of(task.id))


def test_a_dream_is_planned_and_never_run(altlas: Altlas) -> None:
    task_id = altlas.ask("check disk on this host", mode="dream")
    assert altlas.app.load(Task, task_id).status == "segmented"
    assert not altlas.app.exists(run_id_of(task_id))


def test_a_grant_takes_the_run_on_and_the_last_step_completes_it(altlas: Altlas) -> None:
    task_id = altlas.ask(CHECK_THEN_FLAG)
    altlas.finish(task_id, "s1")
    altlas.finish(task_id, "s2")
    altlas.settle()
    assert statuses(altlas.run(task_id))["s3"] == "pending"  # its approval is still open
    approval_id = UUID(str(altlas.run(task_id).steps["s3"].approval_id))
    altlas.app.cast_vote(approval_id, "alice")
    altlas.settle()
    assert statuses(altlas.run(task_id))["s3"] == "pending"
    altlas.app.cast_vote(approval_id, "bob")
    altlas.settle()
    assert statuses(altlas.run(task_id))["s3"] == "running"
    altlas.finish(task_id, "s3")
    altlas.settle()
    run = altlas.run(task_id)
    assert run.outcome == "succeeded" and run.summary == {"succeeded": 3}


def test_a_denial_cancels_the_step_and_completes_the_run(altlas: Altlas) -> None:
    task_id = altlas.ask(CHECK_THEN_FLAG)
    approval_id = UUID(str(altlas.run(task_id).steps["s3"].approval_id))
    altlas.app.deny_approval(approval_id, "carol", "freeze")
    altlas.finish(task_id, "s1")
    altlas.finish(task_id, "s2")
    altlas.settle()
    run = altlas.run(task_id)
    assert run.outcome == "cancelled" and run.steps["s3"].status == "skipped"
    assert "denied by carol: freeze" in altlas.app.privacy.reveal(str(run.steps["s3"].error))


def test_a_condition_that_does_not_hold_skips_the_step_and_nobody_is_asked(
    altlas: Altlas
) -> None:
    task_id = altlas.ask("set the maintenance flag on this host if its disk is above 90%")
    assert altlas.run(task_id).steps["s2"].approval_id is None  # not asked before s1 ran
    altlas.finish(task_id, "s1", max_percent=40)
    altlas.settle()
    run = altlas.run(task_id)
    assert run.outcome == "succeeded" and run.steps["s2"].status == "skipped"
    assert run.steps["s2"].approval_id is None
    assert "condition not met" in str(altlas.app.privacy.reveal(run.steps["s2"]).error)
    assert not [n for n in altlas.app.recorder.select_notifications(0, 10_000)
                if n.topic.endswith("Approval.Requested")]


def test_until_its_condition_is_decided_a_gated_step_says_what_it_waits_for(
    altlas: Altlas
) -> None:
    task_id = altlas.ask("set the maintenance flag on this host if its disk is above 90%")
    run = altlas.app.get_run(run_id_of(task_id))
    model = RunModel.of(run, altlas.app.get_task(task_id), {})
    assert run_step_line(model.steps[1], "en").endswith(
        "asks for approval only if s1.max_percent > 90 holds, once the steps it compares ran")
    assert model.waiting == ()  # nobody is waited for yet


def test_a_condition_that_holds_asks_for_the_approval_then_and_waits_for_it(
    altlas: Altlas
) -> None:
    task_id = altlas.ask("set the maintenance flag on this host if its disk is above 90%")
    altlas.finish(task_id, "s1", max_percent=95)
    altlas.settle()
    run = altlas.run(task_id)
    assert run.steps["s2"].status == "pending" and run.steps["s2"].approval_id is not None
    approval = altlas.app.load(Approval, UUID(run.steps["s2"].approval_id))
    assert approval.is_open and approval.step_id == "s2"
    assert approval.requester == altlas.app.load(Task, task_id).requester  # not who may vote
    assert approval.expires_at > altlas.clock()
    altlas.settle()  # asked once, however often the run is looked at again
    assert altlas.run(task_id).steps["s2"].approval_id == str(approval.id)


def test_critical_work_is_posted_for_a_person_never_run(altlas: Altlas) -> None:
    task_id = altlas.ask("delete /var/lib/app on web-1")
    run = altlas.run(task_id)
    assert run.outcome == "manual_outstanding" and run.steps["s1"].attempts == 0
    assert run.steps["s1"].status == "manual"
    assert "a person does it by hand" in str(run.steps["s1"].error)
    assert altlas.claims.get("w1") == []


def share_of(aggregate_id: UUID) -> str:
    """The share of the runs lane that follows the aggregate's events."""
    return next(name for name, (index, count) in SHARDS.items()
                if aggregate_id.int % count == index)


def test_a_run_succeeds_only_once_a_person_confirms_its_manual_work(altlas: Altlas) -> None:
    task_id = altlas.ask("delete /var/lib/app on web-1")
    run_id = altlas.run(task_id).id
    view = altlas.app.confirm_manual_step(run_id, "s1", by="alice", note="wiped at 10:02")
    assert view.outcome == "succeeded"
    run = altlas.run(task_id)
    step = altlas.app.privacy.reveal(run.steps["s1"])
    assert step.status == "succeeded" and step.confirmed_by == "alice"
    assert step.output == "wiped at 10:02"


def test_each_event_is_reacted_to_once_whichever_worker_gets_there(altlas: Altlas) -> None:
    first, second = altlas.lanes("w1"), altlas.lanes("w2")
    task_id = altlas.app.request_task(CHECK_THEN_FLAG, "deniz", environment="prod")
    moved = True
    while moved:  # a reaction on one lane gives the next lane something to react to
        moved = False
        for mine, theirs in zip(first, second, strict=True):
            # both workers read the same new events; one records its reaction first
            while seen := [n for n in theirs._select(theirs.position(), 100)
                           if theirs._mine(n)]:
                moved = True
                mine.poll()
                assert [theirs._handle(n) for n in seen] == [False] * len(seen)
    run = altlas.run(task_id)
    assert altlas.claims["w1"] == [(run.id, "s1"), (run.id, "s2")]
    assert altlas.claims["w2"] == []
    types = [type(e).__qualname__ for e in altlas.app.repository.event_store.get(run.id)]
    assert types.count("Run.Started") == 1 and types.count("Run.StepStarted") == 2
    reacted = {lane.name.rpartition(".policies.")[2]: lane.stats.reacted for lane in first}
    assert reacted["planning"] == 1  # plan
    assert reacted["runs"] + reacted["runs.1"] == 2  # start, advance: in the run's share
    assert reacted["incidents"] == reacted["enrichment"] == 0
    assert sum(lane.stats.taken_by_others for lane in second) == 3


def test_a_restarted_worker_resumes_after_the_last_event_reacted_to(altlas: Altlas) -> None:
    altlas.ask("check disk on this host")
    task_id = altlas.app.request_task("check disk on this host", "deniz", environment="prod")
    lanes = altlas.lanes("w9")  # a new process
    before = sum(lane.position() for lane in lanes)
    altlas.settle(*lanes)
    assert altlas.app.load(Task, task_id).status == "segmented"
    assert sum(lane.stats.reacted for lane in lanes) == 3
    assert sum(lane.position() for lane in lanes) > before


def test_a_reaction_whose_aggregate_changed_under_it_decides_again(altlas: Altlas) -> None:
    task_id = altlas.ask(CHECK_THEN_FLAG)
    approval_id = UUID(str(altlas.run(task_id).steps["s3"].approval_id))
    calls = []

    def advance_after_a_vote(event: object, r: Reaction, ports: Ports) -> None:
        calls.append(1)
        run = r.get(Run, run_id_of(task_id))
        r.get(Approval, approval_id)  # loaded now: a vote lands before the save
        if len(calls) == 1:
            altlas.app.cast_vote(approval_id, "alice")
        advance_run(event, r, ports)  # type: ignore[arg-type]
        assert run is r.get(Run, run.id)

    handlers = {**EVENT_HANDLERS, Run.StepFailed: advance_after_a_vote}
    lane = Lane(altlas.app, share_of(run_id_of(task_id)), LANES["runs"], altlas.ports,
                worker="w1", on_claims=lambda claims: None, handlers=handlers)
    altlas.app.record_step_failed(run_id_of(task_id), "s1", error="df: no such mount",
                                  exit_code=1, output="", duration_ms=1, worker="w1")
    lane.poll()
    assert len(calls) == 2  # the first decision conflicted with the vote
    approval = altlas.app.load(Approval, approval_id)
    assert altlas.app.privacy.reveal(approval.votes) == ["alice"]
    assert approval.status == "cancelled"  # s3 needs s1, which failed: nobody is asked


def test_a_reaction_that_keeps_failing_is_set_aside_loudly(
    altlas: Altlas, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: object, r: Reaction, ports: Ports) -> None:
        raise RuntimeError("a bug")

    lane = Lane(altlas.app, "planning", LANES["planning"], altlas.ports, worker="w1",
                on_claims=lambda claims: None,
                handlers={Task.Requested: broken, Task.Clarified: broken,
                          Duel.Requested: broken})
    first = altlas.app.request_task("check disk on this host", "deniz")
    second = altlas.app.request_task("check disk on this host", "deniz")
    with caplog.at_level(logging.ERROR):
        lane.poll()
    assert lane.stats.set_aside == 2
    assert lane.position() == altlas.app.recorder.max_notification_id()
    assert any("set aside the reaction" in r.getMessage() and "a bug" in r.getMessage()
               for r in caplog.records)
    assert {altlas.app.load(Task, t).status for t in (first, second)} == {"requested"}


def test_a_read_only_step_of_a_dead_worker_runs_again(altlas: Altlas) -> None:
    task_id = altlas.ask("check disk on this host")
    altlas.app.interrupt_step(run_id_of(task_id), "s1", worker="w1", why="worker w1 stopped")
    altlas.settle(*altlas.lanes("w2"))
    step = altlas.run(task_id).steps["s1"]
    assert (step.status, step.worker, step.attempts, step.interruptions) == (
        "running", "w2", 2, 1)


def test_a_change_of_a_dead_worker_is_never_run_again_and_stops_the_run(
    altlas: Altlas
) -> None:
    task_id = altlas.ask(CHECK_THEN_FLAG)
    approval_id = UUID(str(altlas.run(task_id).steps["s3"].approval_id))
    altlas.finish(task_id, "s1")
    altlas.finish(task_id, "s2")
    altlas.app.cast_vote(approval_id, "alice")
    altlas.app.cast_vote(approval_id, "bob")
    altlas.settle()
    altlas.app.interrupt_step(run_id_of(task_id), "s3", worker="w1", why="worker w1 stopped")
    altlas.settle(*altlas.lanes("w2"))
    run = altlas.run(task_id)
    assert run.outcome == "failed" and run.steps["s3"].status == "failed"
    assert "interrupted: the outcome is unknown (worker w1 stopped)" in str(
        run.steps["s3"].error)
    assert altlas.claims.get("w2") == []


def test_an_interruption_stops_what_was_still_to_run(altlas: Altlas) -> None:
    task_id = altlas.ask("set the maintenance flag on this host if its disk is above 90%")
    run = altlas.run(task_id)
    # s1 is read-only; make it look like a change that was interrupted: the run must not
    # go on to s2, whatever s1's facts would have said
    altlas.app.interrupt_step(run.id, "s1", worker="w1", why="w1 stopped")
    altlas.app.interrupt_step(run.id, "s1", worker=None, why="never")  # not its holder
    assert altlas.run(task_id).steps["s1"].status == "pending"  # rerun: read-only
    for _ in range(3):
        altlas.settle(*altlas.lanes("w2"))
        altlas.app.interrupt_step(run.id, "s1", worker="w2", why="w2 stopped")
    altlas.settle(*altlas.lanes("w3"))
    run = altlas.run(task_id)
    assert run.steps["s1"].status == "failed" and "interrupted 4 times" in str(
        run.steps["s1"].error)
    assert run.steps["s2"].status == "skipped" and "the run stopped at s1" in str(
        run.steps["s2"].error)
    assert run.outcome == "failed"


def test_a_step_waiting_for_its_retry_is_left_to_its_worker(altlas: Altlas) -> None:
    task_id = altlas.ask("check disk on this host")
    altlas.app.record_step_failed(run_id_of(task_id), "s1", error="busy", exit_code=1,
                                  output="", duration_ms=1, will_retry=True, worker="w1")
    altlas.settle(*altlas.lanes("w2"))
    step = altlas.run(task_id).steps["s1"]
    assert (step.status, step.retrying, step.worker) == ("pending", True, "w1")
    altlas.app.record_step_started(run_id_of(task_id), "s1", worker="w1")  # w1's retry
    assert altlas.run(task_id).steps["s1"].attempts == 2


def test_each_share_of_the_runs_lane_moves_its_own_runs_only(altlas: Altlas) -> None:
    lanes = {lane.name: lane for lane in altlas.lanes()}
    others = [lane for name, lane in lanes.items() if name != tracking_name("runs.1")]
    ours: dict[str, UUID] = {}  # runs started by the first share, by the share they are in
    while len(ours) < 2:
        task_id = altlas.app.request_task("check disk on this host", "deniz")
        if share_of(task_id) == "runs":  # the task's events: the first share starts its run
            ours.setdefault(share_of(run_id_of(task_id)), task_id)
    altlas.settle(*others)  # everything but the second share of the runs
    assert altlas.run(ours["runs"]).steps["s1"].status == "running"
    assert altlas.run(ours["runs.1"]).steps["s1"].status == "pending"
    altlas.settle()
    assert altlas.run(ours["runs.1"]).steps["s1"].status == "running"
    assert altlas.claims["w1"].count((run_id_of(ours["runs.1"]), "s1")) == 1


def test_the_second_share_of_the_runs_starts_where_the_unsplit_lane_stood() -> None:
    app = AltlasApplication(default_policy(), FakeClock(),
                            env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                            keys=FakePersonKeys())
    app.request_task("check disk on this host", "deniz")
    app.request_task("check disk on this host", "deniz")
    stood = app.recorder.max_notification_id() - 1  # one event not reacted to yet
    for lane in ("planning", "runs", "incidents", "enrichment"):  # a store before the split
        app.track(tracking_name(lane), stood)
    begin_tracking(app, LANES)
    assert app.tracked(tracking_name("runs.1")) == stood
