"""Lanes shared out among workers: one worker follows a lane at a time, evenly, and a lane
whose worker died is taken over."""

from __future__ import annotations

from application.lane_shares import LaneShares
from application.reactions import LANES as ALL

LANES = list(ALL)


class Store:
    """Advisory locks as the store keeps them: one holder per name, released when the
    holder's session ends."""

    def __init__(self) -> None:
        self.holders: dict[str, int] = {}


class Session:
    def __init__(self, store: Store, ident: int) -> None:
        self.store, self.ident, self.asked = store, ident, 0

    def try_acquire(self, name: str) -> bool:
        self.asked += 1
        return self.store.holders.setdefault(name, self.ident) == self.ident

    def release(self, name: str) -> None:
        if self.store.holders.get(name) == self.ident:
            del self.store.holders[name]

    def held(self) -> frozenset[str]:
        return frozenset(n for n, i in self.store.holders.items() if i == self.ident)

    def die(self) -> None:
        for name in self.held():
            del self.store.holders[name]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def worker(store: Store, ident: int, clock: Clock) -> tuple[LaneShares, Session]:
    session = Session(store, ident)
    return LaneShares(session, LANES, retry=1.0, clock=clock), session


def owned(shares: LaneShares) -> set[str]:
    return {lane for lane in LANES if shares.owns(lane)}


def test_a_worker_alone_follows_every_lane() -> None:
    clock = Clock()
    first, _ = worker(Store(), 1, clock)
    assert owned(first) == set(LANES)


def test_a_second_worker_gets_half_the_lanes_once_the_first_shares_them() -> None:
    store, clock = Store(), Clock()
    first, _ = worker(store, 1, clock)
    second, _ = worker(store, 2, clock)
    assert owned(first) == set(LANES)
    assert owned(second) == set()  # nobody follows a lane twice
    first.share(2)
    clock.now += 3
    assert len(owned(first)) == 3 and len(owned(second)) == 2
    assert owned(first) | owned(second) == set(LANES)


def test_two_workers_each_follow_one_share_of_the_runs() -> None:
    store, clock = Store(), Clock()
    first, _ = worker(store, 1, clock)
    second, _ = worker(store, 2, clock)
    owned(first)
    first.share(2)
    clock.now += 3
    assert {"runs", "runs.1"} & owned(first) and {"runs", "runs.1"} & owned(second)


def test_the_lanes_of_a_worker_that_died_are_taken_over_within_the_retry() -> None:
    store, clock = Store(), Clock()
    first, session = worker(store, 1, clock)
    second, _ = worker(store, 2, clock)
    owned(first)
    assert owned(second) == set()
    session.die()  # killed: the store ends its session and its locks
    second.share(1)
    assert owned(second) == set()  # asked less than a second ago
    clock.now += 1.0
    assert owned(second) == set(LANES)


def test_an_idle_worker_woken_by_every_event_asks_the_store_once_a_second() -> None:
    store, clock = Store(), Clock()
    first, _ = worker(store, 1, clock)
    second, session = worker(store, 2, clock)
    owned(first)
    for _ in range(100):  # a hundred events within the same second
        assert not second.owns("runs")
    assert session.asked == 1


def test_a_worker_that_lost_its_session_stops_following_its_lanes() -> None:
    store, clock = Store(), Clock()
    first, session = worker(store, 1, clock)
    owned(first)
    session.die()
    store.holders["runs"] = 2  # another worker took it meanwhile
    first.share(2)
    assert not first.owns("runs")
