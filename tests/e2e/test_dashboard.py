"""The dashboard in a real browser (Debian's chromium, driven by Playwright), as on-call people
meet it: sign in, an approval asked for from the command line appears without a reload, two
people approve it from their pages and the run's graph turns green while it is open; someone
without the role sees no button; forged posts and cookies get a page, never a 5xx. The same
journey saves the screenshots the README shows (docs/screenshots/)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from testkit.dashboard import GATED_WORDS, Dashboard, serve_dashboard
from testkit.helpers import TOKENS

CHROMIUM = "/usr/bin/chromium"  # scripts/services.sh installs it
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIVE_MS = 20_000  # the worker plans and asks within a second or two; CI is slower


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    with serve_dashboard(tmp_path_factory.mktemp("dashboard-browser")) as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "no chromium: run scripts/services.sh up"
    with sync_playwright() as p:
        # each context is a fresh profile of its own (Playwright's --user-data-dir)
        launched = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield launched
        launched.close()


def signed_in(browser: Browser, dash: Dashboard, person: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 860},
                               locale="en-US").new_page()
    page.goto(f"{dash.url}/ui/")
    expect(page).to_have_url(f"{dash.url}/ui/signin?next=/ui/&why=signin.needed")
    page.get_by_label("API token").fill(TOKENS[person])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{dash.url}/ui/")
    return page


def cli_request(dash: Dashboard, person: str) -> None:
    """Work asked for with `altlas do` in another process, on the same store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALTLAS_")}
    env.update(ALTLAS_DATA_DIR=str(dash.system.settings.data_dir),
               ALTLAS_POLICY_FILE=str(dash.policy_file), ALTLAS_SEGMENTER="rules")
    done = subprocess.run([sys.executable, "-m", "altlas", "do", GATED_WORDS, "--env", "prod",
                           "--as", person, "--no-wait"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def test_on_call_approves_from_the_dashboard_and_watches_the_run_turn_green(
        dash: Dashboard, browser: Browser) -> None:
    signin = browser.new_context(viewport={"width": 1280, "height": 600}).new_page()
    signin.goto(f"{dash.url}/ui/signin")
    shot(signin, "signin")
    bob = signed_in(browser, dash, "bob")
    expect(bob.get_by_text("Nothing waits for an approval.")).to_be_visible()

    cli_request(dash, "alice")
    card = bob.locator("article.approval")
    expect(card).to_have_count(1, timeout=LIVE_MS)  # live: no reload
    expect(card).to_contain_text("HIGH_RISK")
    expect(card).to_contain_text("0 of 2")
    shot(bob, "now")

    ivy = signed_in(browser, dash, "ivy")
    expect(ivy.locator("article.approval")).to_have_count(1)
    expect(ivy.locator("article.approval button")).to_have_count(0)

    forged = bob.evaluate("""async (path) => (await fetch(path, {method: 'POST'})).status""",
                          f"/ui/approvals/{card.get_attribute('data-approval')}/approve")
    assert forged == 403  # bob's own session, but no CSRF token

    approval = card.get_attribute("data-approval")
    bob.get_by_role("button", name="Approve").click()
    expect(bob.get_by_role("status")).to_contain_text("1 more needed")
    expect(bob.locator("article.approval")).to_contain_text("bob ✓")

    run_link = bob.locator("#h-runs + table a").first
    run_link.click()
    expect(bob.locator('a.node[data-step="s3"]')).to_have_attribute("data-status", "pending")
    carol = signed_in(browser, dash, "carol")
    carol.locator(f'#approval-{approval} button.approve').click()
    expect(carol.get_by_role("status")).to_contain_text("is granted")
    # bob's run page, left open, turns green by itself
    expect(bob.locator('a.node[data-step="s3"]')).to_have_attribute(
        "data-status", "succeeded", timeout=LIVE_MS)
    expect(bob.locator("[data-outcome]")).to_have_attribute("data-outcome", "succeeded",
                                                            timeout=LIVE_MS)
    bob.locator('a.node[data-step="s2"]').click()
    expect(bob.locator("details#step-s2")).to_have_attribute("open", "")
    shot(bob, "run")
    bob.get_by_role("link", name="Runs").click()
    shot(bob, "runs")


def test_a_form_posted_from_another_site_reaches_no_session(
        dash: Dashboard, browser: Browser) -> None:
    """SameSite=Strict: the browser does not send the cookie with another site's form."""
    bob = signed_in(browser, dash, "bob")
    attack = f"""<form method="post" action="{dash.url}/ui/approvals/abc/approve">
                 <input name="csrf" value="x"><button>go</button></form>"""
    bob.route("http://attacker.test/", lambda route: route.fulfill(
        body=attack, content_type="text/html"))  # answered in the browser: no network
    bob.goto("http://attacker.test/")
    bob.get_by_role("button", name="go").click()
    expect(bob.get_by_role("alert")).to_contain_text("Sign in")
    assert "Signed in as" not in bob.content()


@pytest.mark.parametrize("cookie", ["forged.value", "W10.AAAA", ""])
def test_a_forged_or_empty_cookie_lands_on_the_sign_in_page(
        dash: Dashboard, browser: Browser, cookie: str) -> None:
    context = browser.new_context()
    context.add_cookies([{"name": "altlas_session", "value": cookie, "url": f"{dash.url}/ui/"}])
    page = context.new_page()
    response = page.goto(f"{dash.url}/ui/runs")
    assert response is not None and response.status < 500
    expect(page.get_by_label("API token")).to_be_visible()
    context.close()
