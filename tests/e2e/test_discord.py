"""Chat-ops in Discord: discord.py for real (its REST client, its interaction parsing, the
command tree, persistent buttons), Discord's servers faked at the HTTP boundary."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

import discord
import discord.http
import pytest
import pytest_asyncio
import yaml

from adapters.policy_file import default_policy_text
from altlas.bootstrap import System, bootstrap
from altlas.serving import start_inside
from altlas.settings import Settings
from bots.discord_bot import AltlasDiscord, DiscordNotifier
from domain.alerts import IncomingAlert
from domain.policy import Policy
from testkit.fakes.discord import Call, FakeDiscord

ALICE = FakeDiscord.user_obj("100000000000000001", "alice")
BOB = FakeDiscord.user_obj("100000000000000002", "bob")
DENIZ = FakeDiscord.user_obj("100000000000000004", "deniz")

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    f = FakeDiscord()
    await f.start()
    # every REST call discord.py makes builds its URL from this class attribute
    monkeypatch.setattr(discord.http.Route, "BASE", f.api_base)
    yield f
    await f.stop()


@pytest.fixture
def system(tmp_path: Path) -> System:
    return bootstrap(Settings(data_dir=tmp_path, database_url=None, views_database_url=None,
                              segmenter="rules", poll_interval_ms=50))


@pytest.fixture
def no_errors(caplog: pytest.LogCaptureFixture) -> object:
    """discord.py logs a failing handler instead of raising: fail the test on any."""
    caplog.set_level(logging.WARNING)
    yield
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}\n{r.exc_text or ''}" for r in bad)


Start = Callable[[], Awaitable[AltlasDiscord]]


@pytest_asyncio.fixture
async def start(fake: FakeDiscord, system: System) -> AsyncIterator[Start]:
    bots: list[AltlasDiscord] = []

    async def new_bot() -> AltlasDiscord:
        """What `altlas discord` starts: the bot, and the follower that tells people."""
        bot = AltlasDiscord(system.chat(), system.chat_posts(), guild_id=int(fake.guild_id))
        conversation = system.conversation(DiscordNotifier(bot))
        followers.append(threading.Thread(target=conversation.run, args=(stop, 0.05),
                                          daemon=True))
        followers[-1].start()
        await bot.login("fake-bot-token")  # GET /users/@me, /oauth2/applications/@me, sync
        bots.append(bot)
        return bot

    stop = threading.Event()
    # the embedded default: the views' feed and a worker run in the bot's process
    followers: list[threading.Thread] = start_inside(system, stop, worker=True)
    yield new_bot
    stop.set()
    for follower in followers:
        await asyncio.to_thread(follower.join, 30)
    for bot in bots:
        await bot.close()
    # work the bots handed to threads (a run taken on after a vote) still uses the store:
    # let it finish before the store closes, as asyncio.run does when `altlas discord` stops
    await asyncio.get_running_loop().shutdown_default_executor()
    system.close()


def interact(bot: discord.Client, payload: dict) -> None:
    """What discord.py's gateway does with an INTERACTION_CREATE dispatch."""
    bot._connection.parsers["INTERACTION_CREATE"](payload)


async def followups(fake: FakeDiscord, count: int, timeout: float = 30) -> list[Call]:
    return await fake.wait_for("POST", rf"/webhooks/{fake.app_id}/[^/]+", count, timeout)


async def card_message(fake: FakeDiscord, timeout: float = 30) -> dict:
    """The approval card: the channel message with buttons (the plan is posted before it)."""
    deadline = time.monotonic() + timeout
    while True:
        cards = [m for m in fake.messages.values() if m["channel_id"] == fake.ops_channel_id
                 and m["components"] and not m.get("webhook_id")]
        if cards:
            return cards[0]
        assert time.monotonic() < deadline, "no approval card was posted"
        await asyncio.sleep(0.05)


async def request_gated(fake: FakeDiscord, bot: AltlasDiscord) -> tuple[dict, str]:
    interact(bot, fake.slash_command(DENIZ, "altlas", "do",
                                     request="set the maintenance flag on the altlas host"))
    card = await card_message(fake)
    approval_id = card["components"][0]["components"][0]["custom_id"].split(":")[2]
    return card, approval_id


