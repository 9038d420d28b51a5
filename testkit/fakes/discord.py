"""A fake of Discord's servers (REST API v10, and optionally the gateway) for tests.

Only Discord is faked. discord.py runs unmodified; its REST client is pointed here by
patching the class attribute ``discord.http.Route.BASE`` (used by both the bot HTTPClient
and the webhook/interaction adapter).

Every request is recorded as a ``Call(method, path, query, json, t)``.
Responses are shaped like the real Discord API v10 responses.
"""
from __future__ import annotations

import asyncio
import copy
import datetime as dt
import itertools
import json
import mimetypes
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

DISCORD_EPOCH_MS = 1420070400000
API_PREFIX = "/api/v10"


@dataclass
class Call:
    method: str
    path: str            # decoded path without the /api/v10 prefix, e.g. /channels/1/messages
    query: dict[str, str]
    json: Any            # parsed JSON body (payload_json for multipart), or None
    t: float = field(default_factory=time.monotonic)

    def __repr__(self) -> str:  # compact, for assertion messages
        q = ("?" + "&".join(f"{k}={v}" for k, v in self.query.items())) if self.query else ""
        return f"{self.method} {self.path}{q} {json.dumps(self.json) if self.json is not None else ''}"


def json_response(obj: Any, status: int = 200) -> web.Response:
    """Like Discord: Content-Type is exactly ``application/json`` (no charset).
    discord.py's json_or_text() compares the header verbatim; aiohttp's json_response()
    adds '; charset=utf-8' and discord.py would then hand back the body as a *str*."""
    return web.Response(body=json.dumps(obj).encode(), status=status,
                        headers={"Content-Type": "application/json"})


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class FakeDiscord:
    """In-process fake of discord.com/api/v10 (+ optional gateway)."""

    def __init__(self) -> None:
        self._seq = itertools.count(1)
        self.app_id = self.snowflake()
        self.guild_id = self.snowflake()
        self.ops_channel_id = self.snowflake()        # where operators run /altlas
        self.approvals_channel_id = self.snowflake()  # where approval messages go
        self.bot_user = self.user_obj(self.app_id, "altlas-bot", bot=True)
        self.calls: list[Call] = []
        self.messages: dict[str, dict] = {}          # message_id -> message object (Discord's storage)
        self.commands: dict[str | None, list[dict]] = {}  # guild_id|None -> registered commands
        self.interactions: dict[str, dict] = {}      # token -> bookkeeping
        self.user_locales: dict[str, str] = {}       # user id -> the client language Discord reports
        self.files: dict[str, bytes] = {}            # filename -> the bytes of an uploaded file
        self.attachments: dict[str, tuple[bytes, str]] = {}  # attachment id -> bytes, type
        self.attachment_status: dict[str, int] = {}  # attachment id -> its download's status
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self.gateway_sockets: list[web.WebSocketResponse] = []
        self._gw_seq = itertools.count(1)

    # ------------------------------------------------------------------ helpers
    def snowflake(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (next(self._seq) & 0xFFF))

    @staticmethod
    def user_obj(uid: str, name: str, bot: bool = False) -> dict:
        u = {
            "id": uid, "username": name, "avatar": None, "discriminator": "0",
            "public_flags": 0, "flags": 0, "global_name": None if bot else name.title(),
            "banner": None, "accent_color": None, "avatar_decoration_data": None,
            "collectibles": None, "primary_guild": None,
        }
        if bot:
            u["bot"] = True
        return u

    def member_obj(self, user: dict, permissions: str = "2251799813685247") -> dict:
        return {
            "user": user, "roles": [], "premium_since": None, "permissions": permissions,
            "pending": False, "nick": None, "mute": False, "deaf": False,
            "joined_at": "2024-01-01T00:00:00.000000+00:00", "flags": 0,
            "communication_disabled_until": None, "avatar": None, "banner": None,
        }

    def channel_obj(self, cid: str, name: str) -> dict:
        return {
            "id": cid, "type": 0, "guild_id": self.guild_id, "name": name, "position": 0,
            "permission_overwrites": [], "parent_id": None, "nsfw": False, "topic": None,
            "last_message_id": None, "rate_limit_per_user": 0, "flags": 0,
            "permissions": "2251799813685247",
        }

    @staticmethod
    def _assign_component_ids(components: list[dict]) -> list[dict]:
        """Discord echoes components back with a numeric per-message ``id`` on every component."""
        counter = itertools.count(1)
        out = copy.deepcopy(components)

        def walk(items):
            for c in items:
                c.setdefault("id", next(counter))
                if "components" in c:
                    walk(c["components"])
        walk(out)
        return out

    def message_obj(self, channel_id: str, body: dict, *, author: dict | None = None,
                    mtype: int = 0, webhook_id: str | None = None, extra_flags: int = 0,
                    mid: str | None = None, interaction_metadata: dict | None = None) -> dict:
        msg = {
            "type": mtype,
            "content": body.get("content") or "",
            "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": body.get("embeds") or [],
            "timestamp": _now_iso(), "edited_timestamp": None,
            "flags": (body.get("flags") or 0) | extra_flags,
            "components": self._assign_component_ids(body.get("components") or []),
            "id": mid or self.snowflake(),
            "channel_id": channel_id,
            "author": author or self.bot_user,
            "pinned": False, "mention_everyone": False, "tts": bool(body.get("tts", False)),
        }
        if webhook_id:
            msg["webhook_id"] = webhook_id
            msg["application_id"] = self.app_id
        if interaction_metadata:
            msg["interaction_metadata"] = interaction_metadata
        self.messages[msg["id"]] = msg
        return msg

    def _attachment(self, sent: dict, form: Any) -> dict:
        """An uploaded file (``files[n]`` beside payload_json) as Discord describes it."""
        upload = form[f"files[{sent['id']}]"]
        data = upload.file.read()
        self.files[sent["filename"]] = data
        aid = self.snowflake()
        url = f"https://cdn.discordapp.com/attachments/{self.ops_channel_id}/{aid}/{sent['filename']}"
        return {"id": aid, "filename": sent["filename"], "size": len(data), "url": url,
                "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                # Discord works the type out from the file, whatever the part's header says
                "content_type": mimetypes.guess_type(sent["filename"])[0] or upload.content_type,
                "description": sent.get("description")}

    def _edit_message(self, mid: str, body: dict) -> dict:
        msg = self.messages[mid]
        for key in ("content", "embeds", "flags", "attachments"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "components" in body:
            msg["components"] = self._assign_component_ids(body["components"] or [])
        msg["edited_timestamp"] = _now_iso()
        return msg

    @staticmethod
    def _error(status: int, code: int, message: str) -> web.Response:
        return json_response({"message": message, "code": code}, status=status)

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/gateway-ws/", self._gateway_ws)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for ws in list(self.gateway_sockets):
            await ws.close()
        if self._runner:
            await self._runner.cleanup()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway-ws/"

    # ------------------------------------------------------------------ assertions
    def find(self, method: str | None = None, path: str | None = None) -> list[Call]:
        return [c for c in self.calls
                if (method is None or c.method == method) and (path is None or re.fullmatch(path, c.path))]

    async def wait_for(self, method: str, path: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Wait until at least ``count`` calls matching method + path regex were recorded."""
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(lambda: len(self.find(method, path)) >= count), timeout)
            except TimeoutError:
                raise AssertionError(f"timed out waiting for {count}x {method} {path}; calls were:\n"
                                     + "\n".join(map(repr, self.calls))) from None
        return self.find(method, path)

    # ------------------------------------------------------------------ REST
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path  # percent-decoded (so %40original -> @original)
        if path.startswith("/attachments/"):  # the CDN: a file someone sent, by its URL
            return self._serve_attachment(path)
        if not path.startswith(API_PREFIX):
            return self._error(404, 0, "404: Not Found")
        path = path[len(API_PREFIX):]
        body: Any = None
        if request.can_read_body:
            if request.content_type == "multipart/form-data":
                form = await request.post()
                body = json.loads(form["payload_json"]) if "payload_json" in form else None
                if body is not None and body.get("attachments"):
                    body["attachments"] = [self._attachment(a, form) for a in body["attachments"]]
            else:
                raw = await request.read()
                body = json.loads(raw) if raw else None
        call = Call(request.method, path, dict(request.query), body)
        async with self._cond:
            self.calls.append(call)
        try:
            resp = self._route(request, call)
        finally:
            async with self._cond:
                self._cond.notify_all()
        return resp

    def _route(self, request: web.Request, call: Call) -> web.StreamResponse:
        m, p, body, q = call.method, call.path, call.json or {}, call.query
        if request.headers.get("Authorization") is None and not p.startswith(("/webhooks/", "/interactions/")):
            return self._error(401, 0, "401: Unauthorized")

        if (m, p) == ("GET", "/users/@me"):
            return json_response({**self.bot_user, "verified": True, "mfa_enabled": False,
                                      "email": None, "locale": "en-US", "premium_type": 0})
        if (m, p) == ("GET", "/oauth2/applications/@me"):
            return json_response({
                "id": self.app_id, "name": "altlas", "icon": None, "description": "",
                "summary": "", "type": None, "hook": True, "bot_public": False,
                "bot_require_code_grant": False, "verify_key": secrets.token_hex(32),
                "flags": 0, "owner": self.user_obj(self.snowflake(), "owner"),
                "team": None, "bot": self.bot_user, "interactions_endpoint_url": None,
                "redirect_uris": [], "tags": [], "install_params": None,
                "integration_types_config": {"0": {}}, "approximate_guild_count": 1,
            })
        if (m, p) == ("GET", "/gateway/bot"):
            return json_response({"url": self.gateway_url.rstrip("/"), "shards": 1,
                                      "session_start_limit": {"total": 1000, "remaining": 999,
                                                              "reset_after": 0, "max_concurrency": 1}})

        # PUT /applications/{app}/commands  |  PUT /applications/{app}/guilds/{g}/commands  (bulk overwrite)
        mm = re.fullmatch(r"/applications/(\d+)(?:/guilds/(\d+))?/commands", p)
        if mm and m == "PUT":
            guild = mm.group(2)
            old = {c["name"]: c["id"] for c in self.commands.get(guild, [])}
            registered = []
            for cmd in body:
                c = {"id": old.get(cmd["name"]) or self.snowflake(), "application_id": self.app_id,
                     "version": self.snowflake(), "default_member_permissions": None,
                     "type": cmd.get("type", 1), "nsfw": cmd.get("nsfw", False),
                     "name": cmd["name"], "name_localizations": None,
                     "description": cmd.get("description", ""), "description_localizations": None,
                     "dm_permission": True, "contexts": cmd.get("contexts"),
                     "integration_types": cmd.get("integration_types", [0]),
                     "options": cmd.get("options", [])}
                if guild:
                    c["guild_id"] = guild
                registered.append(c)
            self.commands[guild] = registered
            return json_response(registered)
        if mm and m == "GET":
            return json_response(self.commands.get(mm.group(2), []))

        # Channel messages
        mm = re.fullmatch(r"/channels/(\d+)/messages", p)
        if mm and m == "POST":
            return json_response(self.message_obj(mm.group(1), body))
        mm = re.fullmatch(r"/channels/(\d+)/messages/(\d+)", p)
        if mm:
            mid = mm.group(2)
            if mid not in self.messages or self.messages[mid]["channel_id"] != mm.group(1):
                return self._error(404, 10008, "Unknown Message")
            if m == "GET":
                return json_response(self.messages[mid])
            if m == "PATCH":
                return json_response(self._edit_message(mid, body))
            if m == "DELETE":
                del self.messages[mid]
                return web.Response(status=204)

        # Interaction callback: POST /interactions/{id}/{token}/callback[?with_response=1]
        mm = re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p)
        if mm and m == "POST":
            return self._callback(mm.group(1), mm.group(2), body, q)

        # Followups / original response: /webhooks/{app_id}/{token}[/messages/{id|@original}]
        mm = re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", p)
        if mm:
            return self._webhook(m, mm.group(1), mm.group(2), mm.group(3), body, q)

        return self._error(404, 0, "404: Not Found")

    def _callback(self, iid: str, token: str, body: dict, q: dict) -> web.StreamResponse:
        it = self.interactions.get(token)
        if it is None or it["id"] != iid:
            return self._error(404, 10062, "Unknown interaction")
        if time.monotonic() - it["created"] > 3.0:  # real Discord: 3 s to acknowledge
            return self._error(404, 10062, "Unknown interaction")
        if it["acked"]:
            return self._error(400, 40060, "Interaction has already been acknowledged.")
        it["acked"] = True
        rtype, data = body["type"], body.get("data") or {}
        meta = {"id": iid, "type": it["type"], "user": it["user"],
                "authorizing_integration_owners": {"0": self.guild_id}}
        resource = None
        loading = False
        if rtype in (4, 5):  # CHANNEL_MESSAGE_WITH_SOURCE / DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE
            loading = rtype == 5
            msg = self.message_obj(it["channel_id"], data, mtype=20, webhook_id=self.app_id,
                                   extra_flags=128 if loading else 0, interaction_metadata=meta)
            it["original"] = msg["id"]
            it["loading"] = loading
            resource = {"type": rtype, "message": msg}
        elif rtype == 6:  # DEFERRED_UPDATE_MESSAGE (components): original == the source message
            it["original"] = it["source_message"]
        elif rtype == 7:  # UPDATE_MESSAGE
            it["original"] = it["source_message"]
            resource = {"type": 7, "message": self._edit_message(it["source_message"], data)}
        if q.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)
        out = {"interaction": {"id": iid, "type": it["type"],
                               "response_message_id": it.get("original"),
                               "response_message_loading": loading,
                               "response_message_ephemeral": bool((data.get("flags") or 0) & 64)}}
        if resource:
            out["resource"] = resource
        return json_response(out)

    def _webhook(self, m: str, app_id: str, token: str, mid: str | None, body: dict, q: dict):
        it = self.interactions.get(token)
        if app_id != self.app_id or it is None:
            return self._error(404, 10015, "Unknown Webhook")
        if mid is None and m == "POST":  # followup
            if not it["acked"]:
                return self._error(404, 10015, "Unknown Webhook")
            if it.get("loading"):  # first followup after a type-5 defer fills the "thinking" message
                it["loading"] = False
                msg = self._edit_message(it["original"], body)
                msg["flags"] = (msg["flags"] & ~128) | (body.get("flags") or 0)
            else:
                msg = self.message_obj(it["channel_id"], body, mtype=20, webhook_id=self.app_id)
            return json_response(msg) if q.get("wait") in ("1", "true", "True") else web.Response(status=204)
        if mid == "@original":
            mid = it.get("original")
        if mid is None or mid not in self.messages:
            return self._error(404, 10008, "Unknown Message")
        if m == "GET":
            return json_response(self.messages[mid])
        if m == "PATCH":
            it["loading"] = False
            return json_response(self._edit_message(mid, body))
        if m == "DELETE":
            del self.messages[mid]
            return web.Response(status=204)
        return self._error(405, 0, "405: Method Not Allowed")

    def _serve_attachment(self, path: str) -> web.Response:
        aid = path.split("/")[3]
        self.calls.append(Call("GET", path, {}, None))
        data, ctype = self.attachments.get(aid, (b"", "text/plain"))
        status = self.attachment_status.get(aid, 200 if aid in self.attachments else 404)
        return web.Response(body=data if status == 200 else b"", status=status,
                            headers={"Content-Type": ctype})

    def voice_message(self, user: dict, data: bytes, *, channel_id: str | None = None,
                      voice: bool = True, content_type: str = "audio/ogg",
                      filename: str = "voice-message.ogg", duration: float = 2.5,
                      size: int | None = None) -> dict:
        """MESSAGE_CREATE as the gateway sends it for a voice message (flags
        IS_VOICE_MESSAGE, one ogg/opus attachment with duration_secs and waveform), or with
        ``voice`` False for an audio file sent as an attachment."""
        channel_id = channel_id or self.ops_channel_id
        aid = self.snowflake()
        self.attachments[aid] = (data, content_type)
        url = f"http://127.0.0.1:{self.port}/attachments/{channel_id}/{aid}/{filename}"
        signed = f"?ex=6750a1b2&is=674f5032&hm={secrets.token_hex(32)}&"
        attachment = {"id": aid, "filename": filename, "size": len(data) if size is None
                      else size, "url": url + signed, "proxy_url": url + signed,
                      "content_type": content_type, "content_scan_version": 0}
        if voice:
            attachment.update({"duration_secs": duration,
                               "waveform": "AAAAFD9gf39aNxcNBwMBAAAAAAAAAAA="})
        message = self.message_obj(channel_id, {"flags": 8192 if voice else 0},
                                   author=user)
        message.update({"attachments": [attachment], "guild_id": self.guild_id,
                        "member": {k: v for k, v in self.member_obj(user).items()
                                   if k != "user"},
                        "nonce": self.snowflake()})
        return message

    # ------------------------------------------------------------------ gateway INTERACTION_CREATE payloads
    def _base_interaction(self, itype: int, user: dict, channel_id: str, data: dict) -> dict:
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(96)
        iid = self.snowflake()
        chan_name = "approvals" if channel_id == self.approvals_channel_id else "ops"
        payload = {
            "id": iid, "application_id": self.app_id, "type": itype, "data": data,
            "guild_id": self.guild_id,
            "guild": {"id": self.guild_id, "locale": "en-US", "features": []},
            "channel_id": channel_id, "channel": self.channel_obj(channel_id, chan_name),
            "member": self.member_obj(user), "token": token, "version": 1,
            "app_permissions": "2251799813685247", "guild_locale": "en-US",
            "locale": self.user_locales.get(user["id"], "en-US"),  # the user's client language
            "entitlements": [],
            "authorizing_integration_owners": {"0": self.guild_id}, "context": 0,
            "attachment_size_limit": 10485760,
        }
        self.interactions[token] = {"id": iid, "type": itype, "created": time.monotonic(), "acked": False,
                                    "channel_id": channel_id, "user": user, "source_message": None}
        return payload

    def slash_command(self, user: dict, name: str, sub: str, **opts: Any) -> dict:
        """APPLICATION_COMMAND (type 2) for ``/name sub opt:value ...``; the command must be synced."""
        registered = self.commands.get(self.guild_id, []) + self.commands.get(None, [])
        cmd = next(c for c in registered if c["name"] == name)
        optdefs = {o["name"]: o for o in cmd["options"]}[sub].get("options", [])
        types = {o["name"]: o["type"] for o in optdefs}
        data = {"id": cmd["id"], "name": name, "type": 1,
                "options": [{"name": sub, "type": 1,
                             "options": [{"name": k, "type": types[k], "value": v} for k, v in opts.items()]}]}
        if "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]
        return self._base_interaction(2, user, self.ops_channel_id, data)

    def button_click(self, user: dict, message_id: str, custom_id: str) -> dict:
        """MESSAGE_COMPONENT (type 3) for a button on a message Discord has stored."""
        msg = self.messages[message_id]
        comp = next(c for row in msg["components"] for c in row.get("components", [])
                    if c.get("custom_id") == custom_id)
        data = {"custom_id": custom_id, "component_type": 2, "id": comp["id"]}
        payload = self._base_interaction(3, user, msg["channel_id"], data)
        payload["message"] = copy.deepcopy(msg)
        self.interactions[payload["token"]]["source_message"] = message_id
        return payload

    def modal_submit(self, user: dict, channel_id: str, custom_id: str,
                     values: dict[str, str]) -> dict:
        """MODAL_SUBMIT (type 5): a modal's text inputs, as Discord sends them."""
        data = {"custom_id": custom_id, "components": [
            {"type": 1, "id": i + 1, "components": [
                {"type": 4, "id": i + 100, "custom_id": key, "value": value}]}
            for i, (key, value) in enumerate(values.items())]}
        return self._base_interaction(5, user, channel_id, data)

    # ------------------------------------------------------------------ optional gateway (websocket)
    async def _gateway_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.gateway_sockets.append(ws)
        self.gateway_query = dict(request.query)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            self.calls.append(Call("WS", f"/gateway op={frame['op']}", {}, frame))
            if frame["op"] == 1:  # heartbeat
                await ws.send_json({"op": 11, "d": None, "s": None, "t": None})
            elif frame["op"] == 2:  # IDENTIFY -> READY
                await self.gateway_dispatch("READY", {
                    "v": 10, "user": {**self.bot_user, "verified": True, "mfa_enabled": False},
                    "guilds": [], "session_id": secrets.token_hex(16),
                    "resume_gateway_url": self.gateway_url.rstrip("/"), "shard": [0, 1],
                    "application": {"id": self.app_id, "flags": 0},
                    "private_channels": [], "relationships": [], "presences": [],
                    "guild_join_requests": [], "geo_ordered_rtc_regions": [], "user_settings": {},
                    "session_type": "normal", "auth": {},
                })
        return ws

    async def gateway_dispatch(self, event: str, data: dict) -> None:
        for ws in self.gateway_sockets:
            if not ws.closed:
                await ws.send_json({"op": 0, "t": event, "s": next(self._gw_seq), "d": data})
