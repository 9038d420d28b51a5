"""Credentials never reach a log line or a traceback: every record is redacted where it is
made (so whatever handler prints it, uvicorn's and the libraries' own included), and so are
uncaught exceptions, in the main thread and in others."""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from domain.secrets import Redactor, redact


class RedactingFilter(logging.Filter):
    """Takes the secrets it knows, and whatever looks like a credential, out of a record's
    message, its exception and its stack."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        super().__init__()
        self.redactor = Redactor(values)

    def text(self, text: str) -> str:
        return self.redactor.text(text).text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format is logging's to report; redacted, as the rest
            message = f"{record.msg!r} % {record.args!r}"
        cleaned = self.text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.text("".join(traceback.format_exception(
                *record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = self.text(record.stack_info)
        return True


_installed: RedactingFilter | None = None


def install(values: Iterable[str] = ()) -> RedactingFilter:
    """Redact every log record made from now on, and every uncaught exception, in this
    process; called again, it learns the values it is given instead."""
    global _installed
    if _installed is not None:
        _installed.redactor = Redactor(values)
        return _installed
    redacting = _installed = RedactingFilter(values)
    make = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        redacting.filter(record)
        return record

    def excepthook(kind: type[BaseException], error: BaseException,
                   tb: TracebackType | None) -> None:
        sys.stderr.write(redacting.text("".join(traceback.format_exception(kind, error, tb))))

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        sys.stderr.write(f"Exception in thread {name}:\n" + redacting.text("".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))))

    logging.setLogRecordFactory(factory)
    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
    return redacting


def redacted(text: str) -> str:
    """``text`` as a log line would show it."""
    return _installed.text(text) if _installed is not None else redact(text)
