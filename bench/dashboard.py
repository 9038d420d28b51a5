"""The dashboard against the API, in the same run, on the embedded default served as `altlas
serve` serves it (uvicorn, the views' feed and a worker in one process):

- time to first byte of *Now* (GET /ui/) against GET /approvals and against the six API
  calls that return what it shows, and of a run page with 50 steps (GET /ui/runs/{id})
  against GET /runs/{id}, with ``--runs`` runs in the store;
- event recorded → visible in an open browser (Debian's chromium, Playwright): a vote
  recorded, until the card on *Now* shows it; an approval asked for, until its card appears;
- in that chromium, time to first byte, DOM interactive and load end of *Now* and of the
  50-step run page, from the browser's own navigation timing;
- chat acknowledgement (bench/chatops.py's rounds: 50 people's slash commands, then their
  clicks on one card) on `altlas serve` in its own process, with no dashboard open, then with
  ``--streams`` open *Now* streams (each a session of a different on-call person, every
  other one in Turkish, all hearing every change the clicks make, read by a process of
  their own), ``--cycles`` times, then with none again; on a machine of two cores or more
  the server is pinned to one and the clients to the others;
  it says how many distinct live parts the streams were sent at one position (the server's
  render keys: people who see *Now* alike share one).

    python bench/dashboard.py [--runs 2000] [--requests 200] [--events 30] [--loads 30]
                              [--streams 200] [--rounds 4] [--cycles 1] [--chat-only]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import hashlib
import multiprocessing
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import yaml
from chatops import one_round, serve_env
from playwright.sync_api import Page, sync_playwright
from served import served

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from adapters.pages.now import WATCHED
from application.core import RUNNER
from application.lanes import LANE_NAMES, tracking_name
from domain.base import EventMeta, event_id
from domain.run import Run
from domain.task import Task
from projections.reader import applied_position
from testkit.dashboard import Dashboard, dashboard_system, serve_dashboard, sign_in, until
from testkit.fakes.slack import FakeSlack
from testkit.helpers import TOKENS, crowd_policy

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


SEED_BATCH = 1000  # tasks and their runs recorded per transaction


def seed(tmp: Path, runs: int) -> None:
    """``runs`` one-step runs, completed, in the store in ``tmp`` before it is served.

    Built in this process through the domain as the reactions and the worker would build
    them (the task checked and classified by ``written_task``, its run opened by
    ``open_run``, its step started and succeeded, the run completed) and recorded
    ``SEED_BATCH`` tasks with their runs per transaction through the application's own
    ``save``: real events with their hashes; no step is executed. The reactions' lanes are
    then placed after them (each would find its run already complete and do nothing; the
    .atlas's watch of patterns is not fed by them), and the views catch up once when
    `serve_dashboard` starts."""
    system, _ = dashboard_system(tmp)
    app = system.app
    alice = app.privacy.pseudonym("alice")
    started = time.monotonic()
    batch: list[Task | Run] = []
    for n in range(runs):
        task = app.written_task(f"uptime on the altlas host #{n}", alt(1), alice,
                                environment="dev")
        meta = EventMeta(RUNNER, task.correlation_id, event_id(task.id, task.version))
        run, approvals = app.open_run(task, meta, app.clock())
        assert not approvals, "a seeded run asks for no approval"
        run.start_step("s1", meta, "bench-seed")
        run.succeed_step("s1", meta, exit_code=0, duration_ms=4,
                         output=" 12:00:00 up 3 days,  load average: 0.08, 0.03, 0.01")
        run.complete(meta, duration_ms=4)
        batch += [task, run]
        if len(batch) >= 2 * SEED_BATCH or n == runs - 1:
            app.save(*batch)
            batch = []
    end = app.recorder.max_notification_id() or 0
    for lane in LANE_NAMES:
        app.track(tracking_name(lane), end)
    system.close()
    print(f"seeded: {runs} runs ({end} events) recorded in {time.monotonic() - started:.0f} s",
          file=sys.stderr)


def fill(dash: Dashboard) -> str:
    """Once the views hold the seeded runs, one of 50 steps, the whole way (API,
    reactions, worker, 50 ``uptime`` processes): its id."""
    uc = dash.system.use_cases(catch_up=False)
    until(lambda: applied_position(dash.system.views()) >= uc.position(), timeout=3600)
    big = uc.submit_plan("alice", alt(50), request="fifty checks on the altlas host",
                         environment="dev")
    bearer = {"Authorization": f"Bearer {TOKENS['bob']}"}

    def settled() -> bool:
        r = httpx.get(f"{dash.url}/runs", params={"status": "running", "limit": 1},
                      headers=bearer, timeout=30)
        return not r.json()["items"] and httpx.get(
            f"{dash.url}/tasks/{big.id}", headers=bearer, timeout=30).json()["run_id"]

    until(settled, timeout=3600)
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


@contextmanager
def chromium_as_bob(dash: Dashboard) -> Iterator[Page]:
    """Debian's chromium, headless, with a page signed in to the dashboard as bob."""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                    args=ARGS)
        page = browser.new_context().new_page()
        page.goto(f"{dash.url}/ui/signin")
        page.get_by_label("API token").fill(TOKENS["bob"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{dash.url}/ui/")
        yield page
        browser.close()


def live_times(dash: Dashboard, events: int) -> dict[str, list[float]]:
    """Event recorded → shown in an open browser, measured with the browser's own clock
    (a MutationObserver) against the time the event was recorded (same machine)."""
    uc = dash.system.use_cases(catch_up=False)
    rows: dict[str, list[float]] = {"approval asked → card shown": [],
                                    "vote recorded → count shown": []}
    with chromium_as_bob(dash) as page:
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
    return rows


NAVIGATION = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  return n.loadEventEnd > 0 && [n.responseStart, n.domInteractive, n.loadEventEnd];
}"""


def load_times(dash: Dashboard, run_id: str, loads: int) -> dict[str, list[float]]:
    """Each page opened ``loads`` times, interleaved, in chromium signed in as bob: its
    navigation timing (ms from the start of the navigation)."""
    rows: dict[str, list[float]] = {}
    pages = {"Now": f"{dash.url}/ui/", "run, 50 steps": f"{dash.url}/ui/runs/{run_id}"}
    with chromium_as_bob(dash) as page:
        for n in range(loads + 2):
            for name, url in pages.items():
                page.goto(url)
                timing = page.wait_for_function(NAVIGATION).json_value()
                if n < 2:
                    continue  # warm-up
                for label, value in zip(("first byte", "DOM interactive", "load end"),
                                        timing, strict=True):
                    rows.setdefault(f"{name}: {label} (chromium)", []).append(value)
    return rows


_CPUS = sorted(os.sched_getaffinity(0))
SERVER_CPUS = {_CPUS[0]} if len(_CPUS) > 1 else None
CLIENT_CPUS = set(_CPUS[1:])


def bench_token(n: int) -> str:
    return f"bench-dashboard-token-{n}"


Phases = dict[tuple[str, bool], list[list[float]]]  # (kind, pages open): each phase's samples


def streams_against_chat(streams: int, rounds: int, cycles: int
                         ) -> tuple[dict[str, list[float]], Phases]:
    """Chat acknowledgement p50/p99 with no dashboard open and with ``streams`` open, on
    one `altlas serve` in its own process: ``cycles`` times none then open, then none
    again, so that a machine that drifts during the run weighs on both alike. The server
    has a core of its own, the chat client and the streams' reader (at the lowest priority)
    the others: what is measured is what open pages cost the server, not what reading
    them costs the machine the bench runs on."""
    if SERVER_CPUS is not None:
        os.sched_setaffinity(0, CLIENT_CPUS)  # before the fake Slack's thread and the reader
    users = 50
    slack = FakeSlack().start()
    samples: dict[str, list[float]] = {}
    phases: Phases = {}
    with tempfile.TemporaryDirectory() as root:
        policy = crowd_policy(Path(root), max(users, streams), users - 10)
        data = yaml.safe_load(policy.read_text())
        data.setdefault("api_tokens", {}).update({
            hashlib.sha256(bench_token(n).encode()).hexdigest(): f"sre{n:03d}"
            for n in range(streams)})
        policy.write_text(yaml.safe_dump(data))
        with served(serve_env(root, policy, slack), cpus=SERVER_CPUS) as (base, server):
            for _ in range(2):  # warm-up: planning, the first card, the first renders
                one_round(base, slack, users, {"baseline": [], "slash": [], "click": []})
            for phase in ["no dashboard", f"{streams} open"] * cycles + ["no dashboard"]:
                held = Streams(base, streams) if "open" in phase else None
                part: dict[str, list[float]] = {"baseline": [], "slash": [], "click": []}
                busy = cpu_seconds(server.pid)
                for _ in range(rounds):
                    one_round(base, slack, users, part)
                busy = (cpu_seconds(server.pid) - busy) / rounds * 1000
                samples.setdefault(f"serve's CPU per round, {phase}", []).append(busy)
                if held is not None:
                    heard = held.close()
                    print(f"{streams} streams of {streams} people: {heard} updates heard, "
                          f"{heard / streams:.1f} each; at most {held.distinct()} distinct "
                          "live parts sent at one position", file=sys.stderr)
                print(f"{phase}: serve's CPU {busy:.0f} ms per round; slash p50/p99 "
                      f"{statistics.median(part['slash']):.0f}/"
                      f"{percentile(part['slash'], 0.99):.0f} ms, Approve p50/p99 "
                      f"{statistics.median(part['click']):.0f}/"
                      f"{percentile(part['click'], 0.99):.0f} ms", file=sys.stderr)
                samples.setdefault(f"slash command ack, {phase}", []).extend(part["slash"])
                samples.setdefault(f"Approve click ack, {phase}", []).extend(part["click"])
                for kind in ("slash", "click"):
                    phases.setdefault((kind, held is not None), []).append(part[kind])
    slack.stop()
    return samples, phases


def ratios(phases: Phases, streams: int, reps: int = 2000) -> None:
    """Open against none, on p50 and p99, each with the 95% interval of resampling whole
    phases (a phase's acknowledgements share its moment of the machine, so they are not
    resampled one by one): an interval that holds 1.0 is no effect this run could tell."""
    rng = random.Random(36)
    print(f"\nOpen pages' effect on chat acknowledgement: {streams} open / none open "
          f"(95% interval over {reps} resamplings of whole phases)\n")
    print("| acknowledgement | p50 ratio | p99 ratio |")
    print("|---|---|---|")
    for kind, label in (("slash", "slash command"), ("click", "Approve click")):
        none, opened = phases[(kind, False)], phases[(kind, True)]
        cells = []
        for q in (0.5, 0.99):
            def ratio(a: list[list[float]], b: list[list[float]], q: float = q) -> float:
                return percentile([v for p in b for v in p], q) / \
                    percentile([v for p in a for v in p], q)
            drawn = sorted(ratio(rng.choices(none, k=len(none)),
                                 rng.choices(opened, k=len(opened))) for _ in range(reps))
            cells.append(f"{ratio(none, opened):.2f} [{drawn[int(0.025 * reps)]:.2f}, "
                         f"{drawn[int(0.975 * reps) - 1]:.2f}]")
        print(f"| {label} | {cells[0]} | {cells[1]} |")


def cpu_seconds(pid: int) -> float:
    """A process's user and system CPU time so far (Linux's /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


CSRF_BYTES = re.compile(rb'name="csrf" value="[^"]+"')
SSE_ID = re.compile(rb"^id: ?(\S+)$", re.M)


class Streams:
    """``n`` *Now* streams held open, each signed in as a different person, by a process of
    their own (reading 200 streams in the process that times the acknowledgements would put
    the reading in the timing) until ``close``, which says how many updates they heard."""

    def __init__(self, base: str, n: int) -> None:
        cookies = []
        with httpx.Client(base_url=base, timeout=30) as client:
            for person in range(n):
                client.cookies.clear()
                assert sign_in(client, bench_token(person)).status_code == 303
                cookies.append(client.cookies["altlas_session"])
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        self._results: Any = context.Queue()
        opened = context.Event()
        self._process = context.Process(target=hold, daemon=True, args=(
            base, cookies, opened, self._stop, self._results))
        self._process.start()
        if not opened.wait(300):
            raise RuntimeError(f"{n} streams did not open")
        self._distinct = 0

    def close(self) -> int:
        self._stop.set()
        heard, self._distinct = self._results.get(timeout=120)
        self._process.join(60)
        return int(heard)

    def distinct(self) -> int:
        """The most distinct live parts (each session's CSRF token aside) sent at one
        position: how many render keys the streams had."""
        return self._distinct


def hold(base: str, cookies: list[str], opened: Any, stop: Any, results: Any) -> None:
    """The streams of ``cookies`` until ``stop``: then (updates heard, ``distinct``) put on
    ``results``. Read as bytes, not lines: 200 streams parsed line by line in Python cost the
    machine a third of a core, taken from the server during the bursts."""
    os.nice(19)  # the browsers' reading is not the server's: it gives way to the chat client
    sent: dict[bytes, set[int]] = {}  # position → the parts sent at it
    heard = 0

    async def all_of_them() -> None:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        first = asyncio.Semaphore(0)
        async with httpx.AsyncClient(base_url=base, timeout=None, limits=limits) as c:
            async def one(n: int) -> None:
                nonlocal heard
                async with c.stream("GET", "/ui/now/stream", headers={
                        "Cookie": f"altlas_session={cookies[n]}",
                        "Accept-Language": "tr" if n % 2 else "en",
                        "Accept": "text/event-stream"}) as r:
                    assert r.status_code == 200
                    told, rest = False, b""
                    async for chunk in r.aiter_raw():
                        *events, rest = (rest + chunk).replace(b"\r\n", b"\n").split(b"\n\n")
                        for event in events:
                            position = SSE_ID.search(event)
                            if position is None:
                                continue  # a keep-alive comment
                            heard += 1
                            sent.setdefault(position.group(1), set()).add(
                                hash(CSRF_BYTES.sub(b"", event)))
                            if not told:
                                told = True
                                first.release()

            tasks = [asyncio.create_task(one(n)) for n in range(len(cookies))]
            for _ in cookies:
                await first.acquire()
            opened.set()
            while not stop.is_set():
                await asyncio.sleep(0.1)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(all_of_them())
    results.put((heard, max((len(parts) for parts in sent.values()), default=0)))


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
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cycles", type=int, default=1)
    parser.add_argument("--chat-only", action="store_true",
                        help="only the chat acknowledgements with and without open streams")
    args = parser.parse_args()
    if args.chat_only:
        chat_table(args)
        return
    with tempfile.TemporaryDirectory() as tmp:
        seed(Path(tmp), args.runs)
        started = time.monotonic()
        with serve_dashboard(Path(tmp)) as dash:
            run_id = fill(dash)
            print(f"served, views caught up and the 50-step run done in "
                  f"{time.monotonic() - started:.0f} s", file=sys.stderr)
            table(f"Time to first byte, {args.runs + 1} runs in the store (embedded, one "
                  "process)", page_times(dash, run_id, args.requests))
            table(f"Page loads in chromium, {args.runs + 1} runs in the store",
                  load_times(dash, run_id, args.loads))
            table("Event recorded → visible in an open browser (chromium, embedded)",
                  live_times(dash, args.events))
    chat_table(args)


def chat_table(args: argparse.Namespace) -> None:
    samples, phases = streams_against_chat(args.streams, args.rounds, args.cycles)
    table(f"Chat acknowledgement, 50 people at once, with and without {args.streams} open "
          f"dashboards ({args.cycles} cycles of {args.rounds} rounds each, `altlas serve` "
          "in its own process)", samples)
    ratios(phases, args.streams)


if __name__ == "__main__":
    main()
