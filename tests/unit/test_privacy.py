"""Pseudonyms and sealed text, without I/O: what is recorded, and how it reads back."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

import pytest

from application.privacy import ERASED_TEXT, UNREADABLE_TEXT, Privacy, erased, is_pseudonym
from domain.catalog import upcast
from domain.records import RecordedEvent
from testkit.fakes.ports import FakePersonKeys


@pytest.fixture
def privacy() -> Privacy:
    return Privacy(FakePersonKeys())


def test_a_person_has_one_pseudonym_and_altlas_none(privacy: Privacy) -> None:
    alice = privacy.pseudonym("alice")
    assert is_pseudonym(alice) and privacy.pseudonym("alice") == alice
    assert privacy.pseudonym("bob") != alice
    assert privacy.pseudonym("altlas:runner") == "altlas:runner"
    assert privacy.pseudonym(alice) == alice  # a pseudonym stays one
    assert privacy.find("carol") is None and privacy.keys.named("carol") is None


def test_sealed_text_holds_neither_the_text_nor_the_name(privacy: Privacy) -> None:
    alice = privacy.pseudonym("alice")
    sealed = privacy.seal(alice, "the vault code is 7731")
    assert sealed.startswith(f"enc:v1:{alice}:") and "7731" not in sealed
    assert privacy.seal(alice, "same") != privacy.seal(alice, "same")  # a fresh nonce each
    assert privacy.reveal(sealed) == "the vault code is 7731"


def test_reveal_reads_names_and_text_inside_what_altlas_composed(privacy: Privacy) -> None:
    carol = privacy.pseudonym("carol")
    composed = f"approval 1 denied by {carol}: {privacy.seal(carol, 'freeze')}"
    assert privacy.reveal(composed) == "approval 1 denied by carol: freeze"


@dataclass(frozen=True)
class View:
    requester: str
    votes: list[str]
    data: dict[str, object]


def test_reveal_rebuilds_views_lists_and_dicts(privacy: Privacy) -> None:
    a, b = privacy.pseudonym("alice"), privacy.pseudonym("bob")
    view = View(a, [a, b], {"note": privacy.seal(b, "done"), "n": 3, "none": None})
    assert privacy.reveal(view) == View("alice", ["alice", "bob"],
                                        {"note": "done", "n": 3, "none": None})
    assert privacy.reveal([("x", a)]) == [("x", "alice")]


def test_what_a_text_reveals_is_never_read_again(privacy: Privacy) -> None:
    """Someone who writes another's pseudonym, or a sealed token, gets it shown as written."""
    alice, bob = privacy.pseudonym("alice"), privacy.pseudonym("bob")
    forged = privacy.seal(alice, "enc:v1:x")
    mention = privacy.seal(bob, f"ask {alice}")
    assert privacy.reveal(forged) == "enc:v1:x"
    assert privacy.reveal(mention) == f"ask {alice}"


def test_a_forgotten_person_reads_as_erased(privacy: Privacy) -> None:
    alice = privacy.pseudonym("alice")
    sealed = privacy.seal(alice, "mine")
    assert privacy.forget(alice) == [] and privacy.forget(alice) is None
    assert privacy.reveal([alice, sealed]) == [erased(alice), ERASED_TEXT]
    assert privacy.find("alice") is None
    assert privacy.seal(alice, "more") == ERASED_TEXT  # nothing new is readable either
    assert privacy.pseudonym("alice") != alice  # a name that comes back is someone new


def test_changed_ciphertext_reads_as_unreadable(privacy: Privacy) -> None:
    bob = privacy.pseudonym("bob")
    sealed = privacy.seal(bob, "hello")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert privacy.reveal(flipped) == UNREADABLE_TEXT
    carol = privacy.pseudonym("carol")
    moved = sealed.replace(bob, carol)  # sealed for bob, claimed for carol
    assert privacy.reveal(moved) == UNREADABLE_TEXT


def test_names_recorded_in_clear_stay_as_written(privacy: Privacy) -> None:
    assert privacy.seal("deniz", "as before") == "as before"
    assert privacy.reveal({"requester": "deniz", "request": "check"}) == {
        "requester": "deniz", "request": "check"}


def test_a_person_forgotten_before_files_were_swept_reads_as_no_file_touched() -> None:
    old = RecordedEvent(position=None, aggregate_id=uuid4(), version=3,
                        type_name="PersonForgotten",
                        state={"subject": "p-00000000a11c", "class_version": 1})
    assert upcast(old).state["files"] == []
