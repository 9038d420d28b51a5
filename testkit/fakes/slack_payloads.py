"""Requests exactly as Slack sends them to an HTTP-mode app: bodies and signing headers."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from testkit.fakes.slack import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VERIFICATION_TOKEN = "legacyVerifToken123"  # deprecated, still in every body Slack sends
CHANNEL_ID = "C0OPS0001"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_TRIGGERS = itertools.count(1)


def trigger_id() -> str:
    """Slack gives every command and interaction a trigger id of its own, so no two of its
    requests have the same body (nor the same signature)."""
    return f"{int(time.time())}.{next(_TRIGGERS):010d}.aaaabbbbccccdddd"


def headers(body: str, ctype: str, *, timestamp: int | None = None, signed: bool = True,
            secret: str = SIGNING_SECRET) -> dict[str, str]:
    """X-Slack-Signature = 'v0=' + hex(HMAC_SHA256(secret, 'v0:{ts}:{raw body}'))."""
    out = {"Content-Type": ctype, "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
    if signed:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256)
        out.update({"X-Slack-Request-Timestamp": ts,
                    "X-Slack-Signature": f"v0={digest.hexdigest()}"})
    return out


def slash_command(user: str, text: str, response_url: str) -> str:
    return urlencode({
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
        "channel_id": CHANNEL_ID, "channel_name": "ops", "user_id": user, "user_name": user.lower(),
        "command": "/altlas", "text": text, "api_app_id": APP_ID,
        "is_enterprise_install": "false", "response_url": response_url,
        "trigger_id": trigger_id(),
    })


def block_actions(user: str, action_id: str, approval_id: str, message: dict[str, Any],
                  response_url: str) -> str:
    """A click on a button of ``message`` (as chat.postMessage returned it, with its
    ``thread_ts`` when it was posted in a thread)."""
    blocks = message.get("blocks", [])
    actions = next((b for b in blocks if b.get("type") == "actions"), {"elements": [],
                                                                          "block_id": "x"})
    button = next((e for e in actions["elements"] if e["action_id"] == action_id),
                  {"text": {"type": "plain_text", "text": action_id}, "style": "primary"})
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": CHANNEL_ID,
                      "is_ephemeral": False},
        "trigger_id": trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN}, "enterprise": None,
        "is_enterprise_install": False, "channel": {"id": CHANNEL_ID, "name": "ops"},
        "message": {"user": BOT_USER_ID, "type": "message", "ts": message["ts"],
                    "bot_id": BOT_ID, "app_id": APP_ID, "text": message.get("text", ""),
                    "team": TEAM_ID, "blocks": blocks,
                    # a message in a thread says so, as Slack sends it
                    **({"thread_ts": message["thread_ts"]} if "thread_ts" in message
                       else {})},
        "state": {"values": {}}, "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": actions["block_id"],
                     "text": button["text"], "value": approval_id,
                     "style": button.get("style", "primary"), "type": "button",
                     "action_ts": f"{time.time():.6f}"}],
    }
    return urlencode({"payload": json.dumps(payload)})


def view_submission(user: str, reason: str, view: dict[str, Any]) -> str:
    """The deny modal (as views.open received it) submitted with ``reason``."""
    payload = {
        "type": "view_submission", "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID, "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id(),
        "view": {
            "id": "V0MODAL0001", "team_id": TEAM_ID, "type": "modal",
            "blocks": view.get("blocks", []), "private_metadata": view["private_metadata"],
            "callback_id": view["callback_id"],
            "state": {"values": {"reason": {"value": {"type": "plain_text_input",
                                                      "value": reason}}}},
            "hash": "1700000000.abcdEFGH", "title": view.get("title"),
            "clear_on_close": False, "notify_on_close": False, "close": None,
            "submit": view.get("submit"), "previous_view_id": None, "root_view_id": "V0MODAL0001",
            "app_id": APP_ID, "external_id": "", "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        },
        "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def app_mention(user: str, text: str, ts: str = "1700000100.000200",
                event_id: str = "Ev0MENTION01") -> str:
    return json.dumps({
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "api_app_id": APP_ID,
        "event": {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}",
                  "ts": ts, "team": TEAM_ID, "channel": CHANNEL_ID, "event_ts": ts},
        "type": "event_callback", "event_id": event_id, "event_time": int(float(ts)),
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
    })


def file_share(user: str, file: dict[str, str], *, size: int, mimetype: str = "audio/webm",
               name: str = "audio_message.webm", duration_ms: int = 2500,
               ts: str = "1700000200.000300", event_id: str = "Ev0FILESHARE1",
               channel: str = CHANNEL_ID, channel_type: str = "channel") -> str:
    """A clip recorded in Slack (or an audio file) shared in a channel: the message event
    with subtype file_share. ``file`` is what FakeSlack.share kept (its id and URLs)."""
    created = int(float(ts))
    shared = {
        "id": file["id"], "created": created, "timestamp": created, "name": name,
        "title": name, "mimetype": mimetype, "filetype": name.rsplit(".", 1)[-1],
        "pretty_type": name.rsplit(".", 1)[-1].upper(), "user": user, "user_team": TEAM_ID,
        "editable": False, "size": size, "mode": "hosted", "is_external": False,
        "external_type": "", "is_public": channel_type == "channel",
        "public_url_shared": False, "display_as_bot": False, "username": "",
        "subtype": "slack_audio", "transcription": {"status": "none"},
        "url_private": file["url_private"],
        "url_private_download": file["url_private_download"],
        "duration_ms": duration_ms, "media_display_type": "audio",
        "audio_wave_samples": [0, 12, 40, 73, 55, 21, 4],
        "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{user}/{file['id']}/{name}",
        "permalink_public": f"https://slack-files.com/{TEAM_ID}-{file['id']}-0a1b2c3d4e",
        "has_rich_preview": False, "file_access": "visible",
    }
    return json.dumps({
        "token": VERIFICATION_TOKEN, "team_id": TEAM_ID, "context_team_id": TEAM_ID,
        "context_enterprise_id": None, "api_app_id": APP_ID,
        "event": {"type": "message", "text": "", "files": [shared], "upload": False,
                  "user": user, "display_as_bot": False, "ts": ts, "blocks": [],
                  "client_msg_id": "6f0d3c1e-2b4a-4c5d-9e8f-0a1b2c3d4e5f",
                  "channel": channel, "subtype": "file_share", "event_ts": ts,
                  "channel_type": channel_type},
        "type": "event_callback", "event_id": event_id, "event_time": created,
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False, "event_context": f"4-{event_id}",
    })
