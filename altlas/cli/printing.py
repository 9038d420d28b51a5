"""How the commands print what they found: JSON with --json, else lines of text. Standard
library and the message catalog only, for the reads that start in a fraction of a second."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from application.i18n import t
from application.reads import Filters, Page


def json_out(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def answer(args: argparse.Namespace, data: Any, text: str) -> None:
    """A command's result: ``data`` as JSON with --json, else ``text``."""
    if args.json:
        json_out(data)
    else:
        print(text)


def filters_of(args: argparse.Namespace) -> Filters:
    return Filters(args.status, args.requester, args.since, args.limit, args.cursor)


def print_page(page: Page, args: argparse.Namespace, line: Callable[[dict[str, Any]], str]
                ) -> None:
    if args.json:
        json_out(asdict(page))
        return
    for row in page.items:
        print(line(row))
    if not page.items:
        print(t(args.locale, "list.none"))
    elif page.next:
        print(t(args.locale, "list.more", cursor=page.next))