async def test_commands_are_registered_at_login(fake: FakeDiscord, start: Start,
                                                no_errors: object) -> None:
    await start()
    put = fake.find("PUT", rf"/applications/{fake.app_id}/guilds/{fake.guild_id}/commands")
    [altlas] = put[0].json
    assert altlas["name"] == "altlas"
    assert {o["name"] for o in altlas["options"]} == {
        "do", "status", "runs", "approvals", "approve", "deny", "answer", "atlas",
        "leaderboard", "incidents", "models", "arena", "audit", "help"}


async def test_gated_request_in_discord_runs_after_two_approvals(
    fake: FakeDiscord, start: Start, system: System, tmp_path: Path, no_errors: object
) -> None:
    bot = await start()
    card, approval_id = await request_gated(fake, bot)
    callbacks = fake.find("POST", r"/interactions/\d+/[^/]+/callback")
    first = await followups(fake, 1)
    assert callbacks[0].json == {"type": 5} and callbacks[0].t < first[0].t
    assert first[0].json["content"].startswith("Üzerindeyim")  # deniz writes Turkish
    assert "HIGH_RISK" in card["content"] and "Onayla" in str(card["components"])
    plans = [c for c in fake.find("POST", rf"/channels/{fake.ops_channel_id}/messages")
             if "planı" in c.json["content"]]
    answer = next(m for m in fake.messages.values() if m["content"].startswith("Üzerindeyim"))
    assert str(plans[0].json["message_reference"]["message_id"]) == answer["id"]  # a reply

    interact(bot, fake.button_click(ALICE, card["id"], f"altlas:approve:{approval_id}"))
    edits = await fake.wait_for("PATCH", rf"/channels/{fake.ops_channel_id}/messages/{card['id']}")
    assert "Onaylayanlar: alice" in edits[0].json["content"]
    vote = [c for c in await followups(fake, 2) if c.json.get("flags") == 64]
    assert vote and vote[-1].json["content"] == "Vote counted: 1 of 2."

    interact(bot, fake.button_click(BOB, card["id"], f"altlas:approve:{approval_id}"))
    deadline = time.monotonic() + 30
    while not (tmp_path / "maintenance.flag").exists():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    final = await fake.wait_for("PATCH", rf"/channels/{fake.ops_channel_id}/messages/\d+", 2)
    deadline = time.monotonic() + 30
    while "Çalışma" not in fake.messages[card["id"]]["content"]:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert fake.messages[card["id"]]["components"] == [] and final
    result = [c for c in fake.find("POST", rf"/channels/{fake.ops_channel_id}/messages")
              if "başarılı" in c.json["content"]]
    assert str(result[0].json["message_reference"]["message_id"]) == answer["id"]
    approval = system.app.get_approval(UUID(approval_id))
    assert approval.status == "granted" and approval.votes == ["alice", "bob"]


async def test_buttons_keep_working_after_a_restart(fake: FakeDiscord, start: Start,
                                                    system: System, no_errors: object) -> None:
    first = await start()
    card, approval_id = await request_gated(fake, first)
    await followups(fake, 1)
    await first.close()
    second = await start()  # a new process: nothing in memory but the dynamic item template
    interact(second, fake.button_click(ALICE, card["id"], f"altlas:approve:{approval_id}"))
    await fake.wait_for("PATCH", rf"/channels/{fake.ops_channel_id}/messages/{card['id']}")
    assert system.app.get_approval(UUID(approval_id)).votes == ["alice"]


async def test_a_vote_cast_while_the_bot_was_down_shows_when_it_is_back(
        fake: FakeDiscord, start: Start, system: System, no_errors: object) -> None:
    first = await start()
    card, approval_id = await request_gated(fake, first)
    await followups(fake, 1)
    await first.close()
    await asyncio.to_thread(system.app.cast_vote, UUID(approval_id), "alice")  # from the CLI
    await asyncio.sleep(0.3)  # the stopped bot's follower sees it and cannot show it
    assert not fake.find("PATCH", rf"/channels/{fake.ops_channel_id}/messages/{card['id']}")
    await start()
    edits = await fake.wait_for("PATCH", rf"/channels/{fake.ops_channel_id}/messages/{card['id']}")
    assert "alice" in edits[-1].json["content"]


