"""Spoken host and service names come back as the inventory writes them, and nothing else
does: a near spelling is left for the grounding to refuse, never guessed into a name."""

from __future__ import annotations

import pytest

from altlas.settings import Settings
from application.ports import Hearing
from application.voice import (
    initial_prompt,
    needs_confirmation,
    normalise_names,
    recites_prompt,
    tidy,
)
from domain.grounding import Inventory

NAMES = ("web-1", "web-2", "web-12", "db-1", "nginx", "postgres", "api.prod")


@pytest.mark.parametrize(("heard", "meant"), [
    ("check disk on web one", "check disk on web-1"),
    ("Check disk on Web One.", "Check disk on web-1."),
    ("check disk on web 1", "check disk on web-1"),
    ("check disk on web1", "check disk on web-1"),
    ("check disk on web-one", "check disk on web-1"),
    ("restart engine x on web two", "restart nginx on web-2"),
    ("restart engine-x on web two", "restart nginx on web-2"),
    ("restart ng-inx", "restart nginx"),
    ("restart n.g.i.n.x", "restart nginx"),
    ("uptime of web twelve", "uptime of web-12"),
    ("uptime of web one two", "uptime of web-12"),
    ("check api prod", "check api.prod"),
    ("web bir üzerinde diski kontrol et", "web-1 üzerinde diski kontrol et"),
])
def test_spoken_names_are_written_as_the_inventory_writes_them(heard: str, meant: str) -> None:
    assert normalise_names(heard, NAMES) == meant


@pytest.mark.parametrize("heard", [
    "restart ngnix",  # a near spelling is not the name
    "restart nginks",
    "check disk on web on",
    "open the website one",  # a name inside a longer word
    "check web-1-old",  # a longer name that merely starts like one
    "check disk on web three",  # web-3 is not in the inventory
])
def test_near_spellings_and_unlisted_names_are_left_as_heard(heard: str) -> None:
    assert normalise_names(heard, NAMES) == heard


def test_a_spoken_alias_counts_only_when_its_name_is_in_the_inventory() -> None:
    assert normalise_names("restart engine x", ["web-1"]) == "restart engine x"
    assert normalise_names("restart engine x", ["nginx"]) == "restart nginx"


def test_the_prompt_lists_the_names_in_the_clips_language() -> None:
    assert initial_prompt(["web-1", "nginx", "web-1"]).endswith(", on web-1, nginx.")
    assert initial_prompt(["web-1"]).startswith("Check disk, restart")
    assert initial_prompt(["web-1"], "tr").startswith("Diski kontrol et")
    assert "web" not in initial_prompt([])


def test_a_transcript_made_only_of_the_prompts_words_is_doubted() -> None:
    prompt = initial_prompt(["web-1", "nginx"])
    assert recites_prompt("web-1, nginx.", prompt)
    assert recites_prompt("Restart nginx on web-1", prompt)
    assert not recites_prompt("delete the database on web-1", prompt)
    assert not recites_prompt("", prompt)


def test_a_transcript_reads_like_typed_text() -> None:
    assert tidy("  Check disk\n on web-1. ") == "Check disk on web-1"
    assert tidy("Restart, postgresql on db-1, then check disk.") == \
        "Restart postgresql on db-1 then check disk"
    assert tidy("rotate logs on web-1,web-2") == "rotate logs on web-1,web-2"


def _hearing(avg_logprob: float, no_speech_prob: float,
             text: str = "check disk on web-1") -> Hearing:
    return Hearing(text, "en", 0.9, avg_logprob, no_speech_prob, 2.0, "faster-whisper:base", 0.5)


INVENTORY = Inventory({"web-1": "prod", "web-2": "prod", "db-1": "prod"}, ("prod",), "altlas")
SERVICES = ("nginx", "postgresql")
SURE = Settings(speech_min_avg_logprob=-0.6, speech_max_no_speech_prob=0.3)


def test_a_hearing_the_decoder_doubted_must_be_confirmed() -> None:
    assert not needs_confirmation(_hearing(-0.3, 0.05), SURE, INVENTORY)
    assert needs_confirmation(_hearing(-0.9, 0.05), SURE, INVENTORY)
    assert needs_confirmation(_hearing(-0.3, 0.5), SURE, INVENTORY)


@pytest.mark.parametrize("heard", [
    "Start nginx on web-1",  # said "restart": a confident mishearing, another action
    "restart nginx on web-1",
    "reload nginx on web-2 then check disk",
    "check disk on web-1 and reboot it",
    "delete the old logs on db-1",
    "check disk on web-7",  # a host the inventory lacks: heard wrong, or asked wrong
    "don't restart anything, check disk on web-1",  # one unheard "don't" away from a restart
    "enginx on web-1",  # asks for nothing altlas knows
    "Brokate logs on web-1 and web-2",  # said "rotate": a read, with a word nothing explains
])
def test_a_confident_hearing_that_could_change_something_is_confirmed_first(
        heard: str) -> None:
    assert needs_confirmation(_hearing(-0.1, 0.01, heard), SURE, INVENTORY, SERVICES)


@pytest.mark.parametrize("heard", [
    "Check disk on web-1",
    "show the nginx logs on web-2",
    "memory and uptime on db-1",
    "why is web-1 slow",
])
def test_a_confident_hearing_that_only_reads_is_planned_at_once(heard: str) -> None:
    assert not needs_confirmation(_hearing(-0.1, 0.01, heard), SURE, INVENTORY, SERVICES)


def test_the_setting_chooses_what_is_planned_unconfirmed() -> None:
    restart = _hearing(-0.1, 0.01, "restart nginx on web-1")
    disk = _hearing(-0.1, 0.01)
    confident = Settings(speech_plan_at_once="confident")
    never = Settings(speech_plan_at_once="never")
    assert not needs_confirmation(restart, confident, INVENTORY)
    assert needs_confirmation(disk, never, INVENTORY)
