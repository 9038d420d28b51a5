"""Pseudonyms and crypto-shredding.

Events name people by a pseudonym (``p-`` and 12 random hex digits: nothing about the person
derives it) and carry what they wrote sealed with the person's own AES-GCM key, as
``enc:v1:<pseudonym>:<base64>``. The keys are kept outside the events (ports.PersonKeys). The
hash chain covers the sealed text, so destroying a key (forgetting the person) leaves every
chain verifying while what the history holds about them reads as erased: views, chat, the API,
replays and rebuilds all reveal through the same keys, when people read them.

Events recorded before pseudonyms name people in clear; they are shown as they are.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from application.personal_files import Swept
from application.ports import PersonalFiles, PersonKey, PersonKeys
from domain.people import Seal, as_written, is_person

T = TypeVar("T")
log = logging.getLogger("altlas.privacy")

_PSEUDONYM = re.compile(r"^p-[0-9a-f]{12}$")
# A sealed text, or a pseudonym on its own (also inside text altlas composed, such as
# "denied by p-…: enc:v1:p-…:…"); replaced in one pass, so what a text reveals is never read
# again for more.
_TOKEN = re.compile(r"enc:v1:(p-[0-9a-f]{12}):([A-Za-z0-9_-]+)|\b(p-[0-9a-f]{12})\b")
_NONCE = 12
ERASED_TEXT = "[erased]"
UNREADABLE_TEXT = "[unreadable]"


def is_pseudonym(value: str) -> bool:
    return bool(_PSEUDONYM.match(value))


def erased(pseudonym: str) -> str:
    """How a person whose key is gone is shown."""
    return f"erased person #{pseudonym[2:]}"


@dataclass(frozen=True)
class _Known:
    person: PersonKey | None  # None: no key on record (forgotten, or the table lost)
    cipher: AESGCM | None
    until: float


class Privacy:
    """Names to pseudonyms and back; sealing and revealing what people wrote.

    Keys are cached for ``ttl`` seconds: a forget in this process takes effect at once, one
    in another process here within ``ttl``.
    """

    def __init__(self, keys: PersonKeys, files: PersonalFiles | None = None,
                 forgotten: Callable[[str], bool] | None = None, ttl: float = 2.0) -> None:
        self.keys = keys
        self.files = files
        self.forgotten = forgotten  # what the history says, which a key table cannot undo
        self.ttl = ttl
        self._lock = threading.Lock()
        self._by_name: dict[str, _Known] = {}
        self._by_pseudonym: dict[str, _Known] = {}

    # -- names and pseudonyms -----------------------------------------------------------

    def pseudonym(self, name: str) -> str:
        """The person's pseudonym, made on first use; altlas's own actors and pseudonyms
        stay as they are."""
        if not is_person(name) or is_pseudonym(name):
            return name
        known = self._cached(self._by_name, name)
        if known is None or known.person is None:
            person = self._believed(self.keys.named(name)) or self.keys.enrol(PersonKey(
                f"p-{secrets.token_hex(6)}", name, AESGCM.generate_key(bit_length=256)))
            known = self._remember(person.pseudonym, person)
        assert known.person is not None
        return known.person.pseudonym

    def find(self, name: str) -> str | None:
        """The person's pseudonym if they are on record; never makes one."""
        if not is_person(name) or is_pseudonym(name):
            return name
        known = self._cached(self._by_name, name)
        if known is not None and known.person is not None:
            return known.person.pseudonym
        person = self._believed(self.keys.named(name))
        if person is None:
            return None
        self._remember(person.pseudonym, person)
        return person.pseudonym

    def forget(self, pseudonym: str) -> list[Swept] | None:
        """Take the person out of the files altlas wrote in clear (while their name is
        still known), then destroy their key: what they wrote and their name read as
        erased, for good. What was done to each file; None if no key was on record."""
        person = self.keys.known([pseudonym]).get(pseudonym)
        swept = []
        if person is not None and self.files is not None:
            swept = self.files.forget(pseudonym, person.name)
        with self._lock:
            known = self._by_pseudonym.pop(pseudonym, None)
            if known is not None and known.person is not None:
                self._by_name.pop(known.person.name, None)
        return swept if self.keys.forget(pseudonym) else None

    # -- sealing ------------------------------------------------------------------------

    def seal(self, writer: str, text: str) -> str:
        """``text`` sealed with the key of ``writer`` (a pseudonym). A writer named in
        clear (history from before pseudonyms) or altlas itself: as written. A writer whose
        key is gone: erased already."""
        if not is_pseudonym(writer):
            return text
        known = self._load([writer]).get(writer)
        if known is None or known.cipher is None:
            return ERASED_TEXT
        nonce = os.urandom(_NONCE)
        sealed = known.cipher.encrypt(nonce, text.encode("utf-8"), writer.encode("ascii"))
        data = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode("ascii")
        return f"enc:v1:{writer}:{data}"

    def sealer(self, writer: str) -> Seal:
        """What ``writer`` writes, sealed with their key; altlas's own words as written."""
        if not is_person(writer):
            return as_written
        return lambda text: self.seal(writer, text)

    # -- revealing ----------------------------------------------------------------------

    def reveal(self, value: T) -> T:
        """``value`` (text, or lists, dicts and dataclasses of it) as people read it:
        pseudonyms become names and sealed text plain text, or, where the key is gone,
        "erased person #…" and "[erased]"."""
        found = {m.group(1) or m.group(3)
                 for m in _TOKEN.finditer(json.dumps(value, default=_plain, skipkeys=True))}
        if not found:
            return value
        known = self._load(found)

        def shown(text: str) -> str:
            return _TOKEN.sub(lambda m: _shown(m, known), text)

        return cast(T, _walk(value, shown))

    # -- the cache ----------------------------------------------------------------------

    def _believed(self, person: PersonKey | None) -> PersonKey | None:
        """``person`` unless the history records them forgotten: then their key was put
        back (a row restored from a copy), and is destroyed again."""
        if person is None or self.forgotten is None or not self.forgotten(person.pseudonym):
            return person
        log.warning("the key of %s was put back after they were forgotten: destroyed again",
                    person.pseudonym)
        self.keys.forget(person.pseudonym)
        return None

    def _cached(self, table: dict[str, _Known], key: str) -> _Known | None:
        with self._lock:
            known = table.get(key)
        return known if known is not None and known.until > time.monotonic() else None

    def _remember(self, pseudonym: str, person: PersonKey | None) -> _Known:
        known = _Known(person, AESGCM(person.key) if person else None,
                       time.monotonic() + self.ttl)
        with self._lock:
            self._by_pseudonym[pseudonym] = known
            if person is not None:
                self._by_name[person.name] = known
        return known

    def _load(self, pseudonyms: Iterable[str]) -> dict[str, _Known]:
        out: dict[str, _Known] = {}
        missing = []
        for p in pseudonyms:
            known = self._cached(self._by_pseudonym, p)
            if known is None:
                missing.append(p)
            else:
                out[p] = known
        if missing:
            found = self.keys.known(missing)
            for p in missing:
                out[p] = self._remember(p, self._believed(found.get(p)))
        return out


