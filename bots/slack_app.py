"""The Slack front: slack-bolt (AsyncApp), thin. Ack at once, then one chat command, then
render; long work goes on after the ack and reports in the thread.

Listeners never block the event loop: the command layer runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import aiohttp
from fastapi import Request, Response
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import SlackResponse, WebClient
from slack_sdk.web.async_client import AsyncWebClient

from application.errors import AudioRefusedError
from application.i18n import t
from application.ports import ChatPosts, FrontUnavailableError, Vote
from application.presenters import CardModel
from bots.blocks import (
    ANSWER,
    ARENA,
    HEARING,
    card_blocks,
    deny_modal,
    duel_blocks,
    escaped,
    hearing_blocks,
    question_blocks,
    text_blocks,
)
from bots.chat import Caller, ChatFront, Reply
from bots.chat_voice import ChatVoice
from bots.clip_download import download_clip, origin
from bots.slack_gate import SeenRequests, gate

log = logging.getLogger("altlas.slack")
_MENTION = re.compile(r"^\s*<@[A-Z0-9]+>\s*")


def _now() -> datetime:
    return datetime.now(UTC)


class SlackNotifier:
    """Tells people in Slack (application.ports.Notifier), from any thread."""

    platform = "slack"

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def say(self, channel: str, thread: str | None, text: str,
            votes: Sequence[Vote] = ()) -> str:
        posted = self._call(lambda: self._client.chat_postMessage(
            channel=channel, text=escaped(text), blocks=text_blocks(text, votes),
            thread_ts=thread))
        return str(posted["ts"])

    def show_card(self, channel: str, card: CardModel, locale: str) -> str:
        posted = self._call(lambda: self._client.chat_postMessage(
            channel=channel, text=_title(card, locale), blocks=card_blocks(card, locale, _now())))
        return str(posted["ts"])

    def ask(self, channel: str, thread: str | None, text: str, task_id: str,
            choices: list[str]) -> str:
        posted = self._call(lambda: self._client.chat_postMessage(
            channel=channel, text=escaped(text), thread_ts=thread,
            blocks=question_blocks(text, task_id, choices)))
        return str(posted["ts"])

    def duel(self, channel: str, thread: str | None, text: str, duel_id: str,
             labels: Sequence[tuple[str, str]]) -> str:
        posted = self._call(lambda: self._client.chat_postMessage(
            channel=channel, text=escaped(text), thread_ts=thread,
            blocks=duel_blocks(text, duel_id, labels)))
        return str(posted["ts"])

    def update_card(self, channel: str, message: str, card: CardModel, locale: str) -> None:
        try:
            self._call(lambda: self._client.chat_update(
                channel=channel, ts=message, text=_title(card, locale),
                blocks=card_blocks(card, locale, _now())))
        except SlackApiError as e:  # deleted, or the channel archived: nothing to update
            log.error("could not update the approval message %s in %s: %s", message, channel,
                      e.response.get("error"))

    def attach(self, channel: str, thread: str, filename: str, title: str, png: bytes) -> None:
        self._call(lambda: self._client.files_upload_v2(
            channel=channel, thread_ts=thread, file=png, filename=filename, title=title))

    def rewrite(self, channel: str, message: str, text: str,
                votes: Sequence[Vote] = ()) -> None:
        try:
            self._call(lambda: self._client.chat_update(
                channel=channel, ts=message, text=escaped(text),
                blocks=text_blocks(text, votes)))
        except SlackApiError as e:
            log.error("could not rewrite the message %s in %s: %s", message, channel,
                      e.response.get("error"))

    @staticmethod
    def _call(call: Callable[[], SlackResponse]) -> SlackResponse:
        try:
            return call()
        except SlackApiError as e:
            status = e.response.status_code
            if status == 429 or status >= 500:
                raise FrontUnavailableError(f"Slack answered HTTP {status}",
                                            _seconds(e.response.headers.get("Retry-After"))
                                            ) from None
            raise
        except OSError as e:  # refused, reset, timed out: Slack is out of reach
            raise FrontUnavailableError(f"Slack cannot be reached: {e}") from None


def _seconds(header: Any) -> float | None:
    """Retry-After in seconds (Slack sends whole seconds); None if absent or unreadable."""
    if isinstance(header, list):
        header = header[0] if header else None
    try:
        return max(0.0, float(header)) if header is not None else None
    except ValueError:
        return None


def _title(card: CardModel, locale: str) -> str:
    return t(locale, "card.title", risk=card.approval.risk, environment=card.approval.environment)


FILES = "https://files.slack.com"  # where Slack keeps the files shared in it


def is_clip(file: dict[str, Any]) -> bool:
    """An audio file, or a clip recorded in Slack (its own subtype, sent as audio/webm or
    audio/mp4)."""
    return (str(file.get("mimetype", "")).startswith("audio/")
            or file.get("subtype") == "slack_audio")


def create_slack_app(chat: ChatFront, posts: ChatPosts, *, token: str,
                     signing_secret: str, api_url: str | None = None,
                     max_clip_bytes: int = 10_485_760) -> AsyncApp:
    """``max_clip_bytes``: a voice clip over it is refused before it is downloaded."""
    kwargs: dict[str, Any] = {"token": token}
    file_hosts = {FILES}
    if api_url:
        kwargs["base_url"] = api_url
        file_hosts.add(origin(api_url))  # a Slack of one's own (and the tests' fake)
    voice = ChatVoice(chat, max_clip_bytes)
    app = AsyncApp(client=AsyncWebClient(**kwargs), signing_secret=signing_secret)
    _quiet_bolt_verification()
    tasks: set[asyncio.Task[None]] = set()  # keep background work alive until it is done

    def background(coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(done)

    def done(task: asyncio.Task[None]) -> None:
        tasks.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("could not answer in Slack: %s", str(error) or type(error).__name__)

    profile_locales: dict[str, str | None] = {}

    async def caller_for(client: AsyncWebClient, user: str) -> Caller:
        """The policy's language for the person, else their Slack profile's (once per user)."""
        if user not in profile_locales:
            try:
                found = await client.users_info(user=user, include_locale=True)
                profile_locales[user] = found["user"].get("locale")
            except (SlackClientError, aiohttp.ClientError, TimeoutError) as e:
                log.warning("no Slack profile language for %s (%s); the policy's is used",
                            user, e)
                return chat.caller(f"slack:{user}", "slack")
        return chat.caller(f"slack:{user}", "slack", profile_locale=profile_locales[user])

    async def post(client: AsyncWebClient, channel: str, reply: Reply,
                   thread: str | None) -> None:
        """Post a reply in the channel (in ``thread``); a request's reply starts its thread."""
        posted = await client.chat_postMessage(channel=channel, text=escaped(reply.text),
                                               blocks=text_blocks(reply.text), thread_ts=thread)
        for image in reply.images:  # Slack's v2 upload: get a URL, send the bytes, share
            await client.files_upload_v2(channel=channel, thread_ts=thread or str(posted["ts"]),
                                         file=image.png, filename=image.filename,
                                         title=image.title)
        if reply.task_id is not None:
            await asyncio.to_thread(posts.add, "slack", f"thread:{reply.task_id}", channel,
                                    thread or str(posted["ts"]))

    async def deliver(client: AsyncWebClient, respond: Any, channel: str, reply: Reply,
                      thread: str | None) -> None:
        if not reply.ephemeral:
            await post(client, channel, reply, thread)
            return
        await respond(text=escaped(reply.text), response_type="ephemeral",
                      replace_original=False)
        for card in reply.cards:
            await respond(blocks=card_blocks(card, reply.locale, _now()),
                          response_type="ephemeral", replace_original=False)

    def where(channel: str, thread: str | None = None) -> dict[str, str]:
        return {"front": "slack", "channel": channel, **({"thread": thread} if thread else {})}

    @app.command("/altlas")
    async def slash(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
                    ) -> None:
        await ack()
        caller = await caller_for(client, body["user_id"])
        channel = body["channel_id"]
        reply = await asyncio.to_thread(chat.run, caller, body.get("text", ""), where(channel))
        background(deliver(client, respond, channel, reply, None))

    @app.event("app_mention")
    async def mention(event: dict[str, Any], client: AsyncWebClient) -> None:
        caller = await caller_for(client, event["user"])
        text = _MENTION.sub("", event.get("text", ""))
        thread = event.get("thread_ts") or event["ts"]
        reply = await asyncio.to_thread(chat.run, caller, text, where(event["channel"], thread))
        background(post(client, event["channel"], reply, thread))

    @app.event({"type": "message", "subtype": "file_share"})
    async def clip(event: dict[str, Any], client: AsyncWebClient) -> None:
        """A voice clip or audio file shared where altlas is: heard, then handled as the
        typed request, in the thread of the clip."""
        found = next((f for f in event.get("files") or [] if is_clip(f)), None)
        if found is None or event.get("bot_id"):
            return
        caller = await caller_for(client, event["user"])
        thread = event.get("thread_ts") or event["ts"]
        background(hear(client, caller, event["channel"], thread, found))

    async def hear(client: AsyncWebClient, caller: Caller, channel: str, thread: str,
                   file: dict[str, Any]) -> None:
        if int(file.get("size") or 0) > max_clip_bytes:
            await post(client, channel, voice.too_large(caller), thread)
            return
        try:
            audio = await download_clip(
                str(file.get("url_private_download") or file.get("url_private") or ""),
                max_bytes=max_clip_bytes, hosts=file_hosts,
                headers={"Authorization": f"Bearer {token}"})
        except AudioRefusedError as e:
            await post(client, channel, voice.refused(caller, e), thread)
            return
        heard = await asyncio.to_thread(voice.hear, caller, audio, where(channel, thread))
        if heard.hearing_id is not None:
            await client.chat_postMessage(
                channel=channel, thread_ts=thread, text=escaped(heard.first.text),
                blocks=hearing_blocks(heard.first.text, heard.hearing_id, caller.locale))
            return
        for reply in heard.replies:
            await post(client, channel, reply, thread)

    @app.action(re.compile(rf"^{HEARING}:(yes|no)$"))
    async def hearing_answer(ack: Any, body: dict[str, Any], respond: Any,
                             client: AsyncWebClient) -> None:
        await ack()
        action = body["actions"][0]
        caller = await caller_for(client, body["user"]["id"])
        reply = await asyncio.to_thread(voice.answer, caller, action["value"],
                                        action["action_id"].endswith(":yes"))
        message = body.get("message", {})
        thread = message.get("thread_ts") or message.get("ts")
        if not reply.ephemeral and message.get("ts"):  # answered: its buttons go
            await client.chat_update(
                channel=body["channel"]["id"], ts=message["ts"], text=message.get("text", ""),
                blocks=[b for b in message.get("blocks", []) if b.get("type") != "actions"])
        background(deliver(client, respond, body["channel"]["id"], reply, thread))

    @app.action("altlas_approve")
    async def approve(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
                      ) -> None:
        await ack()
        reply = await asyncio.to_thread(chat.approve,
                                        await caller_for(client, body["user"]["id"]),
                                        body["actions"][0]["value"])
        thread = body.get("message", {}).get("ts")
        background(deliver(client, respond, body["channel"]["id"], reply, thread))

    @app.action(re.compile(rf"^{ANSWER}:\d+$"))
    async def answer(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
                     ) -> None:
        await ack()
        task_id, choice = body["actions"][0]["value"].rsplit(":", 1)
        reply = await asyncio.to_thread(chat.answer,
                                        await caller_for(client, body["user"]["id"]),
                                        task_id, choice)
        thread = body.get("message", {}).get("thread_ts") or body.get("message", {}).get("ts")
        background(deliver(client, respond, body["channel"]["id"], reply, thread))

    @app.action(re.compile(rf"^{ARENA}:(a|b|tie|both_bad)$"))
    async def arena_vote(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
                         ) -> None:
        await ack()
        action = body["actions"][0]
        reply = await asyncio.to_thread(chat.arena_vote,
                                        await caller_for(client, body["user"]["id"]),
                                        action["value"], action["action_id"].split(":", 1)[1])
        background(deliver(client, respond, body["channel"]["id"], reply, None))

    @app.action("altlas_deny")
    async def deny(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        caller = await caller_for(client, body["user"]["id"])
        await client.views_open(trigger_id=body["trigger_id"], view=deny_modal(
            body["actions"][0]["value"], body["channel"]["id"], body["message"]["ts"],
            caller.locale))

    @app.view("altlas_deny_reason")
    async def deny_reason(ack: Any, body: dict[str, Any], view: dict[str, Any],
                          client: AsyncWebClient) -> None:
        reason = (view["state"]["values"]["reason"]["value"].get("value") or "").strip()
        caller = await caller_for(client, body["user"]["id"])
        if not reason:
            await ack(response_action="errors",
                      errors={"reason": t(caller.locale, "reason.no_reason")})
            return
        await ack()
        at = json.loads(view["private_metadata"])
        reply = await asyncio.to_thread(chat.deny, caller, at["approval_id"], reason)

        async def report() -> None:
            if reply.ephemeral:
                await client.chat_postEphemeral(channel=at["channel"], user=body["user"]["id"],
                                                text=escaped(reply.text))
            else:
                await post(client, at["channel"], reply, at["ts"])

        background(report())

    return app


def slack_endpoint(app: AsyncApp, *, signing_secret: str, seen: SeenRequests
                   ) -> Callable[[Request], Awaitable[Response]]:
    """The FastAPI endpoint for Slack's requests: signature, shape and replays are checked
    (bots/slack_gate.py) before bolt sees them."""
    return gate(app, signing_secret, seen)


def _quiet_bolt_verification() -> None:
    """bolt logs the whole body of a request whose signature fails (at INFO): the gate
    refuses those first, and one that expires between the two checks is not logged
    either."""
    for name in ("slack_bolt.AsyncRequestVerification", "slack_bolt.RequestVerification"):
        logger = logging.getLogger(name)
        if _drop not in logger.filters:
            logger.addFilter(_drop)


def _drop(record: logging.LogRecord) -> bool:
    return False
