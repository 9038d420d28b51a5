"""The policy as its file stands now, for what must follow edits without a restart (API
tokens): one stat per call, a reload when the file changed.

A change is seen by the file's inode, size, modification and change times. A write within
the clock tick of the last one can leave all of them as they were, so while the file is
younger than ``RACY_SECONDS`` its content is compared as well. A file that became unusable
(unreadable, not YAML, not a policy) fails closed until it is fixed: ``current()`` raises
``PolicyUnavailableError`` naming the problem, which is logged once per change.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from pathlib import Path

from adapters.policy_file import PolicyFileError, parse_policy
from domain.policy import Policy

log = logging.getLogger("altlas.policy")

RACY_SECONDS = 2.0

_Stamp = tuple[int, int, int, int, int] | str


class PolicyUnavailableError(Exception):
    """The policy file changed and cannot be used now; the message says why."""


class PolicyWatch:
    """The current policy; ``path`` None is the built-in default, which never changes."""

    def __init__(self, policy: Policy, path: Path | None) -> None:
        self._policy = policy
        self._path = path
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._stamp: _Stamp | None = None  # the first call reads the file as it is then
        self._digest: str | None = None

    def current(self) -> Policy:
        path = self._path
        if path is None:
            return self._policy
        with self._lock:
            stamp = _stamp(path)
            if stamp != self._stamp or _racy(stamp):
                self._reload(path, stamp)
            if self._problem is not None:
                raise PolicyUnavailableError(self._problem)
            return self._policy

    def _reload(self, path: Path, stamp: _Stamp) -> None:
        self._stamp = stamp
        try:
            data = path.read_bytes()
        except OSError as e:
            self._fail(f"{path}: cannot read the policy file: {e.strerror}")
            return
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._digest:
            return  # touched, or rewritten as it was
        self._digest = digest
        try:
            policy = parse_policy(data.decode("utf-8"), str(path))
        except UnicodeDecodeError:
            self._fail(f"{path}: the policy file is not UTF-8 text")
            return
        except PolicyFileError as e:
            self._fail(str(e))
            return
        self._policy, self._problem = policy, None
        log.info("policy read from %s: %d API token(s)", path, len(policy.api_tokens))

    def _fail(self, problem: str) -> None:
        if problem != self._problem:
            log.error("the policy file cannot be used, so API requests are refused until it "
                      "is fixed: %s", problem)
        self._problem = problem
        self._digest = None  # whatever is written next is read


def _stamp(path: Path) -> _Stamp:
    try:
        st = os.stat(path)
    except OSError as e:
        return f"missing: {e.strerror}"
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _racy(stamp: _Stamp) -> bool:
    """Written so recently that another write in the same clock tick would look the same."""
    return not isinstance(stamp, str) and time.time() - stamp[3] / 1e9 < RACY_SECONDS