async def test_deny_asks_for_a_reason_in_a_modal(fake: FakeDiscord, start: Start,
                                                 system: System, no_errors: object) -> None:
    bot = await start()
    card, approval_id = await request_gated(fake, bot)
    await followups(fake, 1)
    interact(bot, fake.button_click(BOB, card["id"], f"altlas:deny:{approval_id}"))
    modal = (await fake.wait_for("POST", r"/interactions/\d+/[^/]+/callback", 2))[-1].json
    assert modal["type"] == 9 and modal["data"]["custom_id"] == f"altlas:deny-reason:{approval_id}"
    interact(bot, fake.modal_submit(BOB, fake.ops_channel_id, modal["data"]["custom_id"],
                                    {"reason": "change freeze until Monday"}))
    edits = await fake.wait_for("PATCH", rf"/channels/{fake.ops_channel_id}/messages/{card['id']}")
    assert "change freeze until Monday" in edits[-1].json["content"]
    assert edits[-1].json["components"] == []
    assert system.app.get_approval(UUID(approval_id)).status == "denied"


async def test_refused_click_says_why_privately_and_is_recorded(
    fake: FakeDiscord, start: Start, system: System, no_errors: object
) -> None:
    bot = await start()
    card, approval_id = await request_gated(fake, bot)
    await followups(fake, 1)
    interact(bot, fake.button_click(DENIZ, card["id"], f"altlas:approve:{approval_id}"))
    said = [c for c in await followups(fake, 2) if c.json.get("flags") == 64]
    assert said[-1].json["content"] == (
        "Reddedildi: bu değişikliği siz istediniz; onaylayamaz ya da reddedemezsiniz.")
    refused = [r for r in system.history.read() if r.type_name == "ApprovalAttemptRefused"]
    assert refused and system.app.privacy.reveal(refused[0].state["by"]) == "deniz"
    assert system.app.get_approval(UUID(approval_id)).votes == []


async def test_atlas_in_discord_says_when_nothing_matches(
    fake: FakeDiscord, start: Start, no_errors: object
) -> None:
    bot = await start()
    interact(bot, fake.slash_command(ALICE, "altlas", "atlas", query="reboot the world"))
    [said] = [c.json["content"] for c in await followups(fake, 1)]
    assert said == ("Nothing in the .atlas matches “reboot the world”; try fewer words, or an "
                    "intent such as restart or disk.")


async def test_the_leaderboard_in_discord_comes_with_its_ratings_chart(
    fake: FakeDiscord, start: Start, system: System, no_errors: object
) -> None:
    bot = await start()
    for outcome in ("a", "tie", "b", "a"):
        system.app.record_match("local:qwen", "rules", outcome, "alice", makers=[])
    system.store_feed().catch_up()
    interact(bot, fake.slash_command(ALICE, "altlas", "leaderboard", about="elo"))
    [sent] = await followups(fake, 1)
    assert "Elo ratings from 4 match(es):\n1. local:qwen · " in sent.json["content"]
    [chart] = sent.json["attachments"]
    assert (chart["filename"], chart["content_type"]) == ("ratings-elo.png", "image/png")
    assert fake.files["ratings-elo.png"].startswith(b"\x89PNG")
    assert not sent.json.get("flags", 0) & 64  # shared with the channel, not ephemeral


async def test_incidents_in_discord_are_shared_with_their_likely_cause(
    fake: FakeDiscord, start: Start, system: System, no_errors: object
) -> None:
    bot = await start()
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for fingerprint, labels in (("db01", {"alertname": "PostgresDown", "instance": "db-1:9187"}),
                                ("web1", {"alertname": "HighLatency", "service": "web"})):
        system.app.receive_alert(IncomingAlert(fingerprint, labels, {}, at, None, {}))
    system.worker().until_quiet()
    system.store_feed().catch_up()
    interact(bot, fake.slash_command(ALICE, "altlas", "incidents", which="all"))
    [sent] = await followups(fake, 1)
    assert "PostgresDown on postgres · open · 2 of 2 alert(s) firing" in sent.json["content"]
    assert "likely cause: postgres" in sent.json["content"]
    assert not sent.json.get("flags", 0) & 64  # shared with the channel


