"""What a hostile user's input does to the record and to other people's screens: refused
clicks are kept, but never more than one per person, approval and minute; text is stored as
sent and shown with its control characters escaped, and echoing it pings nobody."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from application.app import AltlasApplication
from application.text import shown
from bots.blocks import text_blocks
from domain.approval import Approval
from domain.base import EventMeta
from domain.task import Task
from testkit.fakes.ports import FakePersonKeys
from testkit.helpers import FakeClock, default_policy, gated_plan
from tests.security.gatehouse import Gatehouse, gatehouse

GATED_WORDS = "check disk and load on the altlas host, then set its maintenance flag"
HOSTILE = ("check disk on web-1\x1b[2J\x1b[31m PWNED\x1b[0m\rsafe\u202eevil\x07\x00"
           "\n✅ approved by alice")
RAW = ("\x1b", "\r", "\u202e", "\x07", "\x00")


@pytest.fixture
def busy(tmp_path: Path) -> Iterator[Gatehouse]:
    with gatehouse(tmp_path, worker=True) as house:
        yield house


def _refusals(house: Gatehouse, approval_id: str) -> list[dict[str, Any]]:
    return [e for e in house.get("/timeline", aggregate_id=approval_id, limit=1000)["items"]
            if e["type"] == "ApprovalAttemptRefused"]


class TestRefusedAttemptsOnRecord:
    def test_a_storm_of_refused_clicks_leaves_one_record_per_person_a_minute(
        self, busy: Gatehouse
    ) -> None:
        r = busy.post("/tasks", "deniz", {"request": GATED_WORDS, "environment": "prod"})
        task_id = r.json()["id"]
        approval = busy.until(lambda: [a for a in busy.get("/approvals")["items"]
                                       if a["task_id"] == task_id])[0]
        ref = approval["approval_id"]
        for _ in range(25):
            assert busy.post(f"/approvals/{ref}/votes", "deniz").status_code == 403
        for _ in range(5):
            assert busy.post(f"/approvals/{ref}/denial", "deniz",
                             {"reason": "x"}).status_code == 403
            busy.post("/commands", "deniz", {"text": f"approve {ref}"})
        assert busy.cli("approve", ref, "--as", "deniz").returncode == 2
        for _ in range(10):
            assert busy.post(f"/approvals/{ref}/votes", "adam").status_code == 403
        kept = _refusals(busy, ref)
        assert sorted(e["actor"] for e in kept) == ["adam", "deniz"]
        assert busy.get(f"/approvals/{ref}")["votes"] == []

    def test_the_next_minute_a_refusal_is_recorded_again(self) -> None:
        clock = FakeClock()
        app = AltlasApplication(default_policy(), clock,
                                env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                keys=FakePersonKeys())
        task = app.submit_plan("flag it", gated_plan(), "deniz", environment="prod")
        run, approvals = app.open_run(app.load(Task, UUID(task.id)),
                                      EventMeta.for_command("deniz"), clock())
        app.save(run, *approvals)
        approval_id, start = approvals[0].id, clock.now
        for seconds in (0, 10, 59, 61, 62, 200):
            clock.now = start + timedelta(seconds=seconds)
            app.record_refused_attempt(approval_id, "approve", "deniz", "asked for it")
        kept = [e for e in app.events.get(approval_id)
                if isinstance(e, Approval.AttemptRefused)]
        assert [(e.at - start).total_seconds() for e in kept] == [0, 61, 200]
        app.close()


class TestTextIsStoredAsSentAndShownEscaped:
    def test_a_hostile_request_is_kept_exactly_and_shown_escaped_everywhere(
        self, busy: Gatehouse
    ) -> None:
        r = busy.post("/tasks", "deniz", {"request": HOSTILE, "environment": "prod"})
        assert r.status_code == 201, r.text
        task_id = r.json()["id"]
        assert busy.get(f"/tasks/{task_id}")["request"] == HOSTILE
        busy.until(lambda: busy.get(f"/tasks/{task_id}")["status"] != "requested")
        shows = [busy.cli("task", "show", task_id[:8]).stdout,
                 busy.cli("task", "list").stdout,
                 busy.post("/commands", "deniz", {"text": f"status {task_id[:8]}"}
                           ).json()["text"]]
        for text in shows:
            assert not any(c in text for c in RAW), repr(text)
            assert "\\x1b[2J" in text and "\\u202e" in text
            assert not any(line.lstrip().startswith("✅ approved by alice")
                           for line in text.splitlines()), text

    @pytest.mark.parametrize("text", [HOSTILE, "tab\there", "zero\u200bwidth", "bom\ufeff",
                                      "c1\x85\x9b31m", "del\x7f"])
    def test_nothing_invisible_or_controlling_survives_showing(self, text: str) -> None:
        out = shown(text)
        assert all(c.isprintable() for c in out), repr(out)
        assert "\\" in out

    def test_plain_text_is_shown_as_it_is(self) -> None:
        for text in ("df -h on web-1", "Türkçe: diski kontrol et", "check ← s1 ✅"):
            assert shown(text) == text

    @pytest.mark.parametrize("mention", ["<!channel>", "<!here>", "<!everyone>",
                                         "<@U0ALICE01>", "<https://evil.example|click>"])
    def test_echoed_text_pings_nobody_in_slack(self, mention: str) -> None:
        [block] = text_blocks(f"working on: restart {mention} now")
        sent = block["text"]["text"]
        assert "<" not in sent and ">" not in sent
        assert "&lt;" in sent and "&gt;" in sent
