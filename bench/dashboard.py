"""The dashboard against the API, in the same run, on the embedded default served as `altlas
serve` serves it (uvicorn, the views' feed and a worker in one process):

- time to first byte of *Now* (GET /ui/) against GET /approvals and against the six API
  calls that return what it shows, and of a run page with 50 steps (GET /ui/runs/{id})
  against GET /runs/{id}, with ``--runs`` runs in the store;
- event recorded → visible in an open browser (Debian's chromium, Playwright): a vote
  recorded, until the card on *Now* shows it; an approval asked for, until its card appears.

    python bench/dashboard.py [--runs 2000] [--requests 200] [--events 30]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.pages.now import WATCHED
from testkit.dashboard import Dashboard, serve_dashboard, sign_in, until
from testkit.helpers import TOKENS

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
GATED = "check disk and load on the altlas host, then set its maintenance flag"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def alt(steps: int) -> dict[str, object]:
    """A plan of ``steps`` read-only steps, each needing the one before (a chain of 50 is
    the widest the page draws: 50 columns)."""
    return {"alt": 1, "steps": [
        {"id": f"s{i}", "kind": "local", "action": "uptime", "target": "localhost",
         **({"needs": [f"s{i - 1}"]} if i > 1 and i % 5 else {})}
        for i in range(1, steps + 1)]}


def fill(dash: Dashboard, runs: int) -> str:
    """``runs`` one-step runs, then one of 50 steps: its id."""
    uc = dash.system.use_cases(catch_up=False)
    started = time.monotonic()
    for n in range(runs):
        uc.submit_plan("alice", alt(1), request=f"uptime on the altlas host #{n}",
                       environment="dev")
    big = uc.submit_plan("alice", alt(50), request="fifty checks on the altlas host",
                         environment="dev")
    bearer = {"Authorization": f"Bearer {TOKENS['bob']}"}

    def settled() -> bool:
        r = httpx.get(f"{dash.url}/runs", params={"status": "running", "limit": 1},
                      headers=bearer, timeout=30)
        return not r.json()["items"] and httpx.get(
            f"{dash.url}/tasks/{big.id}", headers=bearer, timeout=30).json()["run_id"]

    until(settled, timeout=3600)
    print(f"filled: {runs + 1} runs in {time.monotonic() - started:.0f} s", file=sys.stderr)
    run_id = httpx.get(f"{dash.url}/tasks/{big.id}", headers=bearer).json()["run_id"]
    return str(run_id)


def ttfb(client: httpx.Client, path: str, headers: dict[str, str] | None = None) -> float:
    """Milliseconds until the first byte of the body arrives."""
    started = time.perf_counter()
    with client.stream("GET", path, headers=headers) as r:
        assert r.status_code == 200, (path, r.status_code)
        chunks = r.iter_raw()
        next(chunks)
        first = time.perf_counter()
        for _ in chunks:
            pass
    return (first - started) * 1000


def measure(rows: dict[str, list[float]], requests: int,
            probes: dict[str, Callable[[], float]]) -> None:
    for _ in range(requests):  # interleaved: each sees the same machine
        for name, probe in probes.items():
            rows.setdefault(name, []).append(probe())


def page_times(dash: Dashboard, run_id: str, requests: int) -> dict[str, list[float]]:
    for _ in range(3):
        dash.request("alice")  # a few open approvals on Now, as on a busy day
    until(lambda: len(httpx.get(f"{dash.url}/approvals", headers={
        "Authorization": f"Bearer {TOKENS['bob']}"}).json()["items"]) >= 3)
    bearer = {"Authorization": f"Bearer {TOKENS['bob']}"}
    rows: dict[str, list[float]] = {}
    with httpx.Client(base_url=dash.url, timeout=60) as ui, \
            httpx.Client(base_url=dash.url, timeout=60) as api:
        assert sign_in(ui, TOKENS["bob"]).status_code == 303

        def api_now() -> float:
            return sum(ttfb(api, p, bearer) for p in (
                "/approvals", "/runs?status=running", "/incidents?status=open",
                *(f"/timeline?type={kind}&limit=10000" for kind in WATCHED)))

        for _ in range(5):  # warm both
            ttfb(ui, "/ui/"), ttfb(api, "/approvals", bearer)
        measure(rows, requests, {
            "Now page (GET /ui/)": lambda: ttfb(ui, "/ui/"),
            "API GET /approvals": lambda: ttfb(api, "/approvals", bearer),
            "API: the 6 calls Now shows": api_now,
            "run page, 50 steps (GET /ui/runs/ID)": lambda: ttfb(ui, f"/ui/runs/{run_id}"),
            "API GET /runs/ID (50 steps)": lambda: ttfb(api, f"/runs/{run_id}", bearer),
        })
    return rows


def live_times(dash: Dashboard, events: int) -> dict[str, list[float]]:
    """Event recorded → shown in an open browser, measured with the browser's own clock
    (a MutationObserver) against the time the event was recorded (same machine)."""
    from playwright.sync_api import sync_playwright

    uc = dash.system.use_cases(catch_up=False)
    rows: dict[str, list[float]] = {"approval asked → card shown": [],
                                    "vote recorded → count shown": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=ARGS)
        page = browser.new_context().new_page()
        page.goto(f"{dash.url}/ui/signin")
        page.get_by_label("API token").fill(TOKENS["bob"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{dash.url}/ui/")
        page.evaluate("""() => {
            window.seen = {};
            new MutationObserver(() => {
              for (const a of document.querySelectorAll('article.approval')) {
                const id = a.dataset.approval, votes = a.querySelector('.quorum').textContent;
                const key = id + (votes.includes('1 of') ? ':1' : ':0');
                if (!(key in window.seen)) window.seen[key] = Date.now();
              }
            }).observe(document.body, {subtree: true, childList: true, characterData: true});
        }""")
        for _ in range(events):
            task = dash.request("alice")
            approval = dash.approval_of(task)
            asked = httpx.get(f"{dash.url}/timeline", params={
                "aggregate_id": approval["approval_id"], "type": "ApprovalRequested"},
                headers={"Authorization": f"Bearer {TOKENS['ivy']}"}).json()["items"][0]
            key = approval["approval_id"]
            shown = until(functools.partial(page.evaluate, f"() => window.seen['{key}:0']"))
            asked_ms = _epoch_ms(asked["time"])
            rows["approval asked → card shown"].append(shown - asked_ms)
            uc.vote("carol", approval["approval_id"])
            recorded = time.time() * 1000
            counted = until(functools.partial(page.evaluate,
                                              f"() => window.seen['{key}:1']"))
            rows["vote recorded → count shown"].append(counted - recorded)
            uc.deny("bob", approval["approval_id"], "bench: keep Now short")
        browser.close()
    return rows


def _epoch_ms(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp() * 1000


def table(title: str, rows: dict[str, list[float]]) -> None:
    print(f"\n{title}\n")
    print("| measured | n | p50 ms | p99 ms | mean ms |")
    print("|---|---:|---:|---:|---:|")
    for name, values in rows.items():
        print(f"| {name} | {len(values)} | {percentile(values, 0.5):.1f} | "
              f"{percentile(values, 0.99):.1f} | {statistics.fmean(values):.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--events", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, serve_dashboard(Path(tmp)) as dash:
        run_id = fill(dash, args.runs)
        table(f"Time to first byte, {args.runs + 1} runs in the store (embedded, one process)",
              page_times(dash, run_id, args.requests))
        table("Event recorded → visible in an open browser (chromium, embedded)",
              live_times(dash, args.events))


if __name__ == "__main__":
    main()
