"""The policy as its file stands now, for what must follow edits without a restart (API
tokens, and through ``PolicyFollower`` a process's whole policy): one stat per call, a reload
when the file changed.

A change is seen by the file's inode, size, modification and change times. A write within
the clock tick of the last one can leave all of them as they were, so while the file is
younger than ``RACY_SECONDS`` its content is compared as well. A file that became unusable
(unreadable, not YAML, not a policy) fails closed until it is fixed: ``current()`` raises
``PolicyUnavailableError`` naming the problem, which is logged once per change. Every
credential the policy gives is checked against ``current()`` (application/access.py
``Access.credentials``), so all of them are refused alike meanwhile.
"""


from __future__ import annotations

import contextlib
import difflib
import hashlib
import logging
import os
import pwd
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from adapters.policy_file import PolicyFileError, parse_policy
from application.errors import PolicyUnavailableError
from domain.policy import Policy

log = logging.getLogger("altlas.policy")

RACY_SECONDS = 2.0

_Stamp = tuple[int, int, int, int, int] | str


class PolicyWatch:
    """The current policy; ``path`` None is the built-in default, which never changes."""

    def __init__(self, policy: Policy, path: Path | None) -> None:
        self._policy = policy
        self._path = path
        # what the process does while the file cannot be used, as each user of it says
        self.consequences: list[str] = []
        self._text = ""  # the file's text the current policy was read from
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._stamp: _Stamp | None = None  # the first call reads the file as it is then
        self._digest: str | None = None

    def current(self) -> Policy:
        return self.read()[0]

    def read(self) -> tuple[Policy, str]:
        """The current policy and the text it was read from ("" for the built-in one)."""
        path = self._path
        if path is None:
            return self._policy, ""
        with self._lock:
            stamp = _stamp(path)
            if stamp != self._stamp or _racy(stamp):
                self._reload(path, stamp)
            if self._problem is not None:
                raise PolicyUnavailableError(self._problem)
            return self._policy, self._text

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
        self._policy, self._problem, self._text = policy, None, data.decode("utf-8")
        log.info("policy read from %s: %d API token(s)", path, len(policy.api_tokens))

    def _fail(self, problem: str) -> None:
        if problem != self._problem:
            so = " and ".join(self.consequences or ["nothing changes"])
            log.error("the policy file cannot be used, so %s until it is fixed: %s", so, problem)
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


@dataclass(frozen=True)
class PolicyEdit:
    """An edit of the policy file a process adopted: the new policy, both files' sha256, a
    unified diff, and the OS user owning the file on this host."""

    policy: Policy
    old_sha256: str
    new_sha256: str
    diff: str
    owner: str


class PolicyFollower:
    """A long-running process's policy, following its file: each valid edit is handed over
    once; an edit that cannot be used is logged once and the policy in use kept."""

    def __init__(self, watch: PolicyWatch, path: Path) -> None:
        self._path = path
        self._watch = watch
        watch.consequences.append("this process keeps the policy it had")
        self._text = ""  # unreadable now (logged): the first valid version is the edit
        with contextlib.suppress(PolicyUnavailableError):
            self._text = watch.read()[1]

    def edit(self) -> PolicyEdit | None:
        """The policy as the file stands now, if it differs from the one in use."""
        try:
            policy, text = self._watch.read()
        except PolicyUnavailableError:
            return None
        if text == self._text:
            return None
        old, self._text = self._text, text
        diff = "".join(difflib.unified_diff(old.splitlines(keepends=True),
                                            text.splitlines(keepends=True),
                                            "before", "after"))
        edit = PolicyEdit(policy, _sha256(old), _sha256(text), diff, _owner(self._path))
        log.info("policy: %s changed (sha256 %s… → %s…); in use from now on", self._path,
                    edit.old_sha256[:12], edit.new_sha256[:12])
        return edit


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest() if text else ""


def _owner(path: Path) -> str:
    """Who owns the file, as user@host: the closest this process can tell to who edited it."""
    try:
        uid = os.stat(path).st_uid
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        name = f"uid {uid}"
    except OSError:
        name = "unknown"
    return f"{name}@{socket.gethostname()}"
