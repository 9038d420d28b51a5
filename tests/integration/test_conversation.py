"""People are told what happened from the events, on the front where they asked, in the thread
where they asked, each message once, even across restarts and while the front was down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import pytest
import yaml

from adapters.policy_file import default_policy_text
from altlas.bootstrap import System, bootstrap
from altlas.settings import Settings
from application.core import run_id_of
from application.ports import FrontUnavailableError, Vote
from application.presenters import CardModel
from domain.alerts import IncomingAlert
from testkit.backends import ClockedSystem, OnPostgres, OnSQLite
from testkit.helpers import FakeClock, gated_plan, plan, step


class Recorder:
    """A chat platform that remembers what it was asked to show (application.ports.Notifier)."""

    platform = "slack"

    def __init__(self, down_for: int = 0) -> None:
        self.said: list[tuple[str, str | None, str]] = []
        self.cards: list[tuple[str, str]] = []  # (approval id, status shown)
        self.updates: list[tuple[str, str, str]] = []  # (message, approval status, run outcome)
        self.settled: list[tuple[str, str]] = []  # (message rewritten, what it says now)
        self.attached: list[tuple[str, str, bytes]] = []  # (thread, file name, PNG)
        self.votes: dict[str, list[str]] = {}  # message → the approvals its buttons vote on
        self.down_for = down_for  # how many more messages find the platform unreachable

    def _reachable(self) -> None:
        if self.down_for:
            self.down_for -= 1
            raise FrontUnavailableError("Slack answered HTTP 503")

    def say(self, channel: str, thread: str | None, text: str,
            votes: Sequence[Vote] = ()) -> str:
        self._reachable()
        self.said.append((channel, thread, text))
        self.votes[f"m{len(self.said)}"] = [v.approval_id for v in votes]
        return f"m{len(self.said)}"

    def show_card(self, channel: str, card: CardModel, locale: str) -> str:
        self._reachable()
        self.cards.append((card.approval.id, card.approval.status))
        return f"card{len(self.cards)}"

    def ask(self, channel: str, thread: str | None, text: str, task_id: str,
            choices: list[str]) -> str:
        self._reachable()
        self.said.append((channel, thread, text))
        return f"m{len(self.said)}"

    def duel(self, channel: str, thread: str | None, text: str, duel_id: str,
             labels: Sequence[tuple[str, str]]) -> str:
        self._reachable()
        self.said.append((channel, thread, text))
        return f"m{len(self.said)}"

    def update_card(self, channel: str, message: str, card: CardModel, locale: str) -> None:
        self._reachable()
        self.updates.append((message, card.approval.status, card.run_outcome or ""))

    def rewrite(self, channel: str, message: str, text: str,
                votes: Sequence[Vote] = ()) -> None:
        self._reachable()
        self.settled.append((message, text))
        self.votes[message] = [v.approval_id for v in votes]

    def attach(self, channel: str, thread: str, filename: str, title: str, png: bytes) -> None:
        self._reachable()
        self.attached.append((thread, filename, png))


SLACK = {"front": "slack", "channel": "C0OPS", "thread": "1700000000.000100", "locale": "en"}


def ask(system: System, tmp_path: Path, reply_to: dict[str, str] | None = SLACK) -> UUID:
    """A gated request asked in Slack, taken by the worker as far as its approval."""
    task = system.app.submit_plan("set the flag",
                                  gated_plan(str(tmp_path / "maintenance.flag")), "deniz",
                                  environment="prod", reply_to=reply_to)
    system.worker().until_quiet()
    return UUID(task.id)


def approval_of(system: System, task_id: UUID) -> UUID:
    run = system.app.get_run(run_id_of(task_id))
    return UUID(next(s.approval_id for s in run.steps if s.approval_id))


class Killed(BaseException):
    """The process dies here (as with kill -9): nothing after it runs."""


class ConversationContract(ClockedSystem):
    def test_the_plan_the_card_the_votes_and_the_result_each_told_once(
        self, system: System, tmp_path: Path
    ) -> None:
        recorder = Recorder()
        conversation = system.conversation(recorder)
        task_id = ask(system, tmp_path)
        conversation.poll()
        [(channel, thread, plan)] = recorder.said
        assert (channel, thread) == ("C0OPS", SLACK["thread"]) and "Plan for" in plan
        approval_id = approval_of(system, task_id)
        assert recorder.cards == [(str(approval_id), "open")]

        system.app.cast_vote(approval_id, "alice")
        conversation.poll()
        assert recorder.updates == [("card1", "open", "")]
        system.app.cast_vote(approval_id, "bob")
        system.worker().until_quiet()
        conversation.poll()  # the grant and the run's end: the card is shown once, as it is
        assert recorder.updates[1:] == [("card1", "granted", "succeeded")]
        result = recorder.said[-1]
        assert result[:2] == ("C0OPS", SLACK["thread"]) and "succeeded" in result[2]
        told = len(recorder.said)
        conversation.poll()
        assert len(recorder.said) == told

    def test_a_question_is_shown_answered_or_expired_once_it_is_closed(
        self, system: System, clock: FakeClock
    ) -> None:
        recorder = Recorder()
        conversation = system.conversation(recorder)
        answered = system.app.request_task("restart nginx", "deniz", reply_to=SLACK)
        system.app.request_task("check disk", "deniz", reply_to=SLACK)  # left to expire
        system.worker().until_quiet()
        conversation.poll()
        assert [text.split("\n")[0] for _, _, text in recorder.said] == [
            "Which host should “restart nginx” run on?", "Which host should “check disk” run on?"]
        system.app.answer_task(answered, "web-1", by="deniz")
        clock.advance(minutes=16)
        system.worker().until_quiet()
        conversation.poll()
        assert recorder.settled == [
            ("m1", "Asked about “restart nginx”: deniz answered web-1."),
            ("m2", "Asked about “check disk”: no answer in time. Ask again, naming the host.")]

    def test_first_start_tells_only_what_happens_from_then_on(
        self, system: System, tmp_path: Path
    ) -> None:
        ask(system, tmp_path)
        recorder = Recorder()
        system.conversation(recorder).poll()
        assert recorder.said == [] and recorder.cards == []

    def test_requests_made_elsewhere_are_not_told_here(self, system: System,
                                                       tmp_path: Path) -> None:
        recorder = Recorder()
        conversation = system.conversation(recorder)
        ask(system, tmp_path, reply_to=None)  # the command line prints for itself
        ask(system, tmp_path, reply_to={**SLACK, "front": "discord"})
        conversation.poll()
        assert recorder.said == [] and recorder.cards == []

    def test_a_reply_waits_for_the_message_that_starts_its_thread(
        self, system: System, tmp_path: Path
    ) -> None:
        recorder = Recorder()
        conversation = system.conversation(recorder)
        task_id = ask(system, tmp_path, reply_to={"front": "slack", "channel": "C0OPS"})
        conversation.poll()  # the front has not posted its answer yet
        assert conversation.unavailable and recorder.said == []
        system.chat_posts().add("slack", f"thread:{task_id}", "C0OPS", "1700000000.000200")
        conversation.poll()
        assert recorder.said[0][1] == "1700000000.000200"

    def test_what_happened_while_no_front_ran_is_told_after_the_restart(
        self, system: System, tmp_path: Path
    ) -> None:
        system.conversation(Recorder()).poll()  # the front ran once, then stopped
        ask(system, tmp_path)
        recorder = Recorder()
        system.conversation(recorder).poll()
        assert "Plan for" in recorder.said[0][2] and len(recorder.cards) == 1

    def test_a_message_the_front_could_not_take_is_sent_when_it_can(
        self, system: System, tmp_path: Path
    ) -> None:
        recorder = Recorder(down_for=1)
        conversation = system.conversation(recorder)
        ask(system, tmp_path)
        conversation.poll()
        assert conversation.unavailable and recorder.said == []
        conversation.poll()
        assert not conversation.unavailable
        assert len(recorder.said) == 1 and len(recorder.cards) == 1

    def test_a_crash_after_a_message_was_sent_does_not_send_it_again(
        self, system: System, tmp_path: Path
    ) -> None:
        system.conversation(Recorder()).poll()
        ask(system, tmp_path)
        first = Recorder()

        def crash(*args: object) -> str:
            raise Killed

        first.show_card = crash  # type: ignore[method-assign]
        with pytest.raises(Killed):
            system.conversation(first).poll()  # the plan went out, then the process died
        assert len(first.said) == 1
        second = Recorder()
        system.conversation(second).poll()  # the restarted process reads the plan again
        assert second.said == [] and len(second.cards) == 1

    def test_a_step_whose_outcome_is_unknown_is_told_with_the_on_call(
        self, system: System, tmp_path: Path
    ) -> None:
        recorder = Recorder()
        conversation = system.conversation(recorder)
        task_id = ask(system, tmp_path)
        approval_id = approval_of(system, task_id)
        system.app.cast_vote(approval_id, "alice")
        system.app.cast_vote(approval_id, "bob")
        run_id = run_id_of(task_id)
        system.app.record_step_started(run_id, "s3", worker="gone:1:abc")
        system.app.interrupt_step(run_id, "s3", worker="gone:1:abc", why="worker gone stopped")
        conversation.poll()
        told = [text for _, _, text in recorder.said if "outcome is unknown" in text]
        assert len(told) == 1 and "alice, bob, carol" in told[0]


    def test_a_kind_of_plan_that_fails_often_is_told_and_shown_beside_the_next_plan(
        self, system: System
    ) -> None:
        recorder = Recorder()
        conversation = system.conversation(recorder)
        failing = plan(step("s1", action="df -h /no-such-place"))
        for _ in range(5):
            system.app.submit_plan("check the disk", failing, "deniz", environment="prod",
                                   reply_to=SLACK)
            system.worker().until_quiet()
        conversation.poll()
        warned = [text for _, _, text in recorder.said if text.startswith("⚠️")]
        assert warned == [
            "⚠️ This kind of plan (local:disk) succeeded 0 of 5 times; last failure: s1: "
            "exited with code 1: df: /no-such-place: No such file or directory\n"
            "On call: alice, bob, carol"]
        system.app.submit_plan("check the disk", plan(step("s1", action="df -h /")), "deniz",
                               environment="prod", reply_to=SLACK)
        system.worker().until_quiet()
        conversation.poll()
        [latest_plan] = [text for _, _, text in recorder.said if "Plan for" in text][-1:]
        warning, similar = latest_plan.splitlines()[-2:]
        assert warning == ("⚠️ This kind of plan (local:disk) succeeded 0 of 5 times; last "
                           "failure: s1: exited with code 1: df: /no-such-place: No such file or "
                           "directory")
        # and how the same request went before, nearest in meaning first
        assert similar.startswith("Similar past runs: ❌ “check the disk” (")
        assert similar.count("❌") == 3


class TestConversationOnSQLite(OnSQLite, ConversationContract):
    pass


class TestConversationOnPostgres(OnPostgres, ConversationContract):
    pass


def test_a_plan_is_posted_without_similar_runs_when_the_vector_store_is_down(
    tmp_path: Path,
) -> None:
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules", embeddings="words",
                                vector_store="weaviate", weaviate_url="http://127.0.0.1:9",
                                weaviate_grpc_port=10))
    try:
        recorder = Recorder()
        conversation = system.conversation(recorder)  # tells what happens from now on
        for path in ("/", "/tmp"):
            system.app.submit_plan("check the disk", plan(step("s1", action=f"df -h {path}")),
                                   "deniz", reply_to=SLACK)
            system.worker().until_quiet()
        conversation.poll()
        plans = [text for _, _, text in recorder.said if "Plan for" in text]
        assert len(plans) == 2 and not any("Similar past runs" in text for text in plans)
    finally:
        system.close()


def test_a_kind_of_plan_that_fails_often_is_told_in_the_environments_oncall_channel(
    tmp_path: Path,
) -> None:
    """Asked from the command line (no chat thread), the warning still reaches the on-call
    people: in the channel the policy names for this front, once."""
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = {"slack": "C0ONCALL01"}
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(data))
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules", embeddings="words",
                                policy_file=policy))
    try:
        recorder = Recorder()
        conversation = system.conversation(recorder)
        for _ in range(5):
            system.app.submit_plan("check the disk", plan(step("s1", action="df -h /none")),
                                   "deniz", environment="prod", source="cli")
            system.worker().until_quiet()
        conversation.poll()
        [(channel, thread, text)] = recorder.said
        assert (channel, thread) == ("C0ONCALL01", None)
        assert text.startswith("⚠️ This kind of plan (local:disk) succeeded 0 of 5 times")
        assert text.endswith("On call: alice, bob, carol")
        again = Recorder()
        system.conversation(again).poll()  # the front restarted: said once, not again
        assert again.said == []
    finally:
        system.close()


def test_an_incident_is_one_message_in_the_oncall_channel_rewritten_as_it_changes(
    tmp_path: Path,
) -> None:
    """However many alerts join it, in however many events: one message, posted once, then
    rewritten; a front that cannot post now keeps its place and shows it later."""
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = {"slack": "C0ONCALL01"}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(data))
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules",
                                policy_file=tmp_path / "policy.yaml"))
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def alert(fingerprint: str, labels: dict[str, str], ends: int | None = None,
              **annotations: str) -> None:
        system.app.receive_alert(IncomingAlert(
            fingerprint, labels, annotations, at,
            None if ends is None else at + timedelta(minutes=ends), {},
            resolved=ends is not None))

    try:
        recorder = Recorder(down_for=1)
        conversation = system.conversation(recorder)
        alert("db01", {"alertname": "PostgresDown", "instance": "db-1:9187"},
              altlas="check disk on db-1")
        for n in range(1, 4):
            alert(f"web{n}", {"alertname": f"HighLatency{n}", "instance": "web-1:9100"})
        system.worker().until_quiet()
        conversation.poll()  # Slack is away: nothing shown, nothing lost
        assert recorder.said == []
        while conversation.poll():
            pass
        (channel, thread, text), *replies = recorder.said
        assert (channel, thread) == ("C0ONCALL01", None)
        assert "PostgresDown on postgres · open · 4 of 4 alert(s) firing" in text
        assert "likely cause: postgres (1 alerting component(s) depend on it (web)" in text
        assert "found: PostgresDown on postgres. Likely cause: postgres" in text
        assert "proposed (the alert's altlas annotation): “check disk on db-1” · task " in text
        # the remediation's plan and its run's result, in the incident message's thread
        # (read-only: it ran at once, and failed here, where no host key is configured)
        assert [(c, th) for c, th, _ in replies] == [("C0ONCALL01", "m1")] * 2
        assert replies[0][2].startswith("Plan for “check disk on db-1” — 1 step(s), by rules")
        assert "READ_ONLY" in replies[0][2] and "ALTLAS_SSH_KNOWN_HOSTS" in replies[1][2]
        # and the message itself shows the proposal's steps, their risk and gate
        assert any("df -h" in now and "READ_ONLY" in now for _, now in recorder.settled)
        alert("db01", {}, ends=5)
        for n in range(1, 4):
            alert(f"web{n}", {}, ends=6)
        system.worker().until_quiet()
        conversation.poll()
        assert len(recorder.said) == 1 + len(replies)  # never a second incident message
        *_, (message, now) = recorder.settled
        assert message == "m1" and "✅" in now and "resolved · 0 of 4 alert(s) firing" in now
        again = Recorder()
        system.conversation(again).poll()  # the front restarted: nothing posted again
        assert again.said == []
    finally:
        system.close()


def test_an_incidents_message_carries_the_buttons_of_the_votes_its_remediation_waits_for(
    tmp_path: Path,
) -> None:
    """The remediation needs two approvals: the incident's own message shows Approve / Deny
    for it until the votes are in, then shows how the run went, without buttons."""
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = {"slack": "C0ONCALL01"}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(data))
    system = bootstrap(Settings(data_dir=tmp_path, segmenter="rules",
                                policy_file=tmp_path / "policy.yaml"))
    try:
        recorder = Recorder()
        conversation = system.conversation(recorder)
        system.app.receive_alert(IncomingAlert(
            "web01", {"alertname": "NginxDown", "instance": "web-1:9100"},
            {"altlas": "restart nginx on web-1"}, datetime.now(UTC), None, {}))
        system.worker().until_quiet()
        while conversation.poll():
            pass
        incident = system.use_cases().incidents(None)[0]
        run = system.use_cases().run_model(run_id_of(UUID(incident["remediation"]["task_id"])))
        [waiting] = run.waiting
        assert recorder.votes["m1"] == [waiting.approval_id]
        *_, (message, text) = recorder.settled
        assert message == "m1" and "waits for 2 more approval(s)" in text
        system.use_cases().vote("alice", str(waiting.approval_id))
        system.worker().until_quiet()
        conversation.poll()
        assert recorder.votes["m1"] == [waiting.approval_id]  # one more needed
        assert "waits for 1 more approval(s)" in recorder.settled[-1][1]
        system.use_cases().vote("bob", str(waiting.approval_id))
        system.worker().until_quiet()
        while conversation.poll():
            pass
        assert recorder.votes["m1"] == []  # decided: nothing left to click
        assert "Run " in recorder.settled[-1][1] and "failed" in recorder.settled[-1][1]
        assert [c for c in recorder.said if c[2].startswith("🔥")] == [recorder.said[0]]
    finally:
        system.close()
