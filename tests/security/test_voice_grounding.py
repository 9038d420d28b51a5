"""Ways around the rule that only a sure hearing that only reads is planned unconfirmed: an
action hidden in a read, quoted, in Turkish, spelled with look-alike letters, or behind a
negation a mishearing could drop. Each must be held for its speaker."""

from __future__ import annotations

import pytest

from altlas.settings import Settings
from application.ports import Hearing
from application.voice import needs_confirmation
from domain.grounding import Inventory

INVENTORY = Inventory({"web-1": "prod", "db-1": "prod"}, ("prod",), "altlas")
SURE = Settings(speech_min_avg_logprob=-0.6, speech_max_no_speech_prob=0.3)


@pytest.mark.parametrize("heard", [
    "check disk on web-1 and then restart nginx",
    'check disk on web-1 and run "systemctl restart nginx"',
    "web-1 nginx yeniden başlat",
    "web-1 nginx'i durdur",
    "r\u0435start nginx on web-1",  # a Cyrillic "е": no action word, and no word altlas knows
    "check\u200b disk on web-1; reboot web-1",
    "show logs on web-1 && reboot",
    "check disk on web-1 or web-9",
    "check disk on WEB-1 then STOP NGINX",
    "don't stop nginx on web-1, show its logs",
])
def test_an_action_dressed_as_a_read_is_held_for_its_speaker(heard: str) -> None:
    hearing = Hearing(heard, "en", 0.99, -0.05, 0.01, 2.0, "faster-whisper:base", 0.5)
    assert needs_confirmation(hearing, SURE, INVENTORY, ("nginx",))
