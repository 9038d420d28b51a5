"""The per-person rates of expensive work (adapters/rate_limits.py), on a clock the test
moves."""

from __future__ import annotations

from adapters.rate_limits import BucketRates


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_past_the_rate_the_wait_is_until_the_oldest_leaves_the_minute() -> None:
    clock = Clock()
    rates = BucketRates({"replay": 2}, clock)
    assert rates.take("erin", "replay") == 0
    clock.now += 20
    assert rates.take("erin", "replay") == 0
    clock.now += 10
    assert 29 <= rates.take("erin", "replay") <= 31  # the first leaves at 60 s
    clock.now += 31
    assert rates.take("erin", "replay") == 0


def test_a_refused_ask_does_not_push_the_wait_further() -> None:
    clock = Clock()
    rates = BucketRates({"verify": 1}, clock)
    rates.take("ivy", "verify")
    for _ in range(50):
        clock.now += 1
        rates.take("ivy", "verify")
    clock.now += 11  # a minute and a second after the one that counted
    assert rates.take("ivy", "verify") == 0


def test_each_person_and_each_work_has_a_rate_of_its_own() -> None:
    rates = BucketRates({"export": 1, "similar": 1}, Clock())
    assert rates.take("ivy", "export") == 0
    assert rates.take("ivy", "export") > 0
    assert rates.take("alice", "export") == 0
    assert rates.take("ivy", "similar") == 0


def test_zero_or_an_unnamed_work_is_not_limited() -> None:
    rates = BucketRates({"replay": 0}, Clock())
    assert all(rates.take("erin", work) == 0 for work in ("replay", "export") for _ in range(99))
