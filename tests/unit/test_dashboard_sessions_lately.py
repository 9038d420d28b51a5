"""What open streams check their sessions against: the ended sessions read at most once a
second, however many streams ask (adapters/web/session.py, EndedLately)."""

from __future__ import annotations

from adapters.web.session import EndedLately, Sessions, SignOuts
from testkit.dashboard import KeptKeys
from testkit.helpers import TOKENS

SECRET = b"unit-secret"


class Counted(KeptKeys):
    """The view database's keys, stamped by ``clock`` less ``lag`` (a transaction that
    commits ``lag`` seconds after it stamped its key), counting the reads of them."""

    def __init__(self, clock: Clock) -> None:
        super().__init__()
        self.clock, self.lag, self.reads = clock, 0.0, 0

    def first(self, front: str, key: str) -> bool:
        new = (front, key) not in self.keys
        self.keys.setdefault((front, key), self.clock() - self.lag)
        return new

    def recorded_since(self, front: str, since: float) -> dict[str, float]:
        self.reads += 1
        return super().recorded_since(front, since)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_two_hundred_streams_asking_at_once_cost_one_read() -> None:
    clock = Clock()
    ended = Counted(clock)
    sessions = Sessions(SECRET, 3600, ended, clock=clock)
    cookies = [sessions.open(f"sre{n:03d}", TOKENS["bob"])[1] for n in range(200)]
    assert all(sessions.read(c, lately=True) is not None for c in cookies)
    assert ended.reads == 1
    clock.now += 1.0
    assert all(sessions.read(c, lately=True) is not None for c in cookies)
    assert ended.reads == 2


def test_a_sign_out_in_another_process_reaches_streams_within_a_second() -> None:
    clock = Clock()
    ended = Counted(clock)
    here = Sessions(SECRET, 3600, ended, clock=clock)
    there = Sessions(SECRET, 3600, ended, clock=clock)
    session, cookie = there.open("bob", TOKENS["bob"])
    assert here.read(cookie, lately=True) is not None
    there.end(session)
    assert here.read(cookie) is None, "a page request asks the database at once"
    clock.now += 1.0
    assert here.read(cookie, lately=True) is None


def test_a_sign_out_in_this_process_ends_its_streams_at_once() -> None:
    clock = Clock()
    ended = EndedLately(Counted(clock), 3600, clock)  # one per process, as `serve` has
    sessions = Sessions(SECRET, 3600, ended, clock=clock)
    session, cookie = sessions.open("bob", TOKENS["bob"])
    _, other = sessions.open("bob", TOKENS["bob"])
    assert sessions.read(cookie, lately=True) is not None
    sessions.end(session)
    assert sessions.read(cookie, lately=True) is None
    assert sessions.read(other, lately=True) is not None
    clock.now += 0.001
    SignOuts(ended).end_everywhere("bob")
    assert sessions.read(other, lately=True) is None
    clock.now += 0.5  # the sessions opened afterwards work
    assert sessions.read(sessions.open("bob", TOKENS["bob"])[1], lately=True) is not None


def test_a_key_stamped_before_the_last_read_but_seen_after_it_still_counts() -> None:
    """A key is stamped before its transaction commits: each read looks a minute back."""
    clock = Clock()
    ended = Counted(clock)
    sessions = Sessions(SECRET, 3600, ended, clock=clock)
    session, cookie = sessions.open("bob", TOKENS["bob"])
    assert sessions.read(cookie, lately=True) is not None
    ended.lag = 5.0
    Sessions(SECRET, 3600, ended, clock=clock).end(session)  # another process's sign-out
    clock.now += 1.0
    assert sessions.read(cookie, lately=True) is None
