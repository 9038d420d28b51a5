"""The dashboard's session: an API token exchanged once for a signed cookie.

The cookie carries who signed in, the sha256 of the token they used and when it ends, signed
with HMAC-SHA256. It is checked on every request against the policy file as it stands now,
as the API checks a bearer token: a token taken out of the policy, or a person removed, ends
every session made with it from the next request on. The token itself is never kept.

Signing out records the session's nonce as ended in the view database, which every `altlas
serve` on the store reads, until the cookie would have expired anyway: a copy of the cookie
stops working everywhere, whatever bytes it is re-encoded as. Signing out everywhere records
there when a person did so (or an admin did for them, `altlas ui sign-out`): every session of
theirs opened before then ends the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from domain.policy import Policy

COOKIE = "altlas_session"
SIGNIN_COOKIE = "altlas_signin"  # the sign-in form's own CSRF nonce, before any session
FRONT = "ui"  # the dashboard's keys among the requests seen (projections/seen_requests.py)


class EndedSessions(Protocol):
    """Keys every process sees, kept at least as long as a session lasts."""

    def first(self, front: str, key: str) -> bool:
        """Record ``key``; True if no process had recorded it."""

    def seen_or_since(self, front: str, key: str, prefix: str, since: float) -> bool:
        """Whether ``key`` was recorded, or a key starting with ``prefix`` at ``since``
        (seconds since the epoch) or later."""

    def recorded_since(self, front: str, since: float) -> dict[str, float]:
        """The keys recorded at ``since`` or later, with when (seconds since the epoch)."""


# how often open streams' view of the ended sessions is read again, and how far back each
# read looks (a key is stamped before its transaction commits)
LATELY_EVERY = 1.0
LATELY_OVERLAP = 60.0


class EndedLately:
    """The ended sessions, and (``seen_lately``) the same as read at most ``every`` seconds
    ago, for what asks often: every open page's stream checks its session again every few
    seconds, and 200 of them each asking the database cost the process's other requests
    their speed. A sign-out in another process is seen lately within ``every`` seconds; one
    recorded through this object at once."""

    def __init__(self, ended: EndedSessions, keep: float,
                 clock: Callable[[], float] = time.time, every: float = LATELY_EVERY) -> None:
        self._ended = ended
        self._keep = keep
        self._clock = clock
        self._every = every
        self._lock = threading.Lock()
        self._keys: dict[str, float] = {}  # the dashboard's, as last read
        self._read_at: float | None = None  # by the clock, when the last read began

    def first(self, front: str, key: str) -> bool:
        new = self._ended.first(front, key)
        if front == FRONT:
            with self._lock:
                self._keys[key] = self._clock()
        return new

    def seen_or_since(self, front: str, key: str, prefix: str, since: float) -> bool:
        return self._ended.seen_or_since(front, key, prefix, since)

    def recorded_since(self, front: str, since: float) -> dict[str, float]:
        return self._ended.recorded_since(front, since)

    def seen_lately(self, key: str, prefix: str, since: float) -> bool:
        """``seen_or_since`` for the dashboard's keys, as read at most ``every`` s ago."""
        keys = self._fresh()
        return key in keys or any(at >= since and k.startswith(prefix)
                                  for k, at in keys.items())

    def _fresh(self) -> dict[str, float]:
        with self._lock:
            now = self._clock()
            if self._read_at is not None and now - self._read_at < self._every:
                return self._keys
            since = now - self._keep if self._read_at is None else \
                self._read_at - LATELY_OVERLAP
            self._keys = {k: at for k, at in self._keys.items() if at >= now - self._keep}
            self._keys.update(self._ended.recorded_since(FRONT, since))
            self._read_at = now
            return self._keys


@dataclass(frozen=True)
class Session:
    person: str
    token_sha256: str
    expires: int  # seconds since the epoch
    nonce: str  # ties the CSRF token to this session alone
    opened_ms: int  # milliseconds since the epoch: signing out everywhere ends it if later


