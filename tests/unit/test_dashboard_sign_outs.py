"""Ending a person's dashboard sessions everywhere: an admin ends anyone's, a person their
own; anyone else, and a person the policy does not name, is refused with nothing ended and
nothing recorded; the history keeps who ended whose sessions, by pseudonym, hash-chained."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from adapters.web.session import Sessions, SignOuts
from altlas.cli import build_parser
from application.access import AccessDeniedError, UnknownPersonError
from application.app import AltlasApplication
from application.history import EventHistory
from application.privacy import is_pseudonym
from application.use_cases import UseCases
from application.use_cases.sessions import NotInPolicyError
from domain.policy import Policy
from domain.records import RecordedEvent
from testkit.dashboard import SECRET, KeptKeys
from testkit.fakes.ports import FakePersonKeys
from testkit.helpers import TOKENS, FakeClock, token_policy


class Ended:
    """The sign-outs port: whose sessions were ended, in order."""

    def __init__(self) -> None:
        self.people: list[str] = []

    def end_everywhere(self, person: str) -> None:
        self.people.append(person)


class Desk:
    """The use cases on the in-memory store; erin is an admin, deniz is not."""

    def __init__(self) -> None:
        data = yaml.safe_load(token_policy())
        data["people"]["erin"]["roles"] = ["requester", "admin"]
        self.app = AltlasApplication(Policy.from_mapping(data), FakeClock(),
                                     env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                                     keys=FakePersonKeys())
        self.ended = Ended()
        self.uc = UseCases(self.app, EventHistory(self.app), _unused, _unused, _unused,
                           sign_outs=lambda: self.ended)

    def recorded(self) -> list[RecordedEvent]:
        return [r for r in EventHistory(self.app).read()
                if r.type_name == "DashboardSessionsEnded"]


def _unused(*_: Any) -> Any:
    raise AssertionError("not used here")


@pytest.fixture
def desk() -> Iterator[Desk]:
    found = Desk()
    yield found
    found.app.close()


def test_an_admin_ends_another_persons_sessions_on_the_record_by_pseudonym(
        desk: Desk) -> None:
    shown = desk.uc.end_sessions("erin", "bob")
    assert desk.ended.people == ["bob"]
    assert (shown.person, shown.by) == ("bob", "erin")
    [record] = desk.recorded()
    assert is_pseudonym(record.actor) and is_pseudonym(record.data["person"])
    assert desk.app.privacy.reveal([record.actor, record.data["person"]]) == ["erin", "bob"]
    assert shown.id == str(record.aggregate_id)
    assert EventHistory(desk.app).verify().ok


def test_a_person_ends_their_own_sessions_without_the_admin_role(desk: Desk) -> None:
    shown = desk.uc.end_sessions("deniz", "deniz")
    assert desk.ended.people == ["deniz"] and (shown.person, shown.by) == ("deniz", "deniz")
    assert len(desk.recorded()) == 1


def test_someone_without_the_admin_role_cannot_end_another_persons_sessions(
        desk: Desk) -> None:
    with pytest.raises(AccessDeniedError, match=(
            "^deniz may not end the dashboard sessions of another person: that needs the "
            r"admin role, which an admin gives in the policy \(people → roles\)\.$")):
        desk.uc.end_sessions("deniz", "bob")
    assert desk.ended.people == [] and desk.recorded() == []


def test_a_person_the_policy_does_not_name_is_refused_with_those_it_does(desk: Desk) -> None:
    with pytest.raises(NotInPolicyError, match=(
            r"^'mallory' is not a person in the policy, so has no dashboard session to end .*"
            r"name one of: alice, bob, carol, deniz, erin, ivy$")):
        desk.uc.end_sessions("erin", "mallory")
    assert desk.ended.people == [] and desk.recorded() == []


def test_without_the_admin_role_an_unknown_person_is_refused_for_the_role_first(
        desk: Desk) -> None:
    """Nobody without the role learns from the answer whom the policy names."""
    with pytest.raises(AccessDeniedError):
        desk.uc.end_sessions("deniz", "mallory")
    assert desk.ended.people == [] and desk.recorded() == []


def test_a_caller_the_policy_does_not_name_is_refused(desk: Desk) -> None:
    with pytest.raises(UnknownPersonError):
        desk.uc.end_sessions("mallory", "mallory")
    assert desk.ended.people == [] and desk.recorded() == []


def test_signing_out_everywhere_ends_the_persons_earlier_sessions_only() -> None:
    """What the dashboard reads, as the command line writes it without the signing key."""
    kept = KeptKeys()
    sessions = Sessions(SECRET.encode(), 3600, kept)
    laptop, phone = (sessions.open("bob", TOKENS["bob"])[1] for _ in range(2))
    carols = sessions.open("carol", TOKENS["carol"])[1]
    SignOuts(kept).end_everywhere("bob")
    time.sleep(0.01)  # sessions say when they opened to the millisecond
    again = sessions.open("bob", TOKENS["bob"])[1]
    assert [sessions.read(c) is None for c in (laptop, phone, carols, again)] == [
        True, True, False, False]


def test_the_command_line_ends_every_session_or_says_it_needs_everywhere(
        capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    args = parser.parse_args(["ui", "sign-out", "bob", "--everywhere", "--as", "erin"])
    assert (args.person, args.actor, args.everywhere) == ("bob", "erin", True)
    with pytest.raises(SystemExit) as exited:
        parser.parse_args(["ui", "sign-out", "bob", "--as", "erin"])
    assert exited.value.code == 2
    assert "the following arguments are required: --everywhere" in capsys.readouterr().err
