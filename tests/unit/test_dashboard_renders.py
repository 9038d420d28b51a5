"""Open dashboards share their live part's renders: many streams of one key cost one render,
and a burst of changes costs one render per interval that ends on the last position."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from adapters.web.renders import Renders


class Views:
    """The views' position, and a render that counts itself and takes a little while."""

    def __init__(self, took: float = 0.05) -> None:
        self.position = 0
        self.renders: list[int] = []
        self.threads: set[str] = set()
        self._took = took

    def render(self) -> tuple[int, str]:
        position = self.position
        self.renders.append(position)
        self.threads.add(threading.current_thread().name)
        time.sleep(self._took)
        return position, f"page at {position}"


def test_two_hundred_streams_waiting_on_one_key_cost_one_render() -> None:
    views, renders = Views(), Renders(interval=0.0)
    views.position = 7

    async def streams() -> list[tuple[int, str]]:
        return await asyncio.gather(*(renders.latest("now", 7, views.render)
                                      for _ in range(200)))

    shown = asyncio.run(streams())
    assert views.renders == [7]
    assert set(shown) == {(7, "page at 7")}
    assert views.threads == {"ui-render_0"}  # off the event loop, on the renders' own pool


def test_streams_of_different_keys_do_not_share_a_render() -> None:
    views, renders = Views(took=0.0), Renders(interval=0.0)

    async def streams() -> None:
        await asyncio.gather(renders.latest(("now", "en"), 0, views.render),
                             renders.latest(("now", "tr"), 0, views.render))

    asyncio.run(streams())
    assert views.renders == [0, 0]


def test_a_burst_of_changes_ends_on_its_last_position_in_few_renders() -> None:
    views, renders = Views(took=0.01), Renders(interval=0.2)

    async def burst() -> list[int]:
        shown = []
        for position in range(1, 21):  # twenty changes, one every 20 ms
            views.position = position
            task = asyncio.create_task(renders.latest("now", position, views.render))
            await asyncio.sleep(0.02)
            shown.append(task)
        return [(await t)[0] for t in shown]

    started = time.monotonic()
    shown = asyncio.run(burst())
    assert all(seen >= wanted for wanted, seen in zip(range(1, 21), shown, strict=True))
    assert views.renders[-1] == 20  # nothing left behind for good
    assert len(views.renders) <= 4  # 0.4 s of changes, at most one render per 0.2 s (+1)
    assert time.monotonic() - started < 2


def test_a_stream_that_closes_does_not_cancel_the_render_others_wait_for() -> None:
    views, renders = Views(took=0.1), Renders(interval=0.0)

    async def scenario() -> tuple[int, str]:
        leaving = asyncio.create_task(renders.latest("now", 0, views.render))
        staying = asyncio.create_task(renders.latest("now", 0, views.render))
        await asyncio.sleep(0.01)
        leaving.cancel()
        return await staying

    assert asyncio.run(scenario()) == (0, "page at 0")
    assert views.renders == [0]


def test_a_render_that_fails_is_tried_again_by_the_next_stream() -> None:
    views, renders = Views(took=0.0), Renders(interval=0.0)
    calls = iter([RuntimeError("views unavailable")])

    def flaky() -> tuple[int, str]:
        failure = next(calls, None)
        if failure is not None:
            raise failure
        return views.render()

    async def scenario() -> tuple[int, str]:
        with pytest.raises(RuntimeError, match="views unavailable"):
            await renders.latest("now", 0, flaky)
        return await renders.latest("now", 0, flaky)

    assert asyncio.run(scenario()) == (0, "page at 0")
