"""A fake of Slack's servers (Web API + response_url endpoints) on 127.0.0.1.

Only the HTTP boundary is faked: bolt/slack_sdk run unmodified and talk real HTTP to this server.
Every call is recorded as a `Call` (method, http verb, path, content type, parsed body, auth header).
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

TEAM_ID = "T0001ACME"
TEAM_DOMAIN = "acme"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
APP_ID = "A0APP0001"
BOT_TOKEN = "xoxb-1111-2222-fake"


@dataclass
class Call:
    method: str  # Web API method ("chat.postMessage") or "response_url"
    http_verb: str
    path: str
    content_type: str
    body: dict[str, Any]  # parsed form / JSON / query args
    auth: str | None  # Authorization header
    at: float = field(default_factory=time.monotonic)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._cond = threading.Condition()
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self.responders: dict[str, Callable[[Call], dict[str, Any]]] = {}
        self.profile_locales: dict[str, str] = {}  # user id -> the locale Slack reports
        self.rate_limited: dict[str, int] = {}  # method -> how many more calls get HTTP 429
        self.retry_after = 1  # the seconds a 429 asks a client to wait
        self.uploads: dict[str, bytes] = {}  # file id -> the bytes sent to its upload URL
        self._file_ids = itertools.count(1)
        self.files: dict[str, tuple[bytes, str]] = {}  # file id -> bytes, mimetype shared
        self.file_status: dict[str, int] = {}  # file id -> the HTTP status its download gets
        self.file_delay = 0.0  # seconds a file's download waits before answering
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a: Any) -> None:
                return

            def _handle(self) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
                body: dict[str, Any] = {}
                if url.query:
                    body.update({k: v[0] for k, v in parse_qs(url.query).items()})
                if url.path.startswith("/upload/v1/"):  # files.slack.com: the file's bytes
                    fake.uploads[url.path.rsplit("/", 1)[-1]] = raw
                    with fake._cond:
                        fake.calls.append(Call("upload", self.command, url.path, ctype,
                                               {"length": len(raw)}, None))
                        fake._cond.notify_all()
                    text = f"OK - {len(raw)}".encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                if url.path.startswith("/files-pri/"):  # files.slack.com: a shared file
                    fake._serve_file(self, url.path)
                    return
                if raw:
                    if ctype == "application/json":
                        body.update(json.loads(raw))
                    else:  # application/x-www-form-urlencoded
                        body.update({k: v[0] for k, v in parse_qs(raw.decode()).items()})
                if url.path.startswith("/api/"):
                    method = url.path[len("/api/"):]
                elif url.path.startswith("/response_url/"):
                    method = "response_url"
                else:
                    method = "?" + url.path
                call = Call(method, self.command, url.path, ctype, body, self.headers.get("Authorization"))
                status, headers, payload = fake._respond(call)
                with fake._cond:
                    fake.calls.append(call)
                    fake._cond.notify_all()
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = _handle
            do_POST = _handle

        # default listen backlog of socketserver is 5: a burst of 50 connects then hits SYN
        # retransmits (+1 s, +3 s) - raise it so the fake is not the bottleneck
        ThreadingHTTPServer.request_queue_size = 256
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-slack", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def response_url(self, name: str = "T0001ACME/1234567890/abcdefXYZ") -> str:
        # Real ones look like https://hooks.slack.com/commands/T.../123/abc or /actions/T.../123/abc
        return f"http://127.0.0.1:{self.server.server_address[1]}/response_url/{name}"

    def share(self, data: bytes, mimetype: str, name: str) -> dict[str, str]:
        """Keep a file as Slack does when someone shares it: its id and private URLs."""
        file_id = f"F0{next(self._file_ids):09d}"
        self.files[file_id] = (data, mimetype)
        base = f"http://127.0.0.1:{self.server.server_address[1]}/files-pri/{TEAM_ID}-{file_id}"
        return {"id": file_id, "url_private": f"{base}/{name}",
                "url_private_download": f"{base}/download/{name}"}

    def _serve_file(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        """files.slack.com: the bytes with the bot token; without it, Slack's sign-in page."""
        file_id = path.split("/")[2].split("-", 1)[-1]
        call = Call("file", handler.command, path, "", {"file": file_id},
                    handler.headers.get("Authorization"))
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        time.sleep(self.file_delay)
        data, mimetype = self.files.get(file_id, (b"", "text/plain"))
        status = self.file_status.get(file_id, 200 if file_id in self.files else 404)
        if call.auth != f"Bearer {BOT_TOKEN}":
            status, data, mimetype = 200, b"<!DOCTYPE html><title>Slack</title>", "text/html"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", mimetype)
            handler.send_header("Content-Length", str(len(data) if status == 200 else 0))
            handler.end_headers()
            if status == 200:
                handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client stopped waiting: a timeout, or a clip refused by its size

    # ---------------------------------------------------------------- querying
    def reset(self) -> None:
        with self._cond:
            self.calls.clear()

    def methods(self) -> list[str]:
        with self._cond:
            return [c.method for c in self.calls]

    def find(self, method: str) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0,
                 where: Callable[[Call], bool] = lambda c: True) -> list[Call]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hits = [c for c in self.calls if c.method == method and where(c)]
                if len(hits) >= count:
                    return hits
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {count}x {method}; got {self.methods()}")
                self._cond.wait(left)

    # ---------------------------------------------------------------- responses
    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def _respond(self, c: Call) -> tuple[int, dict[str, str], dict[str, Any]]:
        if c.method == "response_url":
            # hooks.slack.com answers 200 {"ok": true}; no auth header needed/expected
            return 200, {}, {"ok": True}
        if self.rate_limited.get(c.method, 0) > 0:  # Slack's documented rate-limit answer
            self.rate_limited[c.method] -= 1
            return 429, {"Retry-After": str(self.retry_after)}, {"ok": False,
                                                                 "error": "ratelimited"}
        if c.method in self.responders:  # per-test override (e.g. simulate errors)
            return 200, {}, self.responders[c.method](c)
        if not (c.auth or "").startswith("Bearer ") and "token" not in c.body:
            return 200, {}, {"ok": False, "error": "not_authed"}
        b = c.body
        m = c.method
        if m == "auth.test":
            return 200, {"x-oauth-scopes": "commands,chat:write,app_mentions:read,users:read"}, {
                "ok": True, "url": f"https://{TEAM_DOMAIN}.slack.com/", "team": "Acme Inc",
                "user": "altlas", "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if m == "chat.postMessage":
            if not b.get("channel"):
                return 200, {}, {"ok": False, "error": "channel_not_found"}
            if not (b.get("text") or b.get("blocks") or b.get("attachments")):
                return 200, {}, {"ok": False, "error": "no_text"}
            ts = self._next_ts()
            msg = {"type": "message", "subtype": "bot_message", "text": b.get("text", ""), "ts": ts,
                   "user": BOT_USER_ID, "bot_id": BOT_ID, "app_id": APP_ID, "team": TEAM_ID,
                   "bot_profile": {"id": BOT_ID, "app_id": APP_ID, "name": "altlas", "team_id": TEAM_ID}}
            if b.get("blocks"):
                msg["blocks"] = b["blocks"] if isinstance(b["blocks"], list) else json.loads(b["blocks"])
            if b.get("thread_ts"):
                msg["thread_ts"] = b["thread_ts"]
                msg["parent_user_id"] = "U0ALICE01"
            return 200, {}, {"ok": True, "channel": b["channel"], "ts": ts, "message": msg}
        if m == "chat.update":
            if not b.get("channel") or not b.get("ts"):
                return 200, {}, {"ok": False, "error": "invalid_arguments"}
            msg = {"type": "message", "text": b.get("text", ""), "user": BOT_USER_ID, "bot_id": BOT_ID,
                   "app_id": APP_ID, "team": TEAM_ID, "edited": {"user": BOT_ID, "ts": self._next_ts()}}
            if b.get("blocks") is not None:
                msg["blocks"] = b["blocks"]
            return 200, {}, {"ok": True, "channel": b["channel"], "ts": b["ts"], "text": b.get("text", ""),
                             "message": msg}
        if m == "chat.postEphemeral":
            if not b.get("channel") or not b.get("user"):
                return 200, {}, {"ok": False, "error": "invalid_arguments"}
            return 200, {}, {"ok": True, "message_ts": self._next_ts()}
        if m == "views.open":
            if not b.get("trigger_id"):
                return 200, {}, {"ok": False, "error": "invalid_arguments"}
            view = b["view"] if isinstance(b["view"], dict) else json.loads(b["view"])
            vid = f"V0MODAL{next(self._view_ids):04d}"
            return 200, {}, {"ok": True, "view": {
                "id": vid, "team_id": TEAM_ID, "type": view.get("type", "modal"),
                "blocks": view.get("blocks", []), "private_metadata": view.get("private_metadata", ""),
                "callback_id": view.get("callback_id", ""), "state": {"values": {}},
                "hash": "1700000000.abcdEFGH", "title": view.get("title"), "clear_on_close": False,
                "notify_on_close": False, "close": view.get("close"), "submit": view.get("submit"),
                "previous_view_id": None, "root_view_id": vid, "app_id": APP_ID, "external_id": "",
                "app_installed_team_id": TEAM_ID, "bot_id": BOT_ID}}
        if m == "files.getUploadURLExternal":
            if not b.get("filename") or not str(b.get("length", "")).isdigit():
                return 200, {}, {"ok": False, "error": "invalid_arguments"}
            file_id = f"F0CHART{next(self._file_ids):04d}"
            return 200, {}, {"ok": True, "file_id": file_id,
                             "upload_url": f"{self.base_url.removesuffix('/api/')}/upload/v1/{file_id}"}
        if m == "files.completeUploadExternal":
            files = json.loads(b.get("files") or "[]")
            if not files or any(f.get("id") not in self.uploads for f in files):
                return 200, {}, {"ok": False, "error": "file_not_found"}
            return 200, {}, {"ok": True, "files": [{
                "id": f["id"], "created": int(time.time()), "timestamp": int(time.time()),
                "name": f["id"].lower() + ".png", "title": f.get("title", ""),
                "mimetype": "image/png", "filetype": "png", "pretty_type": "PNG",
                "user": BOT_USER_ID, "user_team": TEAM_ID, "editable": False,
                "size": len(self.uploads[f["id"]]), "mode": "hosted", "is_external": False,
                "external_type": "", "is_public": True, "public_url_shared": False,
                "display_as_bot": False, "username": "",
                "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{f['id']}/chart.png",
                "permalink": f"https://{TEAM_DOMAIN}.slack.com/files/{BOT_USER_ID}/{f['id']}",
                "shares": {}, "channels": [], "groups": [], "ims": [],
                "has_rich_preview": False, "file_access": "visible"} for f in files]}
        if m == "users.info":
            uid = b.get("user")
            if not uid:
                return 200, {}, {"ok": False, "error": "user_not_found"}
            user = {
                "id": uid, "team_id": TEAM_ID, "name": "alice", "deleted": False, "real_name": "Alice Ops",
                "tz": "Europe/Paris", "tz_offset": 3600, "is_admin": False, "is_bot": False,
                "is_app_user": False, "updated": 1700000000,
                "profile": {"real_name": "Alice Ops", "display_name": "alice", "email": "alice@acme.test",
                            "team": TEAM_ID}}
            if str(b.get("include_locale", "")).lower() in ("1", "true"):
                user["locale"] = self.profile_locales.get(uid, "en-US")
            return 200, {}, {"ok": True, "user": user}
        return 200, {}, {"ok": False, "error": "unknown_method"}
