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

    def first(self, front: str, key: str) -> bool: ...

    def seen_or_since(self, front: str, key: str, prefix: str, since: float) -> bool:
        """Whether ``key`` was recorded, or a key starting with ``prefix`` at ``since``
        (seconds since the epoch) or later."""
        ...


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

    def __init__(self, secret: bytes, lifetime: int, ended: EndedSessions,
                 clock: Callable[[], float] = time.time) -> None:
        self._secret = secret
        self.lifetime = lifetime
        self._ended = ended
        self._clock = clock

    def open(self, person: str, token: str) -> tuple[Session, str]:
        """A new session for ``person``, who gave ``token``, and its cookie value."""
        now = self._clock()
        session = Session(person, hashlib.sha256(token.encode()).hexdigest(),
                          int(now) + self.lifetime, secrets.token_urlsafe(16), int(now * 1000))
        body = json.dumps([session.person, session.token_sha256, session.expires,
                           session.nonce, session.opened_ms], separators=(",", ":")).encode()
        return session, f"{_b64(body)}.{_b64(self._sign(b'session', body))}"

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie holds, or None when it is missing, forged, expired or
        signed out."""
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
        if self._ended.seen_or_since(FRONT, _ended_key(nonce), _everywhere_prefix(person),
                                     opened / 1000):
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
