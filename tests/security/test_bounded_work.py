"""Work a caller can make altlas do is bounded: the views as of a moment are replayed once
per event the moment falls after, kept within a size bound, and removed past it; the
expensive routes answer 429 with Retry-After past a person's rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.security.gatehouse import Gatehouse, gatehouse


def _replays(g: Gatehouse) -> list[Path]:
    folder = g.data_dir / "as-of"
    return sorted(folder.glob("*.sqlite3")) if folder.is_dir() else []


def _times(g: Gatehouse) -> list[datetime]:
    return [datetime.fromisoformat(e["time"]) for e in g.get("/events", "adam", limit=500)["items"]]


def _request(g: Gatehouse, words: str) -> None:
    assert g.post("/tasks", "erin", {"request": words, "environment": "dev",
                                     "mode": "dream"}).status_code == 201


def test_sixty_distinct_moments_after_the_same_event_share_one_replay(tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False) as g:
        _request(g, "check disk on the altlas host")
        last = _times(g)[-1]
        for i in range(60):
            moment = (last + timedelta(milliseconds=10 * i + 1)).isoformat()
            g.get("/tasks", "erin", as_of=moment)
        assert len(_replays(g)) == 1


def test_replays_past_the_bound_are_removed_least_recently_used_first(tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False, replay_cache_bytes=1) as g:
        for words in ("check disk on the altlas host", "check uptime on the altlas host"):
            _request(g, words)
        times = _times(g)
        seen = []
        for moment in times:
            seen.append(g.get("/tasks", "erin", as_of=moment.isoformat())["items"])
            assert len(_replays(g)) == 1  # the bound holds one: the newest stays
        assert len(seen[-1]) == 2
        again = g.get("/tasks", "erin", as_of=times[0].isoformat())["items"]
        assert again == seen[0] and len(again) < 2  # removed, replayed again alike
        assert len(_replays(g)) == 1


def test_a_moment_before_every_event_shows_nothing_and_costs_one_replay(
        tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False) as g:
        _request(g, "check disk on the altlas host")
        for year in (2001, 2002, 2003):
            page = g.get("/tasks", "erin", as_of=datetime(year, 1, 1, tzinfo=UTC).isoformat())
            assert page["items"] == []
        assert [p.name for p in _replays(g)] == ["0.sqlite3"]


def test_files_left_by_an_earlier_release_are_removed(tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False) as g:
        _request(g, "check disk on the altlas host")
        old = g.data_dir / "as-of"
        old.mkdir()
        for i in range(5):
            (old / f"{i:016x}.sqlite3").write_bytes(b"x" * 1000)
            (old / f"{i:016x}.lock").touch()
        g.get("/tasks", "erin", as_of=_times(g)[-1].isoformat())
        left = {f.name.split(".")[0] for f in old.iterdir()}
        assert left == {"", str(g.events())}  # the lock, and the one replay's files
