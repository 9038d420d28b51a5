"""The Discord front: discord.py, thin. Slash commands defer at once and answer with a
followup; approval messages carry buttons whose custom ids alone (``altlas:approve:<id>``)
route clicks, so they keep working after a restart; Deny asks for the reason in a modal.

Every command goes through the shared chat front, in a worker thread; what altlas says
afterwards (the plan, the cards, the result) is posted by the conversation follower through
DiscordNotifier, as replies to the message that answered the request.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiohttp
import discord
from discord import app_commands
from discord.utils import MISSING

from application.errors import AudioRefusedError
from application.i18n import t
from application.ports import ChatPosts, FrontUnavailableError, Vote
from application.presenters import CardModel
from application.text import card_lines, choice_label
from bots.chat import Caller, ChatFront, Reply
from bots.chat_voice import ChatVoice
from bots.clip_download import download_clip, origin

log = logging.getLogger("altlas.discord")
LIMIT = 1900  # Discord allows 2000 characters a message
# where Discord keeps attachments (signed URLs: no token is sent)
CDN = ("https://cdn.discordapp.com", "https://media.discordapp.net")


def _clip(text: str) -> str:
    return text if len(text) <= LIMIT else text[:LIMIT - 1] + "…"


def _caller(chat: ChatFront, interaction: discord.Interaction) -> Caller:
    """Interactions carry the user's client language: used when the policy sets none."""
    return chat.caller(f"discord:{interaction.user.id}", "discord",
                       profile_locale=interaction.locale.value)


class ApprovalButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                     template=r"altlas:(?P<action>approve|deny):(?P<id>[0-9a-f-]{36})"):
    def __init__(self, action: str, approval_id: str, label: str | None = None,
                 row: int | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=label or action.title(), custom_id=f"altlas:{action}:{approval_id}",
            style=(discord.ButtonStyle.success if action == "approve"
                   else discord.ButtonStyle.danger)), row=row)
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


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                   template=r"altlas:answer:(?P<id>[0-9a-f-]{36}):(?P<n>\d{1,2})"):
    """A question's choice: the click answers with its number."""

    def __init__(self, task_id: str, number: int, label: str | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=choice_label(number, label or str(number), 80),
            custom_id=f"altlas:answer:{task_id}:{number}",
            style=discord.ButtonStyle.primary))
        self.task_id, self.number = task_id, number

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> AnswerButton:
        return cls(match["id"], int(match["n"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: AltlasDiscord = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await asyncio.to_thread(bot.chat.answer, _caller(bot.chat, interaction),
                                        self.task_id, str(self.number))
        await bot.answer(interaction, reply)


class ArenaButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                  template=r"altlas:arena:(?P<verdict>a|b|tie|both_bad):(?P<id>[0-9a-f-]{36})"):
    """A verdict under a duel's plans: the click votes with it."""

    def __init__(self, duel_id: str, verdict: str, label: str | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=(label or verdict)[:80], custom_id=f"altlas:arena:{verdict}:{duel_id}",
            style=discord.ButtonStyle.primary if verdict in ("a", "b")
            else discord.ButtonStyle.secondary))
        self.duel_id, self.verdict = duel_id, verdict

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> ArenaButton:
        return cls(match["id"], match["verdict"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: AltlasDiscord = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await asyncio.to_thread(bot.chat.arena_vote, _caller(bot.chat, interaction),
                                        self.duel_id, self.verdict)
        await bot.answer(interaction, reply)


class HearingButton(discord.ui.DynamicItem[discord.ui.Button[Any]],
                    template=r"altlas:hearing:(?P<answer>yes|no):(?P<id>[0-9a-f-]{36})"):
    """"yes, that's it" / "no" under a doubtful hearing: only its speaker's click counts."""

    def __init__(self, hearing_id: str, answer: str, label: str | None = None) -> None:
        super().__init__(discord.ui.Button(
            label=(label or answer)[:80], custom_id=f"altlas:hearing:{answer}:{hearing_id}",
            style=discord.ButtonStyle.success if answer == "yes"
            else discord.ButtonStyle.secondary))
        self.hearing_id, self.answer = hearing_id, answer

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Item[Any],
                             match: re.Match[str]) -> HearingButton:
        return cls(match["id"], match["answer"])

    async def callback(self, interaction: discord.Interaction) -> None:
        bot: AltlasDiscord = interaction.client  # type: ignore[assignment]
        await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await asyncio.to_thread(bot.voice.answer, _caller(bot.chat, interaction),
                                        self.hearing_id, self.answer == "yes")
        if not reply.ephemeral and interaction.message is not None:  # answered: no buttons
            await interaction.message.edit(view=None)
        await bot.answer(interaction, reply)


def hearing_view(hearing_id: str, locale: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for answer in ("yes", "no"):
        view.add_item(HearingButton(hearing_id, answer, t(locale, f"voice.{answer}")))
    return view


def is_clip(attachment: discord.Attachment) -> bool:
    """A voice message's recording, or an audio file."""
    return attachment.is_voice_message() or (attachment.content_type or "").startswith(
        "audio/")


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


def approval_view(card: CardModel, locale: str) -> discord.ui.View | None:
    if not card.open:
        return None
    return votes_view([Vote(card.approval.id, t(locale, "button.approve"),
                            t(locale, "button.deny"))])


def votes_view(votes: Sequence[Vote]) -> discord.ui.View | None:
    """Approve and Deny for each vote, a row each (Discord shows five rows)."""
    if not votes:
        return None
    view = discord.ui.View(timeout=None)
    for row, vote in enumerate(votes[:5]):
        for action, label in (("approve", vote.approve), ("deny", vote.deny)):
            view.add_item(ApprovalButton(action, vote.approval_id, label[:80], row))
    return view


def card_text(card: CardModel, locale: str) -> str:
    lines = card_lines(card, locale, datetime.now(UTC))
    return _clip("\n".join([f"**{lines[0]}**", *lines[1:]]))


class Altlas(app_commands.Group):
    """/altlas …: the chat commands, as Discord application commands."""

    def __init__(self, bot: AltlasDiscord) -> None:
        super().__init__(name="altlas", description="Operations: plan, approve, run, audit")
        self.bot = bot

    async def _run(self, interaction: discord.Interaction, text: str, ephemeral: bool) -> None:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        where = {"front": "discord", "channel": str(interaction.channel_id)}
        reply = await asyncio.to_thread(self.bot.chat.run, _caller(self.bot.chat, interaction),
                                        text, where)
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

    @app_commands.command(name="answer", description="Answer what altlas asked about your task")
    @app_commands.describe(id="the task", answer="a host's name or number, words, or skip")
    async def answer(self, interaction: discord.Interaction, id: str, answer: str) -> None:
        await self._run(interaction, f"answer {_quote(id)} {_quote(answer)}", True)

    @app_commands.command(name="atlas", description="Search the knowledge base")
    async def atlas(self, interaction: discord.Interaction, query: str) -> None:
        await self._run(interaction, f"atlas {_quote(query)}", True)

    @app_commands.command(name="leaderboard", description="Runbooks and planners, ranked")
    @app_commands.describe(about="elo or bt for the ratings, or words of a runbook")
    async def leaderboard(self, interaction: discord.Interaction,
                          about: str | None = None) -> None:
        await self._run(interaction, "leaderboard" + (f" {_quote(about)}" if about else ""),
                        False)

    @app_commands.command(name="incidents", description="Incidents from alerts, likely "
                          "causes first")
    @app_commands.describe(which="all, or an incident's id (default: the open ones)")
    async def incidents(self, interaction: discord.Interaction,
                        which: str | None = None) -> None:
        await self._run(interaction, "incidents" + (f" {_quote(which)}" if which else ""),
                        False)

    @app_commands.command(name="models", description="The models that plan; ask for another")
    @app_commands.describe(activate="a registered model to plan from now on (approved)",
                           promote="an evaluated adapter to plan on its base (approved)",
                           rollback="go back to what planned before the last change "
                           "(approved)", reason="why, shown on the approval")
    async def models(self, interaction: discord.Interaction, activate: str | None = None,
                     promote: str | None = None, rollback: bool = False,
                     reason: str | None = None) -> None:
        change = (f" activate {_quote(activate)}" if activate else
                  f" promote {_quote(promote)}" if promote else " rollback" if rollback else "")
        text = "models" + change + (f" {_quote(reason)}" if change and reason else "")
        await self._run(interaction, text, not change)

    @app_commands.command(name="arena", description="Two planners plan a request: vote which "
                          "plan is better")
    @app_commands.describe(request="a request, or a task's id (its plan against another)")
    async def arena(self, interaction: discord.Interaction, request: str) -> None:
        await self._run(interaction, f"arena {_quote(request)}", False)

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
    def __init__(self, chat: ChatFront, posts: ChatPosts, *, guild_id: int | None = None,
                 hear_clips: bool = False, max_clip_bytes: int = 10_000_000,
                 **kwargs: Any) -> None:
        """``hear_clips``: read the messages of the channels altlas is in for voice
        messages, which needs the Message Content intent (enabled for the app in Discord's
        developer portal)."""
        intents = (discord.Intents(guild_messages=True, dm_messages=True, message_content=True)
                   if hear_clips else discord.Intents.none())
        # What people wrote is echoed back (a request, a reason): it never pings anyone.
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none(),
                         **kwargs)
        self.chat = chat
        self.posts = posts
        self.voice = ChatVoice(chat, max_clip_bytes)
        self.guild_id = guild_id
        self.tree = app_commands.CommandTree(self)
        guild = discord.Object(guild_id) if guild_id else None
        self.tree.add_command(Altlas(self), guild=guild)

    async def setup_hook(self) -> None:
        # buttons of every message, by custom id alone
        self.add_dynamic_items(ApprovalButton, AnswerButton, ArenaButton, HearingButton)
        await self.tree.sync(guild=discord.Object(self.guild_id) if self.guild_id else None)

    async def on_message(self, message: discord.Message) -> None:
        """A voice message or an audio file: heard, then handled as the typed request, in
        replies to it."""
        clip = next((a for a in message.attachments if is_clip(a)), None)
        if clip is None or message.author.bot:
            return
        caller = self.chat.caller(f"discord:{message.author.id}", "discord")
        if clip.size > self.voice.max_bytes:
            await self._reply(message, self.voice.too_large(caller))
            return
        try:
            audio = await download_clip(clip.url, max_bytes=self.voice.max_bytes,
                                        hosts={*CDN, origin(discord.http.Route.BASE)})
        except AudioRefusedError as e:
            await self._reply(message, self.voice.refused(caller, e))
            return
        where = {"front": "discord", "channel": str(message.channel.id),
                 "thread": str(message.id)}
        heard = await asyncio.to_thread(self.voice.hear, caller, audio, where)
        if heard.hearing_id is not None:
            await message.reply(_clip(heard.first.text),
                                view=hearing_view(heard.hearing_id, caller.locale))
            return
        for reply in heard.replies:
            await self._reply(message, reply)

    async def _reply(self, message: discord.Message, reply: Reply) -> None:
        sent = await message.reply(_clip(reply.text))
        if reply.task_id is not None:
            await asyncio.to_thread(self.posts.add, "discord", f"thread:{reply.task_id}",
                                    str(message.channel.id), str(sent.id))

    async def answer(self, interaction: discord.Interaction, reply: Reply) -> None:
        """The deferred answer (and a card asked for with `status`); a request's answer is
        the message the conversation about it replies to."""
        files = [discord.File(io.BytesIO(i.png), filename=i.filename, description=i.title)
                 for i in reply.images]
        message = await interaction.followup.send(_clip(reply.text), ephemeral=reply.ephemeral,
                                                  wait=True, files=files or MISSING)
        for card in reply.cards:
            await interaction.followup.send(card_text(card, reply.locale), ephemeral=True)
        if reply.task_id is not None and interaction.channel_id is not None:
            await asyncio.to_thread(self.posts.add, "discord", f"thread:{reply.task_id}",
                                    str(interaction.channel_id), str(message.id))


T = TypeVar("T")


class DiscordNotifier:
    """Tells people in Discord (application.ports.Notifier), from any thread, on the bot's
    own loop."""

    platform = "discord"

    def __init__(self, bot: AltlasDiscord) -> None:
        self._bot = bot

    def say(self, channel: str, thread: str | None, text: str,
            votes: Sequence[Vote] = ()) -> str:
        target = self._bot.get_partial_messageable(int(channel))
        kwargs: dict[str, Any] = {}
        if thread:
            kwargs["reference"] = discord.MessageReference(
                message_id=int(thread), channel_id=int(channel), fail_if_not_exists=False)
        view = votes_view(votes)
        if view is not None:
            kwargs["view"] = view
        return str(self._on_loop(target.send(_clip(text), **kwargs)).id)

    def show_card(self, channel: str, card: CardModel, locale: str) -> str:
        target = self._bot.get_partial_messageable(int(channel))
        view = approval_view(card, locale)
        text = card_text(card, locale)
        sent = target.send(text, view=view) if view else target.send(text)
        return str(self._on_loop(sent).id)

    def ask(self, channel: str, thread: str | None, text: str, task_id: str,
            choices: list[str]) -> str:
        target = self._bot.get_partial_messageable(int(channel))
        view = discord.ui.View(timeout=None)
        for i, choice in enumerate(choices[:25], 1):  # Discord shows up to 25 buttons
            view.add_item(AnswerButton(task_id, i, choice))
        reference = (discord.MessageReference(message_id=int(thread), channel_id=int(channel),
                                              fail_if_not_exists=False) if thread else None)
        kwargs: dict[str, Any] = {"view": view} if choices else {}
        if reference is not None:
            kwargs["reference"] = reference
        return str(self._on_loop(target.send(_clip(text), **kwargs)).id)

    def duel(self, channel: str, thread: str | None, text: str, duel_id: str,
             labels: Sequence[tuple[str, str]]) -> str:
        target = self._bot.get_partial_messageable(int(channel))
        view = discord.ui.View(timeout=None)
        for verdict, label in labels:
            view.add_item(ArenaButton(duel_id, verdict, label))
        kwargs: dict[str, Any] = {"view": view}
        if thread:
            kwargs["reference"] = discord.MessageReference(
                message_id=int(thread), channel_id=int(channel), fail_if_not_exists=False)
        return str(self._on_loop(target.send(_clip(text), **kwargs)).id)

    def update_card(self, channel: str, message: str, card: CardModel, locale: str) -> None:
        partial = self._bot.get_partial_messageable(int(channel)).get_partial_message(
            int(message))
        try:
            self._on_loop(partial.edit(content=card_text(card, locale),
                                       view=approval_view(card, locale)))
        except discord.NotFound:
            log.error("the approval message %s in %s no longer exists", message, channel)

    def attach(self, channel: str, thread: str, filename: str, title: str, png: bytes) -> None:
        target = self._bot.get_partial_messageable(int(channel))
        reference = discord.MessageReference(message_id=int(thread), channel_id=int(channel),
                                             fail_if_not_exists=False)
        self._on_loop(target.send(file=discord.File(io.BytesIO(png), filename=filename,
                                                    description=title), reference=reference))

    def rewrite(self, channel: str, message: str, text: str,
                votes: Sequence[Vote] = ()) -> None:
        partial = self._bot.get_partial_messageable(int(channel)).get_partial_message(
            int(message))
        try:
            self._on_loop(partial.edit(content=_clip(text), view=votes_view(votes)))
        except discord.NotFound:
            log.error("the message %s in %s no longer exists", message, channel)

    def _on_loop(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the bot's loop; until the bot has started or once it is closed,
        the message waits for a later try (or the next process)."""
        try:
            loop = self._bot.loop
            running = loop.is_running() and not self._bot.is_closed()
        except AttributeError:  # discord.py's placeholder before the bot logs in
            running = False
        if not running:
            work.close()  # never scheduled: not left to warn at exit
            raise FrontUnavailableError("the Discord bot is not connected")
        try:
            future = asyncio.run_coroutine_threadsafe(work, loop)
        except RuntimeError:  # the loop closed meanwhile
            work.close()
            raise FrontUnavailableError("the Discord bot is closed") from None
        try:
            return future.result(timeout=10)
        except TimeoutError:
            future.cancel()
            raise FrontUnavailableError("Discord did not answer in 10 s") from None
        except (discord.DiscordServerError, aiohttp.ClientConnectionError) as e:
            raise FrontUnavailableError(f"Discord cannot take it now: {e}") from None
