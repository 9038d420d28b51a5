"""Chat-ops in Slack: the real Bolt app behind the real HTTP API, Slack's servers faked at the
HTTP boundary with payloads shaped exactly like Slack's."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import httpx
import pytest
import yaml

from adapters.policy_file import default_policy_text
from domain.alerts import IncomingAlert
from testkit.fakes import slack_payloads as p
from testkit.fakes.slack import Call
from testkit.helpers import crowd_policy, operator_policy, write_gguf
from testkit.slack_desk import (
    Desk,
    approval_of,
    blocks,
    card_ts,
    dump,
    ephemeral,
    is_card,
    open_desk,
    posted,
    wait,
)
from tests.e2e.conftest import run_altlas

ALICE, BOB, CAROL, DENIZ, ERIN = "U0ALICE01", "U0BOB0001", "U0CAROL01", "U0DENIZ01", "U0ERIN001"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with open_desk(tmp_path) as opened:
        yield opened


def start_gated(desk: Desk, user: str = ERIN) -> Call:
    started = time.monotonic()
    response = desk.command(user, "do set the maintenance flag on the altlas host")
    assert response.status_code == 200 and time.monotonic() - started < 3
    return wait(lambda: next(iter(posted(desk, is_card)), None))


def test_high_risk_request_in_slack_runs_after_two_approvals(desk: Desk, tmp_path: Path) -> None:
    card = start_gated(desk)
    assert "HIGH_RISK" in dump(blocks(card)) and "Approve" in dump(blocks(card))
    plan = wait(lambda: [c for c in posted(desk) if "Plan for" in c.body.get("text", "")])[0]
    asked = posted(desk, lambda c: c.body.get("text", "").startswith("On it"))[0]
    # the plan answers in the thread of the request's answer
    assert "touch" in plan.body["text"] and plan.body.get("thread_ts") == asked.body["__ts"]

    assert desk.click(ALICE, "altlas_approve", card).status_code == 200
    wait(lambda: ephemeral(desk, ALICE))
    assert ephemeral(desk, ALICE) == ["Vote counted: 1 of 2."]
    first_update = wait(lambda: desk.slack.find("chat.update"))[0]
    assert first_update.body["ts"] == card_ts(card)
    assert "Approved by: alice — 1 more needed" in dump(first_update.body["blocks"])

    desk.click(BOB, "altlas_approve", card)
    result = wait(lambda: [c for c in posted(desk) if "succeeded" in c.body.get("text", "")
                           and c.body.get("thread_ts") == plan.body["thread_ts"]])
    assert "Run " in result[0].body["text"] and len(result) == 1
    assert (tmp_path / "maintenance.flag").exists()
    final = wait(lambda: [c for c in desk.slack.find("chat.update")
                          if "Run " in dump(c.body.get("blocks", []))])
    assert final[-1].body["ts"] == card_ts(card)
    assert '"type": "actions"' not in dump(final[-1].body["blocks"])  # no more buttons

    timeline = desk.system.use_cases().timeline(None, limit=1000)
    actors = [(e["type"], e["actor"]) for e in timeline]
    assert ("TaskRequested", "erin") in actors
    assert ("ApprovalVoteCast", "alice") in actors and ("ApprovalVoteCast", "bob") in actors
    assert ("ApprovalGranted", "bob") in actors
    assert ("StepSucceeded", "altlas:runner") in actors
    assert ("RunCompleted", "altlas:runner") in actors


@pytest.mark.parametrize(
    ("user", "why"),
    [(ERIN, "you asked for this change, so you cannot approve or deny it."),
     ("U0NOBODY1", "I don't know slack:U0NOBODY1."),
     (DENIZ, "you are not an approver")],
)
def test_refused_clicks_say_why_are_recorded_and_change_nothing(
    desk: Desk, user: str, why: str
) -> None:
    card = start_gated(desk)
    approval_id = approval_of(card)
    desk.click(user, "altlas_approve", card)
    said = wait(lambda: [t for t in (ephemeral(desk, user)) if t])
    assert why in said[0] or (user == DENIZ and "onaylayıcı değilsiniz" in said[0])
    refused = wait(lambda: [e for e in desk.system.use_cases().timeline(
        None, type_name="ApprovalAttemptRefused", limit=100)
        if e["aggregate_id"] == approval_id])
    assert refused[0]["data"]["by"] in ("erin", "slack:U0NOBODY1", "deniz")
    assert desk.system.app.get_approval(UUID(approval_id)).votes == []


def test_a_vote_from_the_cli_in_another_process_updates_the_card(
    desk: Desk, env: dict[str, str]
) -> None:
    card = start_gated(desk)
    cli = run_altlas({**env, "ALTLAS_DATA_DIR": str(desk.system.settings.data_dir)},
                     "approve", approval_of(card), "--as", "alice")
    assert cli.returncode == 0, cli.stderr
    update = wait(lambda: [c for c in desk.slack.find("chat.update")
                           if "Approved by: alice" in dump(c.body["blocks"])])
    assert update[-1].body["ts"] == card_ts(card)


def test_a_rate_limited_card_update_is_tried_again_not_dropped(desk: Desk) -> None:
    card = start_gated(desk)
    desk.slack.rate_limited["chat.update"] = 1
    desk.slack.retry_after = 3
    desk.system.app.cast_vote(UUID(approval_of(card)), "alice")  # from the HTTP API, say

    def tries() -> list[Call] | None:
        found = [c for c in desk.slack.find("chat.update")
                 if "Approved by: alice" in dump(c.body["blocks"])]
        return found[:2] if len(found) >= 2 else None

    first, again = wait(tries)
    assert desk.slack.rate_limited["chat.update"] == 0  # the first try got the 429
    assert again.body["ts"] == card_ts(card)
    assert again.at - first.at >= 3  # as long as Retry-After asked, not sooner


def test_second_click_by_same_approver_is_refused(desk: Desk) -> None:
    card = start_gated(desk)
    desk.click(ALICE, "altlas_approve", card)
    wait(lambda: ephemeral(desk, ALICE))
    desk.click(ALICE, "altlas_approve", card)
    said = wait(lambda: ephemeral(desk, ALICE)[1:])
    assert said == ["Refused: you have already approved this; one vote per person."]
    assert desk.system.app.get_approval(UUID(approval_of(card))).votes == ["alice"]


def test_click_after_expiry_is_refused_and_the_message_says_expired(desk: Desk) -> None:
    card = start_gated(desk)
    desk.clock.advance(minutes=16)
    desk.click(ALICE, "altlas_approve", card)
    said = wait(lambda: ephemeral(desk, ALICE))
    assert said[0].startswith("Refused: this approval expired at")
    # nobody clicks again: the worker expires it, and the run is cancelled with the reason
    approval = wait(lambda: (a := desk.system.app.get_approval(UUID(approval_of(card))))
                    .status == "expired" and a)
    update = wait(lambda: [c for c in desk.slack.find("chat.update")
                           if "Expired before enough approvals" in dump(c.body["blocks"])])
    assert update[-1].body["ts"] == card_ts(card)
    run = wait(lambda: (r := desk.system.app.get_run(UUID(approval.run_id or ""))).outcome
               and r)
    assert run.outcome == "cancelled"


def test_deny_opens_a_modal_and_the_reason_cancels_the_run(desk: Desk) -> None:
    card = start_gated(desk)
    desk.click(CAROL, "altlas_deny", card)
    opened = wait(lambda: desk.slack.find("views.open"))[0]
    view = opened.body["view"] if isinstance(opened.body["view"], dict) else json.loads(
        opened.body["view"])
    empty = desk.send(p.view_submission(CAROL, "  ", view), p.FORM)
    assert empty.json() == {"response_action": "errors",
                            "errors": {"reason": "a denial needs a reason."}}
    desk.send(p.view_submission(CAROL, "change freeze until Monday", view), p.FORM)
    update = wait(lambda: [c for c in desk.slack.find("chat.update")
                           if "change freeze" in dump(c.body.get("blocks", []))])
    assert update[0].body["ts"] == card_ts(card)
    assert wait(lambda: [c for c in posted(desk) if "cancelled" in c.body.get("text", "")])
    approval = desk.system.app.get_approval(UUID(approval_of(card)))
    assert approval.status == "denied"


def question(desk: Desk) -> Call:
    return wait(lambda: next((c for c in posted(desk) if any(
        e.get("action_id", "").startswith("altlas_answer:")
        for b in blocks(c) if b.get("type") == "actions" for e in b["elements"])), None))


def answer_click(desk: Desk, user: str, asked: Call, number: int) -> httpx.Response:
    message = {"ts": card_ts(asked), "text": asked.body.get("text", ""),
               "blocks": blocks(asked)}
    button = next(e for b in blocks(asked) if b.get("type") == "actions"
                  for e in b["elements"] if e["action_id"] == f"altlas_answer:{number}")
    return desk.send(p.block_actions(user, button["action_id"], button["value"], message,
                                     desk.slack.response_url(f"act/{user}")), p.FORM)


def test_a_request_naming_no_host_is_asked_back_and_a_button_answers_it(desk: Desk) -> None:
    desk.command(ERIN, "do restart nginx")
    asked = question(desk)
    said = posted(desk, lambda c: c.body.get("text", "").startswith("On it"))[0]
    assert asked.body["thread_ts"] == said.body["__ts"]  # in the request's thread
    assert "Which host should “restart nginx” run on?" in asked.body["text"]
    labels = [e["text"]["text"] for b in blocks(asked) if b.get("type") == "actions"
              for e in b["elements"]]
    assert labels == ["db-1", "dev-box", "localhost", "stage-web-1", "web-1", "web-2"]

    answer_click(desk, ALICE, asked, 6)  # not hers to answer
    assert "only erin, who asked for it, may answer." in wait(lambda: ephemeral(desk, ALICE))[0]
    assert answer_click(desk, ERIN, asked, 6).status_code == 200
    plan = wait(lambda: [c for c in posted(desk) if "Plan for" in c.body.get("text", "")])[0]
    assert "systemctl restart nginx" in plan.body["text"] and "web-2" in plan.body["text"]
    assert plan.body["thread_ts"] == said.body["__ts"]
    kinds = [e["type"] for e in desk.system.use_cases().timeline(None, limit=100)]
    assert kinds[:4] == ["TaskRequested", "TaskClarificationRequested", "TaskClarified",
                         "TaskSegmented"]
    # the question now says who answered what, and has no buttons left to click
    settled = wait(lambda: [c for c in desk.slack.find("chat.update")
                            if c.body["ts"] == card_ts(asked)])[0]
    assert settled.body["text"] == "Asked about “restart nginx”: erin answered web-2."
    assert not [b for b in blocks(settled) if b.get("type") == "actions"]


@contextmanager
def oncall_desk(tmp_path: Path, labels: dict[str, str], remedy: str) -> Iterator[Desk]:
    """Slack with prod's on-call channel, and an alert whose `altlas` annotation asks for
    ``remedy``."""
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = {"slack": "C0ONCALL01"}
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(data))
    with open_desk(tmp_path / "data", tmp_path / "policy.yaml") as desk:
        desk.system.app.receive_alert(IncomingAlert("web01", labels, {"altlas": remedy},
                                                    datetime.now(UTC), None, {}))
        yield desk


def test_what_altlas_asks_about_a_remediation_is_answered_by_the_oncall_people(
    tmp_path: Path
) -> None:
    """An `altlas` annotation naming no host: the question comes in the incident's thread;
    only the on-call people of the environment answer it, and who answered may not then
    approve what they chose."""
    with oncall_desk(tmp_path, {"alertname": "NginxDown", "service": "web"},
                     "restart nginx") as desk:
        [incident] = wait(lambda: [c for c in posted(desk) if "NginxDown" in c.body["text"]])
        asked = question(desk)
        assert asked.body["thread_ts"] == incident.body["__ts"]
        labels = [e["text"]["text"] for b in blocks(asked) if b.get("type") == "actions"
                  for e in b["elements"]]
        web1 = labels.index("web-1") + 1
        answer_click(desk, ERIN, asked, web1)  # a developer, not on call for prod
        assert wait(lambda: ephemeral(desk, ERIN)) == [
            "Refused: altlas:incidents asked for it: only the on-call people of prod (alice, "
            "bob, carol) may answer for it."]
        assert desk.system.use_cases().incidents(None)  # and nothing changed: still asking
        answer_click(desk, ALICE, asked, web1)
        settled = wait(lambda: [c for c in desk.slack.find("chat.update")
                                if c.body["ts"] == card_ts(asked)])[0]
        assert settled.body["text"] == "Asked about “restart nginx”: alice answered web-1."
        card = wait(lambda: [c for c in posted(desk, is_card)
                             if "Approval needed" in c.body["text"]])[0]
        assert "2 needed from bob, carol" in dump(blocks(card))  # alice chose it
        desk.click(ALICE, "altlas_approve", card)
        assert wait(lambda: ephemeral(desk, ALICE)) == [
            "Refused: you wrote this plan or chose what it does, so you cannot approve or "
            "deny it."]
        approval = desk.system.app.get_approval(UUID(approval_of(card)))
        assert approval.votes == [] and "alice" in approval.excluded


def test_an_answer_button_with_a_forged_value_is_refused(desk: Desk) -> None:
    desk.command(ERIN, "do restart nginx")
    asked = question(desk)
    message = {"ts": card_ts(asked), "blocks": blocks(asked)}
    for value in ("not-a-task:1", "x" * 36 + ":999"):
        response = desk.send(p.block_actions(ERIN, "altlas_answer:1", value, message,
                                             desk.slack.response_url("act/forged")), p.FORM)
        assert response.status_code == 400
        assert "TASK-ID:NUMBER" in response.json()["message"]


def test_an_arena_button_with_a_forged_value_is_refused(desk: Desk) -> None:
    before = desk.system.history.last_position()
    for value in ("not-a-duel", "x" * 36 + ";drop"):
        response = desk.send(p.block_actions(ERIN, "altlas_arena:a", value, {"ts": "1.2"},
                                             desk.slack.response_url("act/forged")), p.FORM)
        assert response.status_code == 400
        assert "must be a duel's id" in response.json()["message"]
    assert desk.system.history.last_position() == before


def test_unsigned_or_stale_requests_are_refused_and_record_nothing(desk: Desk) -> None:
    body = p.slash_command(ERIN, "do check disk on web-1", desk.slack.response_url())
    unsigned = httpx.post(f"{desk.url}/slack/events", content=body,
                          headers=p.headers(body, p.FORM, signed=False))
    stale = desk.send(body, p.FORM, timestamp=int(time.time()) - 6 * 60)
    forged = desk.send(body, p.FORM, secret="not-the-secret")
    assert [r.status_code for r in (unsigned, stale, forged)] == [401, 401, 401]
    time.sleep(0.5)
    assert desk.system.history.last_position() == 0
    assert desk.slack.calls == []


def test_atlas_answers_what_ran_and_how_often_it_worked(desk: Desk, tmp_path: Path) -> None:
    desk.command(ALICE, "atlas maintenance")
    assert wait(lambda: ephemeral(desk, ALICE)) == [
        "Nothing in the .atlas matches “maintenance”; try fewer words, or an intent such as "
        "restart or disk."]
    card = start_gated(desk)
    desk.click(ALICE, "altlas_approve", card)
    desk.click(BOB, "altlas_approve", card)
    wait(lambda: (tmp_path / "maintenance.flag").exists())
    wait(lambda: desk.system.use_cases().atlas_patterns(None, "maintenance"))
    desk.command(ALICE, "atlas maintenance")
    answer = wait(lambda: [e for e in ephemeral(desk, ALICE) if e.startswith("local:")])[0]
    assert answer.startswith("local:maintenance · 1 run(s) · 100% ok (21–100%) · mean ")
    assert "asked: “set the maintenance flag on the altlas host”" in answer


def test_a_change_of_model_is_asked_in_slack_and_decided_by_someone_else(
    tmp_path: Path
) -> None:
    operator_policy(tmp_path)
    with open_desk(tmp_path / "data", tmp_path / "policy.yaml") as desk:
        desk.command(ALICE, "models")
        assert wait(lambda: ephemeral(desk, ALICE))[0].startswith("No model is registered")
        desk.system.use_cases().models.add("carol", str(write_gguf(
            desk.system.settings.models_directory / "tiny.gguf")))
        desk.command(ALICE, "models activate tiny")  # not an operator
        assert wait(lambda: ephemeral(desk, ALICE)[1:]) == [
            "Refused: alice may not change the model that plans: that needs the operator "
            "role, which an admin gives in the policy (people → roles)."]
        desk.command(CAROL, "models activate tiny smaller and good enough")
        asked = wait(lambda: [c for c in posted(desk) if "Asked that tiny plan" in c.body["text"]])
        approval = asked[0].body["text"].split("approval ")[1].split()[0]
        desk.command(CAROL, f"approve {approval}")  # who asked never decides
        assert "you asked for this change" in wait(lambda: ephemeral(desk, CAROL))[0]
        desk.command(BOB, f"approve {approval}")
        wait(lambda: [c for c in posted(desk)
                      if c.body["text"] == "Approved by bob. The model changes now."])
        wait(lambda: desk.system.use_cases().models.catalog(None)["active"] == "tiny")
        desk.command(ERIN, "models")
        listed = wait(lambda: ephemeral(desk, ERIN))[0]
        assert "▶ tiny · llama 96 · Q8_0 · context 512 · added" in listed
        assert "Rolling back (`models rollback`) would put ALTLAS_LOCAL_MODEL in charge " \
            "again." in listed
        desk.command(ERIN, "models switch tiny")
        assert wait(lambda: ephemeral(desk, ERIN)[1:]) == [
            "Usage: models · models activate &lt;model name&gt; [why] · models training "
            "&lt;id&gt; · models promote &lt;adapter&gt; [why] · models rollback [why]"]
        desk.command(CAROL, "models promote tiny+lora-0123abcd")
        assert "no training or adapter is tiny+lora-0123abcd" in wait(
            lambda: ephemeral(desk, CAROL)[1:])[0]
        desk.command(CAROL, "models rollback tiny plans badly")
        back = wait(lambda: [c for c in posted(desk) if "Asked to roll back to "
                             "ALTLAS_LOCAL_MODEL" in c.body["text"]])
        approval = back[0].body["text"].split("approval ")[1].split()[0].strip(":")
        desk.command(BOB, f"approve {approval}")
        wait(lambda: desk.system.use_cases().models.catalog(None)["active"] is None)


def test_the_arena_shows_two_plans_as_a_and_b_and_a_click_judges_them(tmp_path: Path) -> None:
    """Which planner made which plan is hidden until the vote; who registered one of the
    models may not judge; the verdict is a match, and the message then says who was who."""
    pytest.importorskip("llama_cpp", reason="the llm extra is not installed")
    from adapters.llm_local import resolve

    operator_policy(tmp_path)
    cache = Path(tempfile.gettempdir()) / "altlas-test-models"
    packaged = resolve("smollm2", cache)[1]
    with open_desk(tmp_path / "data", tmp_path / "policy.yaml", model_cache=cache,
                   models_dir=packaged.parent) as desk:
        desk.system.use_cases().models.add("carol", str(packaged), "smol")
        desk.command(ERIN, "arena check disk on web-1")
        started = wait(lambda: [c for c in posted(desk) if c.body["text"].startswith("Arena ")])
        duel = wait(lambda: [c for c in posted(desk) if "altlas_arena:a" in dump(blocks(c))],
                    180)[0]  # the local model plans on a CPU shared with the other tests
        assert duel.body["thread_ts"] == started[0].body["__ts"]  # in the request's thread
        assert "🥊 Arena: “check disk on web-1” — which plan is better?" in duel.body["text"]
        assert "rules" not in duel.body["text"] and "smol" not in duel.body["text"]
        labels = [e["text"]["text"] for b in blocks(duel) if b["type"] == "actions"
                  for e in b["elements"]]
        assert labels == ["A is better", "B is better", "Tie", "Both bad"]

        def click(user: str, verdict: str) -> None:
            message = {"ts": duel.body["__ts"], "text": duel.body["text"],
                       "blocks": blocks(duel)}
            value = next(e["value"] for b in blocks(duel) if b["type"] == "actions"
                         for e in b["elements"])
            desk.send(p.block_actions(user, f"altlas_arena:{verdict}", value, message,
                                      desk.slack.response_url(f"act/{user}")), p.FORM)

        click(CAROL, "a")  # she registered smol
        assert "carol made one of the planners" in wait(lambda: ephemeral(desk, CAROL))[0]
        duel_id = next(e["value"] for b in blocks(duel) if b["type"] == "actions"
                       for e in b["elements"])
        planned = desk.system.use_cases().arena.duel(None, duel_id)["plans"]
        side = "b" if planned["b"] else "a"  # a side that made no plan cannot win
        click(ALICE, side)
        assert wait(lambda: ephemeral(desk, ALICE)) == [
            f"Counted: {side.upper()}. The match is in the leaderboards."]
        revealed = wait(lambda: [c for c in desk.slack.find("chat.update")
                                 if c.body["ts"] == duel.body["__ts"]])[-1]
        assert f"alice chose {side.upper()}." in revealed.body["text"]
        assert "A was " in revealed.body["text"] and "local:smol" in revealed.body["text"]
        assert '"actions"' not in dump(revealed.body["blocks"])
        click(BOB, "a")  # too late: decided
        assert "decided already" in wait(lambda: ephemeral(desk, BOB))[0]
        kinds = [e["type"] for e in desk.system.use_cases().timeline(None, limit=100)]
        assert kinds.count("MatchPlayed") == 1 and kinds.count("ArenaVoteRefused") == 2


def test_the_leaderboard_is_posted_with_its_chart_in_the_thread(desk: Desk,
                                                                 tmp_path: Path) -> None:
    desk.command(ALICE, "leaderboard")
    first = wait(lambda: posted(desk))[0]
    assert first.body["text"] == ("Nothing to rank yet: runbooks and planners rank as runs "
                                  "complete.")
    card = start_gated(desk)
    desk.click(ALICE, "altlas_approve", card)
    desk.click(BOB, "altlas_approve", card)
    wait(lambda: (tmp_path / "maintenance.flag").exists())
    wait(lambda: desk.system.use_cases().leaderboard(None)["runbooks"])
    for outcome in ("a", "a", "b"):
        desk.system.app.record_match("local:qwen", "rules", outcome, "alice", makers=[])
    desk.command(ALICE, "leaderboard bt")
    board = wait(lambda: [c for c in posted(desk)
                          if c.body.get("text", "").startswith("Runbooks")])[0]
    text = board.body["text"]
    assert "1. local:maintenance · 1/1 ok (21–100%) · resolved in " in text
    assert "1. rules · 1/1 ok (21–100%) · 1 plan(s), 0% refused" in text
    assert "Bradley-Terry ratings from 3 match(es):\n1. local:qwen · " in text
    shared = wait(lambda: desk.slack.find("files.completeUploadExternal"))[0]
    assert shared.body["thread_ts"] == board.body["__ts"]  # the chart is in its thread
    assert shared.body["channel_id"] == board.body["channel"]
    [upload] = desk.slack.uploads.values()
    assert upload.startswith(b"\x89PNG")
    desk.command(ALICE, "leaderboard maintenance")
    history = wait(lambda: [c for c in posted(desk)
                            if c.body.get("text", "").startswith("local:maintenance")])[0]
    assert history.body["text"].startswith("local:maintenance: 1 of 1 runs succeeded; by ")
    wait(lambda: len(desk.slack.find("files.completeUploadExternal")) == 2)
    desk.command(ALICE, "leaderboard reboot the moon")
    assert wait(lambda: [e for e in ephemeral(desk, ALICE) if "No runbook" in e]) == [
        "No runbook matches “reboot the moon”; try `atlas` to see what ran."]


def test_incidents_are_shared_in_the_channel_with_their_likely_cause(desk: Desk) -> None:
    desk.command(ALICE, "incidents")
    assert wait(lambda: posted(desk))[0].body["text"] == (
        "No incident is open. `incidents all` lists the resolved ones too.")
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for fingerprint, labels in (("db01", {"alertname": "PostgresDown", "instance": "db-1:9187"}),
                                ("web1", {"alertname": "HighLatency", "service": "web"})):
        desk.system.app.receive_alert(IncomingAlert(fingerprint, labels, {}, at, None, {}))
    wait(lambda: desk.system.use_cases().incidents(None) and len(
        desk.system.use_cases().incidents(None)[0]["alerts"]) == 2)
    desk.command(ALICE, "incidents")
    shared = wait(lambda: [c for c in posted(desk) if "🔥" in c.body.get("text", "")])[0]
    assert "PostgresDown on postgres · open · 2 of 2 alert(s) firing" in shared.body["text"]
    assert "likely cause: postgres (1 alerting component(s) depend on it (web)" in \
        shared.body["text"]
    desk.command(ALICE, "incidents 123")
    assert wait(lambda: [e for e in ephemeral(desk, ALICE) if "incident" in e]) == [
        "Refused: no incident has the id 123; `incidents all` lists them."]


def test_the_incident_message_itself_takes_the_remediations_votes(tmp_path: Path) -> None:
    """Approve on the incident's own message votes as on the card; a click from someone
    who may not approve is refused there too; once decided the message loses its buttons
    and shows the run."""
    with oncall_desk(tmp_path, {"alertname": "NginxDown", "instance": "web-1:9100"},
                     "restart nginx on web-1") as desk:
        [message] = wait(lambda: [c for c in posted(desk) if "NginxDown" in c.body["text"]])
        ts = message.body["__ts"]

        def shown(*said: str) -> list[Call]:
            return [c for c in desk.slack.find("chat.update") if c.body["ts"] == ts
                    and all(s in dump(c.body.get("blocks", [])) for s in said)]

        with_buttons = wait(lambda: shown("Approve s1", "Deny s1", "waits for 2 more"), 30)[-1]
        approval_id = approval_of(with_buttons)
        card = wait(lambda: [c for c in posted(desk, is_card)])[0]
        assert approval_of(card) == approval_id  # the same approval as the card's

        def click(user: str) -> None:
            on = {"ts": ts, "text": with_buttons.body["text"], "blocks": blocks(with_buttons)}
            desk.send(p.block_actions(user, "altlas_approve", approval_id, on,
                                      desk.slack.response_url(f"act/{user}")), p.FORM)

        click(ERIN)  # a developer: not an approver in prod
        assert "you are not an approver" in wait(lambda: ephemeral(desk, ERIN))[0]
        click(ALICE)
        assert wait(lambda: ephemeral(desk, ALICE)) == ["Vote counted: 1 of 2."]
        wait(lambda: shown("Approve s1", "waits for 1 more"), 30)
        click(ALICE)  # twice by the same approver: refused, still one vote
        assert "already" in wait(lambda: ephemeral(desk, ALICE)[1:])[0]
        click(BOB)
        # no buttons left, and how the run went (it fails here: no host key for web-1)
        wait(lambda: [c for c in shown("Run ", "failed") if '"actions"' not in dump(
            c.body["blocks"])], 30)
        approval = desk.system.app.get_approval(UUID(approval_id))
        assert (approval.status, approval.votes) == ("granted", ["alice", "bob"])
        assert len([c for c in posted(desk) if "NginxDown" in c.body["text"]]) == 1


def test_malformed_command_gets_its_usage_line(desk: Desk) -> None:
    desk.command(ALICE, "approve")
    # escaped as Slack's mrkdwn wants it: Slack shows "Usage: approve <approval id>"
    assert wait(lambda: ephemeral(desk, ALICE)) == ["Usage: approve &lt;approval id&gt;"]
    desk.command(ALICE, "deny 1234")
    assert wait(lambda: ephemeral(desk, ALICE)[1:]) == [
        "Usage: deny &lt;approval id&gt; &lt;reason&gt;"]


def test_replies_come_in_the_requesters_language(desk: Desk) -> None:
    desk.command(DENIZ, "runs")
    assert wait(lambda: ephemeral(desk, DENIZ)) == ["Henüz çalışma yok."]
    desk.command(DENIZ, "do web-1'de disk kullanımını kontrol et")
    plan = wait(lambda: [c for c in posted(desk) if "planı" in c.body.get("text", "")])
    assert "df -h" in plan[0].body["text"]


def test_without_a_policy_language_the_slack_profile_decides(desk: Desk) -> None:
    desk.slack.profile_locales.update({"U0STRANGER": "tr-TR", ALICE: "tr-TR"})
    desk.command("U0STRANGER", "runs")
    assert wait(lambda: ephemeral(desk, "U0STRANGER")) == [
        "slack:U0STRANGER kimliğini tanımıyorum. Bir yöneticiden politikadaki bir kişiye "
        "eklemesini isteyin (people → identities)."]
    desk.command(ALICE, "runs")  # alice's language is set in the policy: English
    assert wait(lambda: ephemeral(desk, ALICE)) == ["No runs yet."]
    asked = [c.body for c in desk.slack.find("users.info")]
    assert {b["user"] for b in asked} == {"U0STRANGER", ALICE}


def test_mention_answers_in_the_thread(desk: Desk) -> None:
    desk.send(p.app_mention(ALICE, "approvals", ts="1700000100.000200"), p.JSON)
    reply = wait(lambda: posted(desk))[0]
    assert reply.body["thread_ts"] == "1700000100.000200"
    assert reply.body["text"] == "Nothing waits for your approval."


def test_200_simultaneous_clicks_count_exactly_and_grant_once(tmp_path: Path) -> None:
    policy = crowd_policy(tmp_path, 200, 150)
    with open_desk(tmp_path / "data", policy) as desk:
        card = start_gated(desk)
        approval_id = approval_of(card)
        message = {"ts": card_ts(card), "text": "", "blocks": blocks(card)}

        async def click_all() -> list[int]:
            async with httpx.AsyncClient(timeout=30) as client:
                async def click(i: int) -> int:
                    body = p.block_actions(f"U1{i:08d}", "altlas_approve", approval_id, message,
                                           desk.slack.response_url(f"act/U1{i:08d}"))
                    r = await client.post(f"{desk.url}/slack/events", content=body,
                                          headers=p.headers(body, p.FORM))
                    return r.status_code
                return await asyncio.gather(*(click(i) for i in range(200)))

        assert set(asyncio.run(click_all())) == {200}
        # every click is answered: 199 privately, and the one that granted it in the thread
        wait(lambda: len(desk.slack.find("response_url")) >= 199 and posted(
            desk, lambda c: c.body.get("text", "").startswith("Approved by")), timeout=60)
        events = [r for r in desk.system.history.read() if str(r.aggregate_id) == approval_id]
        types = [r.type_name for r in events]
        assert types.count("ApprovalGranted") == 1
        assert types.count("ApprovalVoteCast") == 150
        assert types.count("ApprovalAttemptRefused") == 50
        voters = [r.state["voter"] for r in events if r.type_name == "ApprovalVoteCast"]
        assert len(set(voters)) == 150
        assert desk.system.app.get_approval(UUID(approval_id)).votes == (
            desk.system.app.privacy.reveal(voters))
