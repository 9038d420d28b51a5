"""An edit of the policy file is on the record once, with what changed, however many
processes noticed it."""

from __future__ import annotations

from application.app import AltlasApplication
from application.history import EventHistory
from domain.policy_history import HISTORY_ID, PolicyHistory
from testkit.fakes.ports import FakePersonKeys
from testkit.helpers import FakeClock, default_policy

EDIT = {"file": "/etc/altlas/policy.yaml", "old_sha256": "a" * 64, "new_sha256": "b" * 64,
        "diff": "-  web-1: {env: prod}\n+  web-3: {env: prod}\n", "owner": "rosa@ops-1"}


def _app() -> AltlasApplication:
    return AltlasApplication(default_policy(), FakeClock(),
                             env={"PERSISTENCE_MODULE": "eventsourcing.popo"},
                             keys=FakePersonKeys())


def _changes(app: AltlasApplication) -> list[PolicyHistory.Changed]:
    return [e for e in app.events.get(HISTORY_ID) if isinstance(e, PolicyHistory.Changed)]


def test_an_edit_is_recorded_with_both_hashes_the_diff_and_the_owner() -> None:
    app = _app()
    assert app.record_policy_change(**EDIT)
    [changed] = _changes(app)
    assert (changed.old_sha256, changed.new_sha256) == (EDIT["old_sha256"], EDIT["new_sha256"])
    assert changed.diff == EDIT["diff"] and changed.owner == "rosa@ops-1"
    assert changed.actor == "altlas:policy"


def test_the_same_edit_noticed_twice_is_recorded_once() -> None:
    app = _app()
    assert app.record_policy_change(**EDIT)
    assert not app.record_policy_change(**EDIT)
    assert len(_changes(app)) == 1


def test_a_process_that_missed_an_edit_records_only_what_is_new() -> None:
    app = _app()
    app.record_policy_change(**EDIT)
    later = {**EDIT, "old_sha256": EDIT["new_sha256"], "new_sha256": "c" * 64}
    assert app.record_policy_change(**later)
    # another process, which saw the first file and then the third, finds it recorded
    assert not app.record_policy_change(**{**later, "old_sha256": EDIT["old_sha256"]})
    assert [c.new_sha256 for c in _changes(app)] == ["b" * 64, "c" * 64]


def test_policy_changes_keep_the_hash_chain() -> None:
    app = _app()
    app.record_policy_change(**EDIT)
    app.record_policy_change(**{**EDIT, "old_sha256": "b" * 64, "new_sha256": "c" * 64})
    assert EventHistory(app).verify().ok


def test_the_diff_names_people_by_pseudonym_and_keeps_their_chat_identities_out() -> None:
    app = _app()
    diff = ('-  alice: {identities: ["slack:U0ALICE01"], locale: en}\n'
            '+  alice: {identities: ["slack:U0ALICE02"], locale: tr}\n'
            "   sre-oncall: [alice, bob, carol]\n   web-1: {env: prod}\n")
    app.record_policy_change(**{**EDIT, "diff": diff}, people={"alice", "bob", "carol", "web"})
    [changed] = _changes(app)
    assert "alice" not in changed.diff and "U0ALICE0" not in changed.diff
    assert "web-1" in changed.diff  # a host is no person, even where a name matches its start
    assert app.privacy.reveal(changed.diff) == diff.replace("U0ALICE01", "…").replace(
        "U0ALICE02", "…")
