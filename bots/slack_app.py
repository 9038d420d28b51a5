"""The Slack front: slack-bolt (AsyncApp), thin. Ack at once, then one chat command, then
render; long work goes on after the ack and reports in the thread.

Listeners never block the event loop: the command layer runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import aiohttp
from fastapi import Request, Response
from slack_bolt.adapter.fastapi.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web import WebClient
from slack_sdk.web.async_client import AsyncWebClient

from application.chat import Caller, ChatCommands, Reply
from application.i18n import t
from application.ports import FrontUnavailableError, MessageRefs
from bots.blocks import card_blocks, deny_modal, text_blocks

log = logging.getLogger("altlas.slack")
_MENTION = re.compile(r"^\s*<@[A-Z0-9]+>\s*")


def _now() -> datetime:
    return datetime.now(UTC)


class SlackNotifier:
    """Updates approval messages in place and reports run results, from any thread."""

    def __init__(self, chat: ChatCommands, refs: MessageRefs, client: WebClient) -> None:
        self._chat = chat
        self._refs = refs
        self._client = client

    def approval_changed(self, approval_id: str) -> None:
        card = self._chat.card(UUID(approval_id))
        for channel, ts, locale in self._refs.of(approval_id, "slack"):
            try:
                self._client.chat_update(channel=channel, ts=ts,
                                         text=t(locale, "card.title", risk=card.approval.risk,
                                                environment=card.approval.environment),
                                         blocks=card_blocks(card, locale, _now()))
            except SlackApiError as e:
                status = e.response.status_code
                if status == 429 or status >= 500:
                    raise FrontUnavailableError(f"Slack answered HTTP {status}") from None
                log.error("could not update the approval message %s in %s: %s", ts, channel,
                          e.response.get("error"))
            except OSError as e:  # refused, reset, timed out: Slack is out of reach
                raise FrontUnavailableError(f"Slack cannot be reached: {e}") from None

    def run_finished(self, run_id: str) -> None:
        """Cards show the run's result; re-render every card of the run."""
        for approval_id in self._chat.approvals_of_run(UUID(run_id)):
            self.approval_changed(approval_id)


def create_slack_app(chat: ChatCommands, refs: MessageRefs, *, token: str,
                     signing_secret: str, api_url: str | None = None) -> AsyncApp:
    kwargs: dict[str, Any] = {"token": token}
    if api_url:
        kwargs["base_url"] = api_url
    app = AsyncApp(client=AsyncWebClient(**kwargs), signing_secret=signing_secret)
    tasks: set[asyncio.Task[None]] = set()  # keep background work alive until it is done

    def background(coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        tasks.add(task)
        task.add_done_callback(tasks.discard)

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
                   thread: str | None) -> str | None:
        """Post a reply and its approval cards; returns the message's ts (the thread)."""
        ts = thread
        if reply.text:
            posted = await client.chat_postMessage(channel=channel, text=reply.text,
                                                   blocks=text_blocks(reply.text),
                                                   thread_ts=thread)
            ts = thread or posted["ts"]
        for card in reply.cards:
            posted = await client.chat_postMessage(
                channel=channel, text=t(reply.locale, "card.title", risk=card.approval.risk,
                                        environment=card.approval.environment),
                blocks=card_blocks(card, reply.locale, _now()))
            await asyncio.to_thread(refs.add, card.approval.id, "slack", channel,
                                    posted["ts"], ts, reply.locale)
        return ts

    async def deliver(client: AsyncWebClient, respond: Any, channel: str, user: str,
                      reply: Reply, thread: str | None) -> None:
        if reply.ephemeral:
            await respond(text=reply.text, response_type="ephemeral",
                          replace_original=False)
            for card in reply.cards:
                await respond(blocks=card_blocks(card, reply.locale, _now()),
                              response_type="ephemeral", replace_original=False)
            ts = thread
        else:
            ts = await post(client, channel, reply, thread)
        if reply.later is not None:
            later = await asyncio.to_thread(reply.later)
            await deliver(client, respond, channel, user, later, ts)

    @app.command("/altlas")
    async def slash(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
                    ) -> None:
        await ack()
        caller = await caller_for(client, body["user_id"])
        reply = await asyncio.to_thread(chat.run, caller, body.get("text", ""))
        background(deliver(client, respond, body["channel_id"], body["user_id"], reply, None))

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: Any, client: AsyncWebClient) -> None:
        caller = await caller_for(client, event["user"])
        text = _MENTION.sub("", event.get("text", ""))
        reply = await asyncio.to_thread(chat.run, caller, text)
        thread = event.get("thread_ts") or event["ts"]

        async def answer(reply: Reply) -> None:
            await post(client, event["channel"], reply, thread)
            if reply.later is not None:
                await answer(await asyncio.to_thread(reply.later))

        background(answer(reply))

    @app.action("altlas_approve")
    async def approve(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient
                      ) -> None:
        await ack()
        user = body["user"]["id"]
        approval_id = body["actions"][0]["value"]
        reply = await asyncio.to_thread(chat.approve, await caller_for(client, user),
                                        approval_id)
        thread = body.get("message", {}).get("ts")
        background(deliver(client, respond, body["channel"]["id"], user, reply, thread))

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
        where = json.loads(view["private_metadata"])
        reply = await asyncio.to_thread(chat.deny, caller, where["approval_id"], reason)

        async def report(reply: Reply) -> None:
            if reply.ephemeral:
                await client.chat_postEphemeral(channel=where["channel"],
                                                user=body["user"]["id"], text=reply.text)
            else:
                await post(client, where["channel"], reply, where["ts"])
            if reply.later is not None:
                await report(await asyncio.to_thread(reply.later))

        background(report(reply))

    return app


def slack_endpoint(app: AsyncApp) -> Callable[[Request], Awaitable[Response]]:
    """The FastAPI endpoint for Slack's requests; bolt verifies their signatures."""
    handler = AsyncSlackRequestHandler(app)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    return slack_events
