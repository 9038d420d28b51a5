"""The Discord front: discord.py, thin. Slash commands defer at once and answer with a
followup; approval messages carry buttons whose custom ids alone (``altlas:approve:<id>``)
route clicks, so they keep working after a restart; Deny asks for the reason in a modal.

Every command goes through the shared chat command layer, in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import aiohttp
import discord
from discord import app_commands

from application.chat import Caller, Card, ChatCommands, Reply, card_lines
from application.i18n import t
from application.ports import FrontUnavailableError, MessageRefs

log = logging.getLogger("altlas.discord")
LIMIT = 1900  # Discord allows 2000 characters a message


def _clip(text: str) -> str:
    return text if len(text) <= LIMIT else text[:LIMIT - 1] + "…"


def _caller(chat: ChatCommands, interaction: discord.Interaction) -> Caller:
    """Interactions carry the user's client language: used when the policy sets none."""
    return chat.caller(f"discord:{interaction.user.id}", "discord",
                       profile_locale=interaction.locale.value)


class ApprovalButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                     template=r"altlas:(?P<action>approve|deny):(?P<id>[0-9a-f-]{36})"):
    def __init__(self, action: str, approval_id: str, label: str | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=label or action.title(), custom_id=f"altlas:{action}:{approval_id}",
            style=(discord.ButtonStyle.success if action == "approve"
                   else discord.ButtonStyle.danger)))
        self.action, self.approval_id = action, approval_id

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> ApprovalButton:
        return cls(match["action"], match["id"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: AltlasDiscord = interaction.client  # type: ignore[assignment]
        if self.action == "deny":
            caller = _caller(bot.chat, interaction)
            await interaction.response.send_modal(DenyModal(self.approval_id, caller.locale))
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await asyncio.to_thread(bot.chat.approve, _caller(bot.chat, interaction),
                                        self.approval_id)
        await bot.answer(interaction, reply)


class DenyModal(discord.ui.Modal):
    def __init__(self, approval_id: str, locale: str) -> None:
        super().__init__(title=t(locale, "modal.title")[:45],
                         custom_id=f"altlas:deny-reason:{approval_id}", timeout=None)
        self.approval_id = approval_id
        self.reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
            label=t(locale, "modal.label")[:45], style=discord.TextStyle.paragraph,
            max_length=500, required=True, custom_id="reason")
        self.add_item(self.reason)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        bot: AltlasDiscord = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await asyncio.to_thread(bot.chat.deny, _caller(bot.chat, interaction),
                                        self.approval_id, str(self.reason.value))
        await bot.answer(interaction, reply)


def approval_view(card: Card, locale: str) -> discord.ui.View | None:
    if not card.open:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(ApprovalButton("approve", card.approval.id, t(locale, "button.approve")))
    view.add_item(ApprovalButton("deny", card.approval.id, t(locale, "button.deny")))
    return view


def card_text(card: Card, locale: str) -> str:
    lines = card_lines(card, locale, datetime.now(UTC))
    return _clip("\n".join([f"**{lines[0]}**", *lines[1:]]))


class Altlas(app_commands.Group):
    """/altlas …: the chat commands, as Discord application commands."""

    def __init__(self, bot: AltlasDiscord) -> None:
        super().__init__(name="altlas", description="Operations: plan, approve, run, audit")
        self.bot = bot

    async def _run(self, interaction: discord.Interaction, text: str, ephemeral: bool) -> None:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        reply = await asyncio.to_thread(self.bot.chat.run, _caller(self.bot.chat, interaction),
                                        text)
        await self.bot.answer(interaction, reply)

    @app_commands.command(name="do", description="Plan a request, gate it, run what may run")
    @app_commands.describe(request="what should be done", mode="normal, explore, dream or chaos",
                           persona="reply persona", env="target environment")
    async def do(self, interaction: discord.Interaction, request: str, mode: str = "normal",
                 persona: str = "technical_expert", env: str | None = None) -> None:
        words = [request, "--mode", mode, "--persona", persona]
        if env:
            words += ["--env", env]
        await self._run(interaction, "do " + " ".join(_quote(w) for w in words), False)

    @app_commands.command(name="status", description="A task, run or approval")
    async def status(self, interaction: discord.Interaction, id: str) -> None:
        await self._run(interaction, f"status {_quote(id)}", True)

    @app_commands.command(name="runs", description="Recent runs")
    async def runs(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "runs", True)

    @app_commands.command(name="approvals", description="What waits for your approval")
    async def approvals(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "approvals", True)

    @app_commands.command(name="approve", description="Approve a gated step")
    async def approve(self, interaction: discord.Interaction, id: str) -> None:
        await self._run(interaction, f"approve {_quote(id)}", True)

    @app_commands.command(name="deny", description="Deny a gated step, with a reason")
    async def deny(self, interaction: discord.Interaction, id: str, reason: str) -> None:
        await self._run(interaction, f"deny {_quote(id)} {_quote(reason)}", True)

    @app_commands.command(name="atlas", description="Search the knowledge base")
    async def atlas(self, interaction: discord.Interaction, query: str) -> None:
        await self._run(interaction, f"atlas {_quote(query)}", True)

    @app_commands.command(name="leaderboard", description="Models and runbooks, ranked")
    async def leaderboard(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "leaderboard", True)

    @app_commands.command(name="audit", description="verify, or replay --until TIME")
    async def audit(self, interaction: discord.Interaction, action: str,
                    until: str | None = None) -> None:
        text = f"audit {_quote(action)}" + (f" --until {_quote(until)}" if until else "")
        await self._run(interaction, text, True)

    @app_commands.command(name="help", description="The commands")
    async def help(self, interaction: discord.Interaction) -> None:
        await self._run(interaction, "help", True)


def _quote(word: str) -> str:
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


class AltlasDiscord(discord.Client):
    def __init__(self, chat: ChatCommands, refs: MessageRefs, *, guild_id: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(intents=discord.Intents.none(), **kwargs)
        self.chat = chat
        self.refs = refs
        self.guild_id = guild_id
        self.tree = app_commands.CommandTree(self)
        guild = discord.Object(guild_id) if guild_id else None
        self.tree.add_command(Altlas(self), guild=guild)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ApprovalButton)  # buttons of every message, by custom id alone
        await self.tree.sync(guild=discord.Object(self.guild_id) if self.guild_id else None)

    async def answer(self, interaction: discord.Interaction, reply: Reply) -> None:
        """The deferred answer, the approval cards in the channel, then the long work."""
        await interaction.followup.send(_clip(reply.text), ephemeral=reply.ephemeral)
        for card in reply.cards:
            await self.post_card(interaction.channel_id, card, reply.locale)
        if reply.later is not None:
            later = await asyncio.to_thread(reply.later)
            await self.answer(interaction, later)

    async def post_card(self, channel_id: int | None, card: Card, locale: str) -> None:
        if channel_id is None:
            return
        channel = self.get_partial_messageable(channel_id)
        view = approval_view(card, locale)
        text = card_text(card, locale)
        message = await (channel.send(text, view=view) if view else channel.send(text))
        await asyncio.to_thread(self.refs.add, card.approval.id, "discord", str(channel_id),
                                str(message.id), None, locale)


class DiscordNotifier:
    """Edits approval messages in place, from any thread, on the bot's own loop."""

    def __init__(self, bot: AltlasDiscord, chat: ChatCommands, refs: MessageRefs) -> None:
        self._bot = bot
        self._chat = chat
        self._refs = refs

    def _loop(self) -> asyncio.AbstractEventLoop:
        """The bot's running loop; until the bot has started or once it is closed, the
        update waits for a later try (or the next process)."""
        if self._bot.is_closed():
            raise FrontUnavailableError("the Discord bot is closed")
        try:
            loop = self._bot.loop
            running = loop.is_running()
        except AttributeError:  # discord.py's placeholder before the bot logs in
            running = False
        if not running:
            raise FrontUnavailableError("the Discord bot has not started yet")
        return loop

    def approval_changed(self, approval_id: str) -> None:
        loop = self._loop()
        card = self._chat.card(UUID(approval_id))
        for channel, message, locale in self._refs.of(approval_id, "discord"):
            partial = self._bot.get_partial_messageable(int(channel)).get_partial_message(
                int(message))
            edit = partial.edit(content=card_text(card, locale), view=approval_view(card, locale))
            try:
                future = asyncio.run_coroutine_threadsafe(edit, loop)
            except RuntimeError:  # the loop closed meanwhile
                edit.close()  # never scheduled: not left to warn at exit
                raise FrontUnavailableError("the Discord bot is closed") from None
            try:
                future.result(timeout=10)
            except TimeoutError:
                future.cancel()
                raise FrontUnavailableError("Discord did not answer in 10 s") from None
            except (discord.DiscordServerError, aiohttp.ClientConnectionError) as e:
                raise FrontUnavailableError(f"Discord cannot take the update: {e}") from None
            except Exception:
                log.exception("could not update the approval message %s", message)

    def run_finished(self, run_id: str) -> None:
        for approval_id in self._chat.approvals_of_run(UUID(run_id)):
            self.approval_changed(approval_id)
