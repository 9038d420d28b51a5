"""Work a caller can make altlas do is bounded: the views as of a moment are replayed once
per event the moment falls after, kept within a size bound, and removed past it; the
expensive routes answer 429 with Retry-After past a person's rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.security.gatehouse import Gatehouse, auth, gatehouse


def _replays(g: Gatehouse) -> list[Path]:
    folder = g.data_dir / "as-of"
    return sorted(folder.glob("*.sqlite3")) if folder.is_dir() else []


def _times(g: Gatehouse) -> list[datetime]:
    return [datetime.fromisoformat(e["time"]) for e in g.get("/events", "adam", limit=500)["items"]]


def _request(g: Gatehouse, words: str) -> None:
    assert g.post("/tasks", "erin", {"request": words, "environment": "dev",
                                     "mode": "dream"}).status_code == 201


def test_sixty_distinct_moments_after_the_same_event_share_one_replay(tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False, rate_limits={"replay": 0}) as g:  # no rate: disk
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


# --- rates per person ---------------------------------------------------------------------

def _limited(g: Gatehouse, path: str, person: str, **params: object) -> int:
    """Ask once more than allowed: the refusal is a 429 with a Retry-After in seconds."""
    r = g.client.get(path, params=params, headers=auth(person))
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "too_often" and "try again in" in r.json()["message"]
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 60
    return wait


def test_listings_as_of_a_time_past_the_rate_answer_429_and_replay_nothing(
        tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False, rate_limits={"replay": 2}) as g:
        _request(g, "check disk on the altlas host")
        moments = [datetime(2001 + i, 1, 1, tzinfo=UTC).isoformat() for i in range(5)]
        g.get("/tasks", "erin", as_of=moments[0])
        g.get("/runs", "erin", as_of=moments[1])
        files = _replays(g)
        for path in ("/tasks", "/runs", "/approvals"):  # every route counts alike
            _limited(g, path, "erin", as_of=moments[2])
        r = g.client.get("/timeline", params={"as_of": moments[3]}, headers=auth("alice"))
        assert r.status_code == 200  # another person has a rate of her own
        assert _replays(g) == files
        g.get("/tasks", "erin")  # the live views are not counted


def test_the_chat_front_counts_against_the_same_rate(tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False, rate_limits={"replay": 1}) as g:
        g.get("/tasks", "alice", as_of=datetime(2001, 1, 1, tzinfo=UTC).isoformat())
        said = g.post("/commands", "alice", {"text": "audit replay --until 2002-01-01T00:00:00Z"})
        assert said.status_code == 200
        assert "try again in" in said.json()["text"]


def test_verify_and_export_past_the_rate_answer_429_and_following_a_job_is_free(
        tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False, rate_limits={"verify": 1, "export": 1}) as g:
        _request(g, "check disk on the altlas host")
        job = g.client.get("/audit/verify", headers=auth("ivy"))
        assert job.status_code == 202
        _limited(g, "/audit/verify", "ivy")
        for _ in range(5):
            assert g.client.get(f"/audit/jobs/{job.json()['id']}",
                                headers=auth("ivy")).status_code == 200
        said = g.post("/commands", "ivy", {"text": "audit verify"}).json()["text"]
        assert "try again in" in said  # not a way around it
        assert g.client.get("/audit/export", headers=auth("ivy")).status_code == 200
        _limited(g, "/audit/export", "ivy", until="2030-01-01T00:00:00Z")


def test_similar_search_past_the_rate_answers_429(tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False, rate_limits={"similar": 1},
                   embeddings="words") as g:
        first = g.client.get("/atlas/similar", params={"q": "check disk"},
                             headers=auth("erin"))
        assert first.status_code in (200, 503), first.text
        _limited(g, "/atlas/similar", "erin", q="check the disk again")


def test_the_command_line_is_not_counted(tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False, rate_limits={"replay": 1}) as g:
        _request(g, "check disk on the altlas host")
    for year in (2001, 2002):
        listed = g.cli("task", "list", "--as-of", f"{year}-01-01T00:00:00Z", "--json")
        assert listed.returncode == 0, listed.stderr


def test_a_rate_for_work_altlas_does_not_know_is_refused_at_start_up(tmp_path: Path) -> None:
    with gatehouse(tmp_path, worker=False) as g:
        pass
    listed = g.cli("events", env={"ALTLAS_RATE_LIMITS": '{"replays": 3}'})
    assert listed.returncode == 2 and listed.stderr.startswith(
        "altlas: ALTLAS_RATE_LIMITS: 'replays' is not a work with a rate; use replay, export, "
        "verify, similar")
