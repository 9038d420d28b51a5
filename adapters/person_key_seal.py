"""The rows of the people's keys, sealed with keys derived from the installation key
(ALTLAS_CIPHER_KEY), so that a copy of the store's database shows neither a name nor a key
without it — and once a row is deleted, no copy made later holds it at all.

Two keys are derived with HKDF-SHA256 (different ``info``, so neither says anything about the
other or about the installation key): one seals a row's name and key with AES-GCM, bound to its
pseudonym (a row moved to another pseudonym does not open), the other makes the row's lookup
column, an HMAC of the name, so a person is still found by name.
"""

from __future__ import annotations

import hmac
import json
import os
from base64 import b64decode
from hashlib import sha256

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from application.ports import PersonKey

_VERSION = b"\x01"  # a sealed row starts with it; an AES key in clear is 32 bytes exactly
_NONCE = 12
CLEAR_KEY_BYTES = 32


def _derived(installation_key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"altlas person keys: " + purpose).derive(installation_key)


class UnsealableRowError(ValueError):
    """A row that this installation key did not seal (another key, or moved or altered)."""


class KeyTableSeal:
    def __init__(self, installation_key: bytes) -> None:
        self._rows = AESGCM(_derived(installation_key, b"rows"))
        self._names = _derived(installation_key, b"names")

    @classmethod
    def of(cls, cipher_key: str) -> KeyTableSeal:
        """From ALTLAS_CIPHER_KEY as the settings hold it (base64, checked at start-up)."""
        return cls(b64decode(cipher_key))

    def lookup(self, name: str) -> str:
        """What the row of the person of this name is found by."""
        return hmac.new(self._names, name.encode("utf-8"), sha256).hexdigest()

    def seal(self, person: PersonKey) -> bytes:
        nonce = os.urandom(_NONCE)
        plain = json.dumps({"name": person.name, "key": person.key.hex()}).encode("utf-8")
        return _VERSION + nonce + self._rows.encrypt(nonce, plain,
                                                     person.pseudonym.encode("ascii"))

    def open(self, pseudonym: str, sealed: bytes) -> PersonKey:
        if not is_sealed(sealed):
            raise UnsealableRowError(f"the row of {pseudonym} is not sealed")
        nonce, body = sealed[1:1 + _NONCE], sealed[1 + _NONCE:]
        try:
            found = json.loads(self._rows.decrypt(nonce, body, pseudonym.encode("ascii")))
        except (InvalidTag, ValueError):
            raise UnsealableRowError(f"the row of {pseudonym} does not open with this "
                                     "installation key") from None
        return PersonKey(pseudonym, found["name"], bytes.fromhex(found["key"]))


def is_sealed(stored: bytes) -> bool:
    return len(stored) != CLEAR_KEY_BYTES and stored[:1] == _VERSION