async def test_an_incident_is_one_discord_message_edited_as_it_changes(
    fake: FakeDiscord, start: Start, system: System, no_errors: object
) -> None:
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = {"discord": fake.ops_channel_id}
    system.app.policy = Policy.from_mapping(data)  # as a reloaded policy would say
    await start()
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    for fingerprint, labels in (("db01", {"alertname": "PostgresDown", "instance": "db-1:9187"}),
                                ("web1", {"alertname": "HighLatency", "service": "web"})):
        system.app.receive_alert(IncomingAlert(fingerprint, labels, {}, at, None, {}))
    where = rf"/channels/{fake.ops_channel_id}/messages"
    [posted] = await fake.wait_for("POST", where + "$", 1, 30)
    assert "PostgresDown on postgres · open" in posted.json["content"]
    message = next(m for m in fake.messages.values()
                   if "PostgresDown on postgres" in m.get("content", ""))
    for fingerprint in ("db01", "web1"):
        system.app.receive_alert(IncomingAlert(fingerprint, {}, {}, at,
                                               at + timedelta(minutes=5), {}, resolved=True))
    deadline = time.monotonic() + 30
    while "resolved · 0 of 2 alert(s) firing" not in fake.messages[message["id"]]["content"]:
        assert time.monotonic() < deadline, fake.messages[message["id"]]["content"]
        await asyncio.sleep(0.05)
    assert len(fake.find("POST", where + "$")) == 1  # edited in place, never posted again


async def test_the_incident_message_itself_takes_the_remediations_votes_in_discord(
    fake: FakeDiscord, start: Start, system: System, no_errors: object
) -> None:
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = {"discord": fake.ops_channel_id}
    system.app.policy = Policy.from_mapping(data)
    bot = await start()
    system.app.receive_alert(IncomingAlert(
        "web01", {"alertname": "NginxDown", "instance": "web-1:9100"},
        {"altlas": "restart nginx on web-1"}, datetime.now(UTC), None, {}))
    deadline = time.monotonic() + 30
    while not (found := [m for m in fake.messages.values() if "NginxDown" in m.get("content", "")
                         and "altlas:approve:" in str(m["components"])]):
        assert time.monotonic() < deadline, "the incident message never showed its votes"
        await asyncio.sleep(0.05)
    message = found[0]
    [[approve, deny]] = [row["components"] for row in message["components"]]
    assert (approve["label"], deny["label"]) == ("Approve s1", "Deny s1")
    approval_id = approve["custom_id"].split(":")[2]
    interact(bot, fake.button_click(ALICE, message["id"], approve["custom_id"]))
    interact(bot, fake.button_click(BOB, message["id"], approve["custom_id"]))
    while not (fake.messages[message["id"]]["components"] == []
               and "failed" in fake.messages[message["id"]]["content"]):
        assert time.monotonic() < deadline, fake.messages[message["id"]]
        await asyncio.sleep(0.05)
    approval = system.app.get_approval(UUID(approval_id))
    assert (approval.status, sorted(approval.votes)) == ("granted", ["alice", "bob"])


async def test_an_arena_duel_in_discord_is_judged_with_its_buttons(
    fake: FakeDiscord, start: Start, system: System, no_errors: object
) -> None:
    pytest.importorskip("llama_cpp", reason="the llm extra is not installed")
    from adapters.llm_local import resolve

    data = yaml.safe_load(default_policy_text())
    data["people"]["carol"]["roles"] = ["operator"]
    system.app.policy = Policy.from_mapping(data)
    cache = Path(tempfile.gettempdir()) / "altlas-test-models"
    packaged = resolve("smollm2", cache)[1]
    system.settings.models_dir = packaged.parent  # where models are read from, for this one
    system.use_cases().models.add("carol", str(packaged), "smol")
    bot = await start()
    interact(bot, fake.slash_command(ALICE, "altlas", "arena", request="check disk on web-1"))
    deadline = time.monotonic() + 120  # SmolLM2 plans on a busy machine
    while not (found := [m for m in fake.messages.values()
                         if "altlas:arena:" in str(m.get("components"))]):
        assert time.monotonic() < deadline, "the duel was never shown"
        await asyncio.sleep(0.05)
    duel = found[0]
    assert "smol" not in duel["content"] and "rules" not in duel["content"]
    buttons = [b["custom_id"] for row in duel["components"] for b in row["components"]]
    assert [c.split(":")[2] for c in buttons] == ["a", "b", "tie", "both_bad"]
    # both bad: a verdict that counts whether or not SmolLM2 made a plan
    interact(bot, fake.button_click(BOB, duel["id"], buttons[3]))
    deadline = time.monotonic() + 30
    while not (fake.messages[duel["id"]]["components"] == []
               and "bob chose neither (both bad)." in fake.messages[duel["id"]]["content"]):
        assert time.monotonic() < deadline, fake.messages[duel["id"]]
        await asyncio.sleep(0.05)
    [played] = [r.state for r in system.history.read() if r.type_name == "MatchPlayed"]
    assert played["outcome"] == "both_bad" and {played["a"], played["b"]} == {"rules", "local:smol"}