def _plain(value: Any) -> Any:
    """For finding pseudonyms in anything reveal() is given: dataclasses by their fields."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return vars(value)
    return str(value)


def _shown(m: re.Match[str], known: dict[str, _Known]) -> str:
    sealed_by, data, pseudonym = m.group(1), m.group(2), m.group(3)
    if pseudonym is not None:
        person = known[pseudonym].person
        return person.name if person is not None else erased(pseudonym)
    cipher = known[sealed_by].cipher
    if cipher is None:
        return ERASED_TEXT
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
        text = cipher.decrypt(raw[:_NONCE], raw[_NONCE:], sealed_by.encode("ascii"))
        return text.decode("utf-8")
    except (InvalidTag, ValueError):
        return UNREADABLE_TEXT


def _walk(value: Any, on_text: Callable[[str], str]) -> Any:
    """``value`` with ``on_text`` applied to every text that may name someone, rebuilt as
    the same kinds."""
    kind = type(value)
    if kind is str:
        return on_text(value) if "p-" in value else value
    if kind is dict:
        return {k: _walk(v, on_text) for k, v in value.items()}
    if kind is list:
        return [_walk(v, on_text) for v in value]
    if kind is tuple:
        return tuple(_walk(v, on_text) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: _walk(getattr(value, f.name), on_text)
            for f in dataclasses.fields(value) if f.init})
    return value