class Sessions:
    """Makes and reads session cookies and their CSRF tokens with one secret, and ends
    them in ``ended``, which keeps what it records for ``lifetime`` seconds."""

    def __init__(self, secret: bytes, lifetime: int, ended: EndedSessions | EndedLately,
                 clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self.lifetime = lifetime
        self._ended = ended if isinstance(ended, EndedLately) else \
            EndedLately(ended, lifetime, clock)
        self._clock = clock

    def open(self, person: str, token: str) -> tuple[Session, str]:
        """A new session for ``person``, who gave ``token``, and its cookie value."""
        now = self._clock()
        session = Session(person, hashlib.sha256(token.encode()).hexdigest(),
                          int(now) + self.lifetime, secrets.token_urlsafe(16), int(now * 1000))
        body = json.dumps([session.person, session.token_sha256, session.expires,
                           session.nonce, session.opened_ms], separators=(",", ":")).encode()
        return session, f"{_b64(body)}.{_b64(self._sign(b'session', body))}"

    def read(self, cookie: str | None, *, lately: bool = False) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged, expired or
        signed out (``lately``: as the ended sessions were read at most a second ago, see
        ``EndedLately``)."""
        if not cookie or cookie.count(".") != 1 or len(cookie) > 4096:
            return None
        body_text, signature = cookie.split(".")
        try:
            body = _unb64(body_text)
            valid = hmac.compare_digest(_unb64(signature), self._sign(b"session", body))
            # a cookie from before sessions said when they opened has no fifth field
            person, digest, expires, nonce, opened = json.loads(body) if valid else (None,) * 5
        except (ValueError, TypeError):
            return None
        now = self._clock()
        # a cookie outliving the current lifetime (it was lowered) would outlive its sign-out
        if not valid or not isinstance(expires, int) or not (
                now < expires <= now + self.lifetime):
            return None
        if not (isinstance(person, str) and isinstance(digest, str)
                and isinstance(nonce, str) and isinstance(opened, int)):
            return None
        key, prefix, since = _ended_key(nonce), _everywhere_prefix(person), opened / 1000
        if self._ended.seen_lately(key, prefix, since) if lately else \
                self._ended.seen_or_since(FRONT, key, prefix, since):
            return None
        return Session(person, digest, expires, nonce, opened)

    def end(self, session: Session) -> None:
        """Sign ``session`` out in every process: its cookie, wherever copied, no longer
        opens a page."""
        self._ended.first(FRONT, _ended_key(session.nonce))

    @staticmethod
    def current(session: Session, policy: Policy) -> bool:
        """Whether the token that opened the session still belongs to its person."""
        return policy.api_tokens.get(session.token_sha256) == session.person

    def csrf(self, nonce: str) -> str:
        """The token every form of a session (or of the sign-in page) carries."""
        return _b64(self._sign(b"csrf", nonce.encode()))

    def csrf_ok(self, nonce: str | None, token: str | None) -> bool:
        return bool(nonce and token) and hmac.compare_digest(
            self.csrf(nonce or "").encode(), (token or "").encode())

    def _sign(self, purpose: bytes, body: bytes) -> bytes:
        return hmac.new(self._secret, purpose + b"\0" + body, hashlib.sha256).digest()


class SignOuts:
    """Signs a person out everywhere without the signing key, where ``Sessions.read`` looks in
    every process: the dashboard's Sign out everywhere and `altlas ui sign-out` alike
    (application.ports.SignOuts, through the use case that records who did it)."""

    def __init__(self, ended: EndedSessions) -> None:
        self._ended = ended

    def end_everywhere(self, person: str) -> None:
        """Every session ``person`` opened until now ends; those they open afterwards work."""
        self._ended.first(FRONT, _everywhere_prefix(person) + secrets.token_hex(8))


def _ended_key(nonce: str) -> str:
    return "signed-out:" + hashlib.sha256(nonce.encode()).hexdigest()


def _everywhere_prefix(person: str) -> str:
    return "everywhere:" + hashlib.sha256(person.encode()).hexdigest() + ":"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
