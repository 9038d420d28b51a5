"""The line a command shows on a terminal while it waits: only after two seconds, what it
waits for and for how long, rewritten in place, gone before a result, never in a pipe."""

from __future__ import annotations

import io

from altlas.progress import Waiting


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def on_a_terminal() -> tuple[Terminal, Clock, Waiting]:
    screen, clock = Terminal(), Clock()
    return screen, clock, Waiting(screen, clock=clock)


def test_a_wait_shorter_than_two_seconds_shows_nothing() -> None:
    screen, clock, waiting = on_a_terminal()
    waiting.update("planning the request")
    clock.now += 1.9
    waiting.update("planning the request")
    assert screen.getvalue() == ""


def test_a_longer_wait_says_what_and_for_how_long_on_one_rewritten_line() -> None:
    screen, clock, waiting = on_a_terminal()
    waiting.update("running s1 (df -h on web-1)")
    clock.now += 3
    waiting.update("running s1 (df -h on web-1)")
    waiting.update("running s1 (df -h on web-1)")  # the same second: written once
    clock.now += 22
    waiting.update("running s1 (df -h on web-1)")
    assert screen.getvalue() == ("\r\x1b[K3s  running s1 (df -h on web-1)"
                                 "\r\x1b[K25s  running s1 (df -h on web-1)")
    assert "\n" not in screen.getvalue()


def test_the_time_counts_from_when_the_wait_changed() -> None:
    screen, clock, waiting = on_a_terminal()
    waiting.update("planning the request")
    clock.now += 5
    waiting.update("running s1 (df -h on web-1)")
    assert screen.getvalue() == ""


def test_the_line_is_taken_away_before_a_result_is_printed() -> None:
    screen, clock, waiting = on_a_terminal()
    waiting.update("planning the request")
    clock.now += 4
    waiting.update("planning the request")
    waiting.clear()
    assert screen.getvalue().endswith("planning the request\r\x1b[K")


def test_nothing_is_written_when_stderr_is_not_a_terminal() -> None:
    piped, clock = io.StringIO(), Clock()
    waiting = Waiting(piped, clock=clock)
    waiting.update("planning the request")
    clock.now += 60
    waiting.update("planning the request")
    waiting.clear()
    assert piped.getvalue() == ""
