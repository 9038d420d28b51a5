"""Forgetting a person, tried as an attacker would. What they wrote and their name must be gone
from every place people read (views, exports, the API, chat, views fed over Kafka, replays and
rebuilds), while the history still verifies; forgetting is an admin's request that only
someone else may grant; and a lost key table erases, it never crashes."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar
from uuid import UUID

import pytest
import yaml
from fastapi.testclient import TestClient

from adapters.policy_file import default_policy_text
from altlas.bootstrap import System, bootstrap
from application.access import AccessDeniedError
from application.core import run_id_of
from application.use_cases import Filters, NotOnRecordError
from bots.chat import ChatFront
from domain.approval import (
    AuthorCannotApproveError,
    DuplicateVoteError,
    RequesterCannotApproveError,
)
from domain.base import EventMeta
from domain.erasure import AlreadyForgottenError
from domain.task import Task
from streams.audit import read_topic
from testkit.backends import Backend, OnPostgres, OnSQLite
from testkit.helpers import TOKENS, auth, gated_plan
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas
from tests.integration.conftest import (  # noqa: F401  (fixtures)
    kafka_bootstrap,
    pg_schema,
    postgres_url,
    topic_prefix,
)
from tests.integration.test_streams import drain, publish_all

SECRET = "the vault code is 7731"  # what alice asked for, in her words
REASON = "not while I am on call"  # why alice denied deniz's change
ERASED = re.compile(r"erased person #[0-9a-f]{12}")


def privacy_policy(tmp_path: Path) -> Path:
    """The default policy: erin is an admin; bob and alice have API tokens."""
    data = yaml.safe_load(default_policy_text())
    data["people"]["erin"]["roles"] = ["requester", "admin"]
    data["api_tokens"] = {hashlib.sha256(TOKENS[p].encode()).hexdigest(): p
                          for p in ("erin", "bob", "alice")}
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def leaks(text: str) -> list[str]:
    """What of alice's shows in ``text``."""
    return [w for w in ("alice", SECRET, REASON) if w in text]


