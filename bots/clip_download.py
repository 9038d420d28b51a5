"""Fetching a voice clip from a chat platform's file store, bounded: a clip over the limit
is refused by its declared size before a byte is read, a refusal or a timeout is said in
chat, and the bot's token goes only to the platform's own file hosts."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

import aiohttp

from application.errors import AudioRefusedError

TIMEOUT_S = 30.0


def origin(url: str) -> str:
    """scheme://host[:port] of ``url``, lower case: what a file URL must start with."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def download_clip(url: str, *, max_bytes: int, hosts: Collection[str],
                        headers: Mapping[str, str] | None = None,
                        timeout: float = TIMEOUT_S) -> bytes:
    """The clip at ``url``, at most ``max_bytes``; AudioRefusedError (``download_failed``,
    ``too_large``) otherwise. ``hosts``: the origins the token may be sent to."""
    if origin(url) not in hosts:
        raise AudioRefusedError(f"the file is not on {', '.join(sorted(hosts))}",
                                "download_failed")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as s, \
                s.get(url, headers=dict(headers or {}), allow_redirects=False) as answer:
            if answer.status != 200:
                raise AudioRefusedError(f"the file store answered HTTP {answer.status}",
                                        "download_failed")
            if answer.content_type == "text/html":  # a sign-in page: no files:read scope
                raise AudioRefusedError("the file store answered with a web page, not the "
                                        "file: the app may lack the scope to read files",
                                        "download_failed")
            if answer.content_length is not None and answer.content_length > max_bytes:
                raise AudioRefusedError(f"the clip has {answer.content_length} bytes",
                                        "too_large")
            data = bytearray()
            async for chunk in answer.content.iter_chunked(65_536):
                data += chunk
                if len(data) > max_bytes:
                    raise AudioRefusedError(f"the clip is over {max_bytes} bytes", "too_large")
            return bytes(data)
    except TimeoutError:
        raise AudioRefusedError(f"no answer within {timeout:.0f} s",
                                "download_failed") from None
    except aiohttp.ClientError as e:
        raise AudioRefusedError(f"the file store cannot be reached ({type(e).__name__})",
                                "download_failed") from None