async def test_without_a_policy_language_the_discord_client_decides(
    fake: FakeDiscord, start: Start, no_errors: object
) -> None:
    bot = await start()
    stranger = FakeDiscord.user_obj("100000000000000099", "stranger")
    fake.user_locales.update({stranger["id"]: "tr", ALICE["id"]: "tr"})
    interact(bot, fake.slash_command(stranger, "altlas", "leaderboard"))
    interact(bot, fake.slash_command(ALICE, "altlas", "leaderboard"))
    said = sorted(c.json["content"] for c in await followups(fake, 2))
    assert said == [
        "Nothing to rank yet: runbooks and planners rank as runs complete.",
        "discord:100000000000000099 kimliğini tanımıyorum. Bir yöneticiden politikadaki bir "
        "kişiye eklemesini isteyin (people → identities)."]


async def test_malformed_command_gets_the_usage_line(fake: FakeDiscord, start: Start,
                                                     no_errors: object) -> None:
    bot = await start()
    interact(bot, fake.slash_command(ALICE, "altlas", "status", id="zz"))
    [reply] = await followups(fake, 1)
    assert reply.json["content"] == "Refused: no approval, task or run has the id zz."


async def question_message(fake: FakeDiscord, timeout: float = 30) -> dict:
    """What altlas asked: the channel message whose buttons answer a task."""
    deadline = time.monotonic() + timeout
    while True:
        asked = [m for m in fake.messages.values() if m["channel_id"] == fake.ops_channel_id
                 and "altlas:answer:" in str(m["components"]) and not m.get("webhook_id")]
        if asked:
            return asked[0]
        assert time.monotonic() < deadline, "nothing was asked"
        await asyncio.sleep(0.05)


async def test_a_request_naming_no_host_is_asked_back_in_turkish_and_a_button_answers(
    fake: FakeDiscord, start: Start, system: System, no_errors: object
) -> None:
    bot = await start()
    interact(bot, fake.slash_command(DENIZ, "altlas", "do",
                                     request="web sunucusunda diski kontrol et"))
    asked = await question_message(fake)
    assert "hangi sunucuda çalışsın?" in asked["content"]  # deniz reads Turkish
    buttons = asked["components"][0]["components"]
    assert [b["label"] for b in buttons] == ["web-1", "web-2"]
    answer = next(m for m in fake.messages.values() if m["content"].startswith("Üzerindeyim"))
    posted = next(c for c in fake.find("POST", rf"/channels/{fake.ops_channel_id}/messages")
                  if "hangi sunucuda" in c.json["content"])
    assert str(posted.json["message_reference"]["message_id"]) == answer["id"]  # the thread

    task_id = buttons[1]["custom_id"].split(":")[2]
    interact(bot, fake.button_click(ALICE, asked["id"], buttons[1]["custom_id"]))
    refused = [c for c in await followups(fake, 2) if c.json.get("flags") == 64]
    assert "only deniz, who asked for it, may answer" in refused[-1].json["content"]
    assert system.app.get_task(UUID(task_id)).status == "asking"

    interact(bot, fake.button_click(DENIZ, asked["id"], buttons[1]["custom_id"]))
    deadline = time.monotonic() + 30
    while system.app.get_task(UUID(task_id)).status != "segmented":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    plan = system.app.get_task(UUID(task_id)).plan
    assert plan is not None and [(s["action"], s["target"]) for s in plan["steps"]] == [
        ("df -h", "web-2")]
    while not (plans := [c for c in fake.find("POST",
                                             rf"/channels/{fake.ops_channel_id}/messages")
                         if "planı" in c.json["content"]]):  # the follower posts it after
        assert time.monotonic() < deadline, "the plan was not posted"
        await asyncio.sleep(0.05)
    assert str(plans[0].json["message_reference"]["message_id"]) == answer["id"]
    # the question now says who answered what, and its buttons are gone
    settled = "“web sunucusunda diski kontrol et” hakkında soruldu: deniz yanıtladı: web-2."
    while fake.messages[asked["id"]]["content"] != settled:
        assert time.monotonic() < deadline, fake.messages[asked["id"]]["content"]
        await asyncio.sleep(0.05)
    assert not fake.messages[asked["id"]]["components"]
