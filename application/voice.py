"""What every speech engine does the same around its decoder: the prompt made of the
inventory's names, spoken names turned back into those names, the doubt about a transcript
that only recites the prompt, and when a hearing must be confirmed before it is planned.

Names are matched exactly, never by a near spelling: a mishearing left as it was is refused
or asked back by the grounding, while a wrong guess would plan another host.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from typing import Literal, Protocol

from application.ports import Hearing
from domain.grounding import Inventory, read_request, unaccounted

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
          "seventeen", "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_TR_ONES = ("sıfır", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz")

# How people say names whose spelling is not how they sound; used only for names in the list.
SPOKEN_AS: dict[str, tuple[str, ...]] = {
    "nginx": ("engine x", "engine-x", "enginex"),
    "postgresql": ("postgres q l", "postgres sequel"),
    "mysql": ("my sql", "my sequel", "my s q l"),
    "kubectl": ("kube control", "cube control", "kube cuddle"),
    "etcd": ("etc d", "e t c d"),
}

_SEP = r"[\s.\-]*"  # what a transcript may put between a name's spoken parts
_EDGE_BEFORE = r"(?<![\w\-])"
_EDGE_AFTER = r"(?![\w]|-\w)"


PlanAtOnce = Literal["read_only", "confident", "never"]

# What a request may ask for and still be planned from a hearing unconfirmed: the grounding's
# intents whose steps only read. A confident mishearing ("start" for "restart") is heard as
# another request, so no confidence threshold can stop it; held to these, the worst it plans
# unasked is another read.
READING_INTENTS = frozenset({
    "status", "state", "logs", "top", "processes", "disk", "load", "memory", "kernel",
    "ports", "failed", "targets_down", "cpu", "error_rate", "health", "summarise", "diagnose",
})


class SpeechThresholds(Protocol):
    """The settings a confirmation is decided by (``altlas.settings.Settings`` has them)."""

    @property
    def speech_min_avg_logprob(self) -> float: ...

    @property
    def speech_max_no_speech_prob(self) -> float: ...

    @property
    def speech_plan_at_once(self) -> PlanAtOnce: ...


def doubted_by_decoder(hearing: Hearing, thresholds: SpeechThresholds) -> bool:
    """The decoder's own doubt: a low mean log-probability, or likely no speech at all."""
    return (hearing.avg_logprob < thresholds.speech_min_avg_logprob
            or hearing.no_speech_prob > thresholds.speech_max_no_speech_prob)


def only_reads(transcript: str, inventory: Inventory, services: Collection[str] = ()) -> bool:
    """The transcript, read as a typed request, asks for something, asks only to read, and
    holds no word altlas cannot account for ("Brokate logs": a "rotate" heard wrong) and no
    host the inventory lacks: planned wrongly, it would still change nothing."""
    reading = read_request(transcript, inventory)
    asked = reading.intents()
    return (bool(asked) and asked <= READING_INTENTS and not reading.unknown_hosts
            and not reading.forbidden and not unaccounted(reading, inventory, services))


def needs_confirmation(hearing: Hearing, thresholds: SpeechThresholds,
                       inventory: Inventory, services: Collection[str] = ()) -> bool:
    """A hearing is planned at once only if the decoder was sure of it and, by the setting,
    it could change nothing if misheard; anything else is shown to its speaker first, so a
    mishearing becomes a question rather than another action."""
    if thresholds.speech_plan_at_once == "never" or doubted_by_decoder(hearing, thresholds):
        return True
    return (thresholds.speech_plan_at_once == "read_only"
            and not only_reads(hearing.text, inventory, services))


# The request words altlas plans, in the style of a typed request: primed with them, Whisper
# writes "check disk" where it heard "check this" from a voice it does not know well.
REQUEST_WORDS = {
    "en": "Check disk, restart, stop, start, reload, show logs, memory, CPU, uptime, "
          "processes, status",
    "tr": "Diski kontrol et, yeniden başlat, durdur, başlat, logları göster, bellek, CPU, "
          "süreçler, durum",
}


def initial_prompt(names: Sequence[str], language: str = "en") -> str:
    """The decoder's prompt: the request words, then the inventory's names spelled as they
    are written, so that "web one" comes back as web-1 and "engine x" as nginx."""
    words = REQUEST_WORDS.get(language, REQUEST_WORDS["en"])
    listed = ", ".join(dict.fromkeys(names))
    return f"{words}, on {listed}." if listed else f"{words}."


def plain_words(text: str) -> list[str]:
    """Lower-case words without punctuation, names kept whole (web-1, db.prod)."""
    return [w.strip(".-") for w in re.findall(r"[\w][\w.\-]*", text.lower()) if w.strip(".-")]


def recites_prompt(text: str, prompt: str) -> bool:
    """A transcript made only of the prompt's words: the decoder may have repeated the prompt
    instead of hearing the clip, so it is heard again without one."""
    words = plain_words(text)
    return bool(words) and set(words) <= set(plain_words(prompt))


def _number_words(digits: str) -> list[list[str]]:
    """How a group of digits may be said: as a number ("twelve") or digit by digit, in
    English or Turkish."""
    said = [[_ONES[int(d)] for d in digits], [_TR_ONES[int(d)] for d in digits]]
    if len(digits) != 2 or digits[0] == "0":
        return said
    n = int(digits)
    if n < 20:
        return [[_TEENS[n - 10]], *said]
    tens, ones = divmod(n, 10)
    return [[_TENS[tens]] + ([] if ones == 0 else [_ONES[ones]]), *said]


def _part_pattern(part: str) -> str:
    if part.isdigit():
        spoken = [_SEP.join(re.escape(w) for w in words) for words in _number_words(part)]
        return "(?:" + "|".join([re.escape(part), *spoken]) + ")"
    # a name's letters may come back split by a hyphen or a dot ("ng-inx", "n.g.i.n.x")
    return r"[.\-]?".join(re.escape(c) for c in part)


def _name_pattern(name: str) -> str:
    parts = re.findall(r"[a-z]+|\d+", name.lower())
    if not parts:
        return re.escape(name.lower())
    spelled = _SEP.join(_part_pattern(p) for p in parts)
    spoken = [_SEP.join(re.escape(w) for w in re.split(r"[\s\-]+", alias))
              for alias in SPOKEN_AS.get(name.lower(), ())]
    return "(?:" + "|".join([spelled, *spoken]) + ")"


def normalise_names(text: str, names: Iterable[str]) -> str:
    """Each spoken or respelled form of a listed name written as the name ("web one" ->
    web-1, "engine x" -> nginx when nginx is listed). Longer names first, so "web one two"
    is web-12 when web-12 is listed, not web-1 followed by "two"."""
    listed = sorted({n for n in names if n.strip()}, key=lambda n: (-len(n), n))
    for name in listed:
        pattern = re.compile(_EDGE_BEFORE + _name_pattern(name) + _EDGE_AFTER, re.IGNORECASE)
        text = pattern.sub(name.replace("\\", "\\\\"), text)
    return text


def tidy(text: str) -> str:
    """The transcript as a typed request would be: one line, no closing full stop, and no
    commas — Whisper writes one where the speaker paused ("restart, postgresql on db-1"), and
    the segmenter reads a comma as the end of a clause."""
    return " ".join(re.sub(r",(?=\s|$)", " ", text).split()).rstrip(".。")