def as_text(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def keys_table(backend: Backend) -> str:
    schema = backend.events_table.rpartition(".")[0]
    return f"{schema}.altlas_person_keys" if schema else "altlas_person_keys"


def alice_history(system: System, tmp_path: Path) -> tuple[UUID, UUID]:
    """alice asks for work in her own words, and denies deniz's change with a reason."""
    flag = str(tmp_path / "a" / "maintenance.flag")
    theirs = system.app.submit_plan(SECRET, gated_plan(flag), "alice", environment="prod")
    system.worker().until_quiet()
    flag = str(tmp_path / "d" / "maintenance.flag")
    deniz = system.app.submit_plan("flag it", gated_plan(flag), "deniz", environment="prod")
    system.worker().until_quiet()
    gated = next(s for s in system.app.get_run(run_id_of(UUID(deniz.id))).steps
                 if s.approval_id)
    system.use_cases().deny("alice", str(gated.approval_id), REASON)
    system.worker().until_quiet()
    return UUID(theirs.id), UUID(deniz.id)


def forget(system: System, subject: str = "alice", granter: str = "bob") -> None:
    """erin asks to forget ``subject``; ``granter`` grants it; the workers forget."""
    uc = system.use_cases()
    asked = uc.forget("erin", subject, "left the company")
    uc.vote(granter, asked.id)
    system.worker().until_quiet()


class PrivacySystem:
    """A store with the privacy policy; ``extra`` settings for every start."""

    extra: ClassVar[dict[str, Any]] = {}

    @pytest.fixture
    def settings_of(self, backend: Backend, tmp_path: Path) -> Any:
        policy = privacy_policy(tmp_path)

        def settings(**extra: Any) -> Any:
            return backend.settings().model_copy(update={
                "policy_file": policy, "segmenter": "rules", **self.extra, **extra})

        return settings

    @pytest.fixture
    def system(self, settings_of: Any) -> Iterator[System]:
        system = bootstrap(settings_of())
        yield system
        system.close()


class PrivacyContract(PrivacySystem):

    def _history(self, system: System, tmp_path: Path) -> tuple[UUID, UUID]:
        return alice_history(system, tmp_path)

    def _forget(self, system: System, subject: str = "alice", granter: str = "bob") -> None:
        forget(system, subject, granter)

    def _readable(self, system: System) -> dict[str, str]:
        """Everything people read, as text."""
        uc = system.use_cases()
        return {
            "tasks": as_text(uc.tasks(None, Filters(limit=50)).items),
            "runs": as_text(uc.runs(None, Filters(limit=50)).items),
            "timeline": as_text(uc.timeline(None, limit=1000)),
            "approvals": as_text(uc.open_approvals(None)),
            "export": "\n".join(uc.export("erin")),
        }

    # -- what is recorded ------------------------------------------------------------

    def test_the_store_and_its_export_hold_pseudonyms_and_sealed_text_only(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        stored = b"".join(bytes(s) for (s,) in backend.execute(
            f"SELECT state FROM {backend.events_table}"))  # type: ignore[arg-type]
        assert b"alice" not in stored and SECRET.encode() not in stored
        assert REASON.encode() not in stored
        assert leaks("\n".join(system.use_cases().export("erin"))) == []
        # while people still read them as they wrote them
        readable = self._readable(system)
        assert SECRET in readable["tasks"] and REASON in readable["timeline"]

    # -- forgetting ------------------------------------------------------------------

    def test_forgotten_person_is_gone_from_everything_people_read(
        self, system: System, tmp_path: Path
    ) -> None:
        theirs, deniz = self._history(system, tmp_path)
        self._forget(system)
        for where, text in self._readable(system).items():
            assert leaks(text) == [], where
        assert ERASED.search(self._readable(system)["tasks"])
        task = system.app.get_task(theirs)
        assert ERASED.fullmatch(task.requester) and task.request == "[erased]"
        assert "alice" not in as_text(system.app.get_task(deniz).gates)
        card = system.use_cases().card(UUID(next(
            s.approval_id for s in system.app.get_run(run_id_of(deniz)).steps
            if s.approval_id)))  # (its on-call list is the policy's, which still names her)
        assert leaks(as_text([card.approval, card.task])) == []

    def test_the_history_still_verifies_replays_and_rebuilds(
        self, system: System, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        before = system.history.last_position()
        self._forget(system)
        assert system.history.verify().ok
        assert all(r["ok"] for r in system.auditor().verify())
        for runner in system.runners():
            runner.reset()
        assert system.store_feed().catch_up() > before
        readable = self._readable(system)
        assert leaks(readable["tasks"]) == [] and ERASED.search(readable["tasks"])
        then = system.use_cases().tasks(None, Filters(limit=50), as_of=datetime.now(UTC))
        assert leaks(as_text(then.items)) == [] and ERASED.search(as_text(then.items))

    def test_chat_and_the_api_show_the_erased_person(
        self, system: System, tmp_path: Path
    ) -> None:
        theirs, _ = self._history(system, tmp_path)
        self._forget(system)
        chat = ChatFront(system.use_cases())
        reply = chat.run(chat.caller("slack:U0BOB0001", "slack"), f"status {theirs}")
        assert leaks(reply.text) == [] and ERASED.search(reply.text)
        with TestClient(system.api()) as client:
            for path in ("/tasks", f"/tasks/{theirs}", "/timeline?limit=1000",
                         "/events?limit=1000", "/audit/export"):
                answer = client.get(path, headers=auth("erin"))
                assert answer.status_code == 200 and leaks(answer.text) == [], path
            assert ERASED.search(client.get(f"/tasks/{theirs}", headers=auth("bob")).text)

    def test_forgetting_destroys_the_key_and_nothing_else(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        alice = system.app.privacy.find("alice")
        events = system.history.last_position()
        self._forget(system)
        assert backend.execute(f"SELECT name FROM {keys_table(backend)} WHERE pseudonym = ?",
                               alice) == []
        assert {n for (n,) in backend.execute(f"SELECT name FROM {keys_table(backend)}")} >= {
            "bob", "deniz", "erin"}
        recorded = [r.type_name for r in system.history.read(after=events)]
        assert recorded[-1] == "PersonForgotten"
        assert system.app.privacy.find("alice") is None

    # -- who may forget ----------------------------------------------------------------

    def test_only_an_admin_may_ask_and_never_grant_it_themselves(
        self, system: System, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        uc = system.use_cases()
        with pytest.raises(AccessDeniedError, match="needs the admin role"):
            uc.forget("bob", "alice")
        asked = uc.forget("erin", "alice")
        with pytest.raises(RequesterCannotApproveError):
            uc.vote("erin", asked.id)
        with pytest.raises(AuthorCannotApproveError):  # nor the person to be forgotten
            uc.vote("alice", asked.id)
        system.worker().until_quiet()
        assert SECRET in self._readable(system)["tasks"]  # nothing forgotten yet
        with pytest.raises(AccessDeniedError, match="needs the admin role"):
            uc.personal_data("bob", "alice")

    def test_a_denied_request_forgets_nothing_and_may_be_asked_again(
        self, system: System, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        uc = system.use_cases()
        asked = uc.forget("erin", "alice")
        uc.deny("carol", asked.id, "legal hold")
        system.worker().until_quiet()
        assert SECRET in self._readable(system)["tasks"]
        again = uc.forget("erin", "alice")
        assert again.id != asked.id and again.status == "open"

    # -- bad input -----------------------------------------------------------------------

    def test_forgetting_an_unknown_person_is_refused_and_records_nothing(
        self, system: System, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        events = system.history.last_position()
        for who in ("mallory", "#0123456789ab", "p-0123456789ab"):
            with pytest.raises(NotOnRecordError, match="on record"):
                system.use_cases().forget("erin", who)
        assert system.history.last_position() == events

    def test_forgetting_twice_changes_nothing_the_second_time(
        self, system: System, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        alice = system.app.privacy.find("alice")
        assert alice is not None
        self._forget(system)
        events = system.history.last_position()
        with pytest.raises(NotOnRecordError, match="forgotten already"):
            system.use_cases().forget("erin", "alice")
        with pytest.raises(AlreadyForgottenError, match="forgotten already; nothing changed"):
            system.use_cases().forget("erin", f"#{alice[2:]}")
        assert system.history.last_position() == events

    def test_a_lost_key_table_reads_as_erased_and_crashes_nothing(
        self, settings_of: Any, backend: Backend, tmp_path: Path
    ) -> None:
        system = bootstrap(settings_of())
        theirs, deniz = self._history(system, tmp_path)
        system.close()
        backend.execute(f"DROP TABLE {keys_table(backend)}")
        system = bootstrap(settings_of())
        try:
            readable = self._readable(system)
            assert leaks(readable["tasks"]) == [] and ERASED.search(readable["tasks"])
            assert ERASED.fullmatch(system.app.get_task(deniz).requester)
            chat = ChatFront(system.use_cases())
            reply = chat.run(chat.caller("slack:U0BOB0001", "slack"), f"status {theirs}")
            assert ERASED.search(reply.text)
            assert system.history.verify().ok
            # new people are enrolled again, in a table made anew
            task = system.use_cases().request_work("alice", "check disk on web-1")
            assert task.requester == "alice"
        finally:
            system.close()

    # -- history from before pseudonyms -------------------------------------------------

    def test_aggregates_recorded_in_clear_keep_names_and_their_two_person_rule(
        self, system: System, tmp_path: Path
    ) -> None:
        """A task planned before this release: its approval names deniz in clear, and deniz
        still cannot approve it, nor alice vote twice, under any pseudonym."""
        doc, gates = system.app.classify(gated_plan(str(tmp_path / "o" / "maintenance.flag")),
                                        "normal", "deniz")  # as recorded then
        meta = EventMeta.for_command("deniz")
        task = Task.request_work("set the flag", "deniz", meta, environment="prod")
        task.record_segmentation(doc, gates, "v1", EventMeta("deniz", task.correlation_id,
                                                             meta.causation_id))
        system.app.save(task)
        system.worker().until_quiet()
        approval = next(s.approval_id for s in system.app.get_run(run_id_of(task.id)).steps
                        if s.approval_id)
        uc = system.use_cases()
        with pytest.raises(RequesterCannotApproveError):
            uc.vote("deniz", str(approval))
        uc.vote("alice", str(approval))
        with pytest.raises(DuplicateVoteError):
            uc.vote("alice", str(approval))
        voted = [r for r in system.history.read() if r.type_name == "ApprovalVoteCast"]
        assert [r.data["voter"] for r in voted] == ["alice"]  # like the rest of it

    # -- a data-access request -----------------------------------------------------------

    def test_personal_data_is_everything_recorded_about_the_person(
        self, system: System, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        found = list(system.use_cases().personal_data("erin", "alice"))
        kinds = {e["type"] for e in found}
        assert {"TaskRequested", "ApprovalDenied"} <= kinds
        assert SECRET in as_text(found) and REASON in as_text(found)
        assert all("alice" in as_text(e) for e in found)
        assert "flag it" not in as_text(found)  # deniz's request is not about alice

    def test_chat_shows_and_grants_a_request_to_forget(
        self, system: System, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        asked = system.use_cases().forget("erin", "alice", "left")
        chat = ChatFront(system.use_cases())
        status = chat.run(chat.caller("slack:U0BOB0001", "slack"), f"status {asked.id[:8]}")
        assert "forget alice: left" in status.text and not status.cards
        granted = chat.run(chat.caller("slack:U0BOB0001", "slack"), f"approve {asked.id[:8]}")
        assert granted.text == "Approved by bob. The person is being forgotten now."
        system.worker().until_quiet()
        again = chat.run(chat.caller("slack:U0BOB0001", "slack"), f"status {asked.id[:8]}")
        assert leaks(again.text) == [] and ERASED.search(again.text)

    def test_the_api_forgets_for_admins_through_an_approval(
        self, system: System, tmp_path: Path
    ) -> None:
        theirs, _ = self._history(system, tmp_path)
        with TestClient(system.api()) as client:
            body = {"person": "alice", "reason": "left"}
            refused = client.post("/privacy/erasures", json=body, headers=auth("bob"))
            assert refused.status_code == 403
            unknown = client.post("/privacy/erasures", json={"person": "mallory"},
                                  headers=auth("erin"))
            assert unknown.status_code == 404 and "on record" in unknown.json()["message"]
            asked = client.post("/privacy/erasures", json=body, headers=auth("erin"))
            assert asked.status_code == 201, asked.text
            approval = asked.json()["id"]
            own = client.post(f"/approvals/{approval}/votes", headers=auth("erin"))
            assert own.status_code == 403
            data = client.get("/privacy/people/alice/events", headers=auth("erin"))
            assert data.status_code == 200 and SECRET in data.text
            assert client.get("/privacy/people/alice/events",
                              headers=auth("bob")).status_code == 403
            granted = client.post(f"/approvals/{approval}/votes", headers=auth("bob"))
            assert granted.json()["status"] == "granted"
            system.worker().until_quiet()
            shown = client.get(f"/tasks/{theirs}", headers=auth("bob")).json()
            assert ERASED.fullmatch(shown["requester"]) and shown["request"] == "[erased]"

    # -- over Kafka ----------------------------------------------------------------------

    def test_views_fed_from_kafka_read_through_the_same_keys(
        self, settings_of: Any, tmp_path: Path, kafka_bootstrap: str,  # noqa: F811
        topic_prefix: str,  # noqa: F811
    ) -> None:
        system = bootstrap(settings_of(kafka_bootstrap_servers=kafka_bootstrap,
                                       kafka_topic_prefix=topic_prefix))
        try:
            self._history(system, tmp_path)
            relay, feeds = system.relay(), system.kafka_feeds()
            publish_all(relay)
            drain(feeds, system.kafka())
            assert SECRET in self._readable(system)["tasks"]
            self._forget(system)
            publish_all(relay)
            drain(feeds, system.kafka())
            readable = self._readable(system)
            for where in ("tasks", "timeline", "approvals"):
                assert leaks(readable[where]) == [], where
            assert "PersonForgotten" in readable["timeline"]
            records, _, _ = read_topic(system.kafka())
            assert leaks(as_text([r.state for r in records])) == []
            assert all(r["ok"] for r in system.auditor().verify(kafka=True))
            for feed in feeds:
                feed.close()
        finally:
            system.close()


class TestPrivacyOnSQLite(OnSQLite, PrivacyContract):
    def test_the_key_is_gone_from_the_database_files(
        self, system: System, backend: Backend, tmp_path: Path
    ) -> None:
        self._history(system, tmp_path)
        [(key,)] = backend.execute("SELECT key FROM altlas_person_keys WHERE name = 'alice'")
        self._forget(system)
        files = [p for p in tmp_path.glob("events.sqlite3*") if p.is_file()]
        assert files and all(bytes(key) not in p.read_bytes() for p in files)  # type: ignore[arg-type]


class TestPrivacyOnPostgres(OnPostgres, PrivacyContract):
    pass


def test_the_command_line_forgets_through_an_approval(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")},
           "ALTLAS_DATA_DIR": str(tmp_path / "data"), "ALTLAS_SEGMENTER": "rules",
           "ALTLAS_POLICY_FILE": str(privacy_policy(tmp_path))}
    assert altlas(env, "task", "request", SECRET, "--as", "alice").returncode == 0
    assert "needs the admin role" in one_line_error(
        altlas(env, "privacy", "forget", "alice", "--as", "bob"))
    asked = altlas(env, "privacy", "forget", "alice", "--as", "erin", "--reason", "left")
    assert asked.returncode == 0, asked.stderr
    approval = re.search(r"approval ([0-9a-f]{8})", asked.stdout)
    assert approval is not None
    assert SECRET in altlas(env, "privacy", "export", "alice", "--as", "erin").stdout
    granted = altlas(env, "approve", approval.group(1), "--as", "bob")
    assert granted.returncode == 0 and "forgotten" in granted.stdout, granted.stderr
    listed = altlas(env, "task", "list")
    assert leaks(listed.stdout) == [] and ERASED.search(listed.stdout)
    assert "forgotten already" in one_line_error(
        altlas(env, "privacy", "forget", "alice", "--as", "erin"))
    assert altlas(env, "audit", "verify").returncode == 0
