"""Secrets in plans and in what altlas records (ARCHITECTURE.md §8: never in events in clear).

A plan names a secret, ``{secret:NAME}``; its value is put in only when a step runs, and only
where it is data: an argument of a program (never its name, never shell or SQL code, where a
value could change what runs), an http step's URL path or query, a header or the body. A
plan holding a credential itself (an Authorization header, ``password=…``, a token of a known
kind, a private key, a password in a URL) is refused with the JSON path of the value.

What a step printed, answered or failed with is redacted before it is recorded: the values of
the secrets altlas knows, in the forms they travel in; credential headers; ``password=``,
``token=``, ``secret=`` pairs; tokens of well-known kinds; PEM private keys; passwords in
URLs. Pure functions: nothing here reads a secret from anywhere.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shlex
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, quote, quote_plus, unquote, unquote_plus, urlsplit

from domain.errors import InvalidInputError
from domain.transformed import TransformedFinder, merged

if TYPE_CHECKING:  # the classifier is imported where a plan is checked: redacting a log
    from domain.commands import Mode  # line (every command does) needs none of it

REFERENCE = re.compile(r"\{secret:([^{}\s]*)\}")
SECRET_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
# A shorter value cannot be told apart from the rest of an output, so it could not be
# redacted from it.
MIN_SECRET_CHARS = 4
REDACTED = "[redacted]"
USE_A_REFERENCE = "a literal credential; use {secret:NAME}"

# A key naming a credential; not one naming where it is kept or what kind it is (
# ALTLAS_SECRETS_FILE, token_type).
_KEY = (r"[\w.-]*(?:password|passwd|passphrase|secret|token|api[_-]?key|apikey|access[_-]?key"
        r"|private[_-]?key|credentials?|authorization|cookie|session(?:[_-]?id)?)[\w.-]*"
        r"(?<!file)(?<!path)(?<!dir)(?<!type)(?<!name)")
_SENSITIVE_KEY = re.compile(rf"^{_KEY}$", re.IGNORECASE)
# not a credential: a reference, what is redacted already, or a scheme's name alone
_SKIP = (rf"(?!(?:(?:bearer|basic|token)[ \t]+)?(?:{re.escape(REDACTED)}|\{{secret:)"
         r"|(?:bearer|basic)[ \t]*(?:[\"'\r\n,;&]|$))")
_KEY_CLUES = ("pass", "secret", "token", "key", "credential", "authorization", "cookie",
              "session")  # what every key _KEY matches holds


@dataclass(frozen=True)
class _Rule:
    """Patterns that take out their group ``v``; they run only where one of the clues (in
    lower case) is, on those lines alone unless the credential spans lines: most output
    holds none of them."""

    patterns: tuple[re.Pattern[str], ...]
    clues: tuple[str, ...]
    by_line: bool = False


_RULES = (
    # PEM private keys, to their end (or the end of a capped output)
    _Rule((re.compile(r"(?P<v>-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                      r"(?:-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"
                      r"|PuTTY-User-Key-File-\d)"),), ("private key", "putty-user-key-file")),
    _Rule((
        # "key": "value", 'key': 'value', (b'key', b'value'): JSON, Python, YAML flow
        re.compile(rf"""(?i)(["']){_KEY}\1[ \t]*[:=,][ \t]*b?(["']){_SKIP}"""
                   r"""(?P<v>(?:(?!\2)[^\\\r\n]|\\.)+)"""),
        # Name: value to the end of the line (headers, YAML, logs)
        re.compile(rf"(?i)(?<![\w.{{-]){_KEY}[ \t]*:[ \t]*{_SKIP}"
                   r"(?P<v>[^\s\"'][^\r\n\"']*)"),
        # name=value (environments, URLs' queries, command lines, form bodies)
        re.compile(rf"(?i)(?<![\w.{{-]){_KEY}[ \t]*=[ \t]*[\"']?{_SKIP}"
                   r"(?P<v>[^\s\"'&;,]+)"),
    ), _KEY_CLUES, by_line=True),
    # Bearer and Basic credentials wherever they appear
    _Rule((re.compile(r"(?i)\b(?:bearer|basic)[ \t]+(?=[\w~+/=.-]*[\d~+/=.-])"
                      r"(?P<v>[\w~+/=.-]{6,})"),), ("bearer", "basic"), by_line=True),
    # passwords in URLs
    _Rule((re.compile(rf"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/?#@]*:{_SKIP}"
                      r"(?P<v>[^\s/?#@]+)(?=@)"),), ("://",), by_line=True),
    # tokens of well-known kinds
    _Rule((re.compile(r"\b(?P<v>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b"),),
          ("akia", "asia", "abia", "acca", "a3t"), by_line=True),  # AWS access keys
    _Rule((re.compile(r"\b(?P<v>xox[abposr]-[A-Za-z0-9-]{10,}|xapp-[A-Za-z0-9-]{10,}"
                      r"|hooks\.slack\.com/services/[A-Za-z0-9_/]{20,})"),),
          ("xox", "xapp-", "hooks.slack.com"), by_line=True),  # Slack
    _Rule((re.compile(r"\b(?P<v>gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,}"
                      r"|glpat-[A-Za-z0-9_-]{20,})"),),
          ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-"),
          by_line=True),  # GitHub, GitLab
    _Rule((re.compile(r"\b(?P<v>AIza[0-9A-Za-z_-]{35}|[sr]k_(?:live|test)_[0-9A-Za-z]{16,}"
                      r"|sk-(?:proj-)?[A-Za-z0-9_-]{32,})"),),
          ("aiza", "k_live_", "k_test_", "sk-"), by_line=True),  # Google, Stripe, OpenAI
    _Rule((re.compile(r"\b(?P<v>eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*)"),),
          ("eyj",), by_line=True),  # JSON Web Tokens
)


def references(text: str) -> list[str]:
    """The names of the secrets ``text`` refers to, in order."""
    return REFERENCE.findall(text)


def substitute(text: str, values: Mapping[str, str],
               encode: Callable[[str], str] | None = None) -> str:
    """``text`` with each reference replaced by its value (``encode``d, for a URL), in one
    pass: a value is never read for references in turn."""
    def value(m: re.Match[str]) -> str:
        found = values.get(m.group(1))
        if found is None:
            raise UnknownSecretError(m.group(1))
        return encode(found) if encode is not None else found

    return REFERENCE.sub(value, text)


def step_references(kind: str, action: str, params: Mapping[str, Any]) -> list[str]:
    """The secrets a step needs when it runs (the places its executor resolves)."""
    return list(dict.fromkeys(name for _, text in _sent(kind, action, params, "$")
                              for name in references(text)))


def _sent(kind: str, action: str, params: Mapping[str, Any], path: str
          ) -> Iterator[tuple[str, str]]:
    """Each field whose references the step's executor resolves, with its path: where a
    secret leaves altlas."""
    if kind not in SENDING_KINDS:
        return
    yield f"{path}.action", action
    if kind == "http":
        headers = params.get("headers") or {}
        for name, value in headers.items() if isinstance(headers, Mapping) else ():
            yield _path(f"{path}.params.headers", str(name)), str(value)
        if "body" in params:
            yield f"{path}.params.body", str(params["body"])


# -- scopes ----------------------------------------------------------------------------

SENDING_KINDS = ("local", "ssh", "http")  # the kinds of step that resolve {secret:NAME}


@dataclass(frozen=True)
class SecretScope:
    """Where a secret may be sent (the policy's ``secrets.NAME``): whoever receives a secret
    holds it, so a plan may send it only to these hosts, by these kinds of step, and for an
    http step only under one of ``urls`` when the scope names any."""

    hosts: frozenset[str]
    kinds: frozenset[str] = frozenset(SENDING_KINDS)
    urls: tuple[str, ...] = ()

    def refusal(self, kind: str, host: str, url: str) -> str | None:
        """Why sending the secret this way is outside the scope, or None."""
        if kind not in self.kinds:
            return f"{kind} steps (it may go by {', '.join(sorted(self.kinds))} steps)"
        if host not in self.hosts:
            return f"{host or 'no host'} (it may go to {', '.join(sorted(self.hosts))})"
        if kind == "http" and self.urls and not any(under(url, p) for p in self.urls):
            return f"this URL (it may go under {', '.join(self.urls)})"
        return None


def scope_problems(document: Mapping[str, Any], scopes: Mapping[str, SecretScope],
                   local_host: str) -> list[str]:
    """Every secret an .alt body sends where its scope does not allow, as ``$.json.path:
    what is wrong``; an undeclared secret may go nowhere."""
    problems: list[str] = []
    for i, step in enumerate(document.get("steps") or []):
        if isinstance(step, Mapping):
            problems += step_scope_problems(step, f"$.steps[{i}]", scopes, local_host)
    return problems


def step_scope_problems(step: Mapping[str, Any], path: str,
                        scopes: Mapping[str, SecretScope], local_host: str) -> list[str]:
    kind, action, params = step.get("kind"), step.get("action"), step.get("params")
    if not isinstance(kind, str) or not isinstance(action, str):
        return []
    params = params if isinstance(params, Mapping) else {}
    host = local_host if kind == "local" else str(step.get("target") or "")
    problems = []
    for where, text in _sent(kind, action, params, path):
        for name in dict.fromkeys(references(text)):
            scope = scopes.get(name)
            if scope is None:
                problems.append(f"{where}: secret {name} has no scope, so it may be sent "
                                f"nowhere; add secrets.{name} to the policy with the hosts "
                                "(and URLs) it is meant for")
                continue
            why = scope.refusal(kind, host, action)
            if why is not None:
                problems.append(f"{where}: secret {name} may not be sent to {why}; send it "
                                f"only where secrets.{name} allows, or widen that scope")
    return problems


def under(url: str, prefix: str) -> bool:
    """Whether ``url`` lies under ``prefix``: the same scheme, host and port, and a path
    below the prefix's by whole segments, with no dot segment (also %-encoded, after a
    backslash or before a ``;``) that a server could read as climbing out of it."""
    try:
        u, p = urlsplit(url), urlsplit(prefix)
        same = (u.scheme.lower(), (u.hostname or "").rstrip("."), _port(u)) == (
            p.scheme.lower(), (p.hostname or "").rstrip("."), _port(p))
    except ValueError:
        return False
    if not same or u.username is not None or u.password is not None:
        return False
    path = unquote(u.path).replace("\\", "/")
    if any(segment.split(";")[0] in (".", "..") for segment in path.split("/")):
        return False
    base = unquote(p.path).rstrip("/")
    return path == base or path.startswith(base + "/")


def _port(parts: SplitResult) -> int | None:
    return parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())


# -- plans -----------------------------------------------------------------------------

def plan_problems(document: Mapping[str, Any]) -> list[str]:
    """Every literal credential and misplaced reference in an .alt body, each as
    ``$.json.path: what is wrong``; the value itself is never quoted."""
    problems: list[str] = []
    for i, step in enumerate(document.get("steps") or []):
        if isinstance(step, Mapping):
            problems += _step_problems(step, f"$.steps[{i}]")
    return problems


def credential_paths(value: Any, path: str) -> list[str]:
    """The path of each string of a JSON value that holds a credential (never the value)."""
    return [where for where, text in _strings(value, path) if _literal(text)]


def _step_problems(step: Mapping[str, Any], path: str) -> list[str]:
    params = step.get("params") or {}
    headers = params.get("headers") if isinstance(params, Mapping) else None
    credential_headers = {
        _path(f"{path}.params.headers", str(name))
        for name, value in (headers.items() if isinstance(headers, Mapping) else ())
        if _SENSITIVE_KEY.match(str(name)) and isinstance(value, str) and _literal_header(value)}
    problems = [f"{where}: {USE_A_REFERENCE}" for where, value in _strings(step, path)
                if where in credential_headers or _literal(value)]
    for where, value in _strings(step, path):
        for name in references(value):
            if not SECRET_NAME.match(name):
                problems.append(f"{where}: {{secret:{name}}} is not a secret's name: use "
                                "capital letters, digits and _ (e.g. {secret:DB_PASSWORD})")
    problem = _misplaced(step)
    if problem is not None:
        problems.append(f"{path}.{problem}")
    return problems


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value, with its path."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(item, _path(path, str(key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def _path(path: str, key: str) -> str:
    """``key`` appended as jsonschema's errors name it (so both kinds of problem read alike)."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9_]*$", key):
        return f"{path}.{key}"
    return "{}['{}']".format(path, key.replace("\\", "\\\\").replace("'", "\\'"))


def _literal(text: str) -> bool:
    """A credential written out in ``text``, as written, %-decoded, or inside a JSON body."""
    variants = [text]
    if "%" in text or "+" in text:
        variants.append(unquote_plus(text))
    if text.lstrip()[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            variants += _json_texts(json.loads(text))
    return any(_REDACTOR.count(v) for v in variants)


def _json_texts(value: Any) -> list[str]:
    """A JSON body's strings, and each string member as ``"key": "value"`` (escapes read)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        found = []
        for key, item in value.items():
            if isinstance(item, str):
                found.append(json.dumps({str(key): item}))
            found += _json_texts(item)
        return found
    if isinstance(value, list):
        return [text for item in value for text in _json_texts(item)]
    return []


def _literal_header(value: str) -> bool:
    """A credential header's value holds more than references, a scheme and cookie names."""
    rest = REFERENCE.sub("", value)
    rest = re.sub(r"(?i)^\s*(bearer|basic|token|digest|apikey)\b", "", rest)
    rest = re.sub(r"[\w.-]+=", "", rest)
    return bool(re.sub(r"[\s;,:]", "", rest))


_PROBE = "x"
# A value no shell, SQL or option parser reads as one plain word: if putting it in place of
# a reference changes what the policy sees running, the reference is not plain data there.
_HOSTILE = "x' \"; $(y) `z` #\n"
_MODES: dict[str, Mode] = {"local": "argv", "ssh": "remote"}


def _misplaced(step: Mapping[str, Any]) -> str | None:
    """Where a reference may not stand: ``field: why``, or None."""
    kind, action, params = step.get("kind"), step.get("action"), step.get("params")
    if not isinstance(params, Mapping):
        params = {}
    if not isinstance(action, str):
        return None
    if kind in ("promql", "llm"):
        if any(REFERENCE.search(v) for _, v in _strings([action, params], "")):
            return (f"action: {kind} steps cannot use secrets; only local, ssh and http "
                    "steps resolve {secret:NAME}")
        return None
    if kind == "http":
        extract = params.get("extract")
        if isinstance(extract, Mapping) and any(REFERENCE.search(str(v))
                                                for v in extract.values()):
            return "params.extract: a secret cannot be a JSONPath; it is never resolved there"
        try:
            authority = urlsplit(action).netloc
        except ValueError:
            return None
        if REFERENCE.search(authority):
            return ("action: a secret cannot be part of the URL's host, port or user; put it "
                    "in the path, the query, params.headers or params.body")
        return None
    mode = _MODES.get(str(kind))
    if mode is None or not REFERENCE.search(action):
        return None
    from domain.commands import is_shell

    if is_shell(action):
        return ("action: a secret cannot be used in shell code (a pipe, redirection, "
                "variable or pattern), where its value could change what runs; make the step "
                "one program with the secret as one of its arguments")
    try:
        if _shape(action, mode, _PROBE) != _shape(action, mode, _HOSTILE):
            return ("action: a secret can only be an argument of a program, never its name or "
                    "part of shell or SQL code, where its value could change what runs")
    except ValueError:
        return None  # the policy refuses what does not split
    return None


def _shape(action: str, mode: Mode, value: str) -> tuple[Any, ...]:
    """What the policy would see running with ``value`` for every secret (the executors
    resolve each word of the argument vector, as here)."""
    from domain.commands import analyse

    argv = [REFERENCE.sub(lambda _: value, word) for word in shlex.split(action)]
    commands = analyse(shlex.join(argv), mode)
    return (tuple((p.argv[0], len(p.argv), p.via, tuple(f.effect for f in p.findings))
                  for p in commands.programs),
            tuple(f.effect for f in commands.findings), commands.complete)


# -- redaction -------------------------------------------------------------------------

@dataclass(frozen=True)
class Redacted:
    text: str
    count: int


class Redactor:
    """Takes credentials out of text before it is recorded or logged: the ``values`` of the
    secrets altlas knows (as written, JSON-escaped, %-encoded and base64), then what looks
    like a credential whoever wrote it."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        values = [value for value in values if len(value) >= MIN_SECRET_CHARS]
        forms = {form for value in values for form in _forms(value)}
        ordered = sorted(forms, key=len, reverse=True)  # the longest form of a value first
        self._forms = ordered
        self._values = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        self._transformed = TransformedFinder(values)

    def text(self, text: str) -> Redacted:
        if not text:
            return Redacted(text, 0)
        before = text.count(REDACTED)
        done = 0
        # a substring search per form is many times faster than the alternation
        if self._values is not None and any(form in text for form in self._forms):
            text, n = self._values.subn(REDACTED, text)
            done += n
        if self._transformed:
            spans = merged(self._transformed.spans(text))
            for start, end in reversed(spans):
                text = text[:start] + REDACTED + text[end:]
            done += len(spans)
        lower = text.lower()
        for rule in _RULES:
            if any(clue in lower for clue in rule.clues):
                text, n = _apply(rule, text, lower)
                if n:
                    done, lower = done + n, text.lower()
        # what a reader sees: redactions inside redactions count once
        return Redacted(text, max(text.count(REDACTED) - before, 1) if done else 0)

    def count(self, text: str) -> int:
        return self.text(text).count

    def data(self, value: Any) -> tuple[Any, int]:
        """A JSON value redacted: its strings, whatever a sensitive key holds, and strings
        that hold a known value between them (cut over two fields)."""
        value, done = self._data(value)
        if not self._transformed or not isinstance(value, dict | list):
            return value, done
        leaves = list(_leaves(value))
        split = self._transformed.split_values([holder[key] for holder, key in leaves])
        for i in split:
            holder, key = leaves[i]
            holder[key] = REDACTED
        return value, done + bool(split)

    def _data(self, value: Any) -> tuple[Any, int]:
        if isinstance(value, str):
            found = self.text(value)
            return found.text, found.count
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            total = 0
            for key, item in value.items():
                if isinstance(item, str) and item and _SENSITIVE_KEY.match(str(key)):
                    out[str(key)], n = REDACTED, 1
                else:
                    out[str(key)], n = self._data(item)
                total += n
            return out, total
        if isinstance(value, list):
            items = [self._data(item) for item in value]
            return [v for v, _ in items], sum(n for _, n in items)
        return value, 0


def _leaves(value: Any) -> Iterator[tuple[Any, Any]]:
    """(container, key) of each string in a redacted JSON value, in order."""
    pairs = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in pairs:
        if isinstance(item, str):
            yield value, key
        elif isinstance(item, dict | list):
            yield from _leaves(item)


def _apply(rule: _Rule, text: str, lower: str) -> tuple[str, int]:
    if not rule.by_line or len(lower) != len(text):  # (a few letters lengthen in lower case)
        return _subn(rule.patterns, text)
    pieces, done, at = [], 0, 0
    for start, end in _lines_with(lower, rule.clues):
        line, n = _subn(rule.patterns, text[start:end])
        pieces += [text[at:start], line]
        done, at = done + n, end
    pieces.append(text[at:])
    return "".join(pieces), done


def _subn(patterns: Iterable[re.Pattern[str]], text: str) -> tuple[str, int]:
    done = 0
    for pattern in patterns:
        text, n = pattern.subn(_take_out, text)
        done += n
    return text, done


def _lines_with(lower: str, clues: Iterable[str]) -> list[tuple[int, int]]:
    """The (start, end) of each line holding a clue, in order, each once."""
    lines = set()
    for clue in clues:
        at = lower.find(clue)
        while at != -1:
            end = lower.find("\n", at)
            end = len(lower) if end == -1 else end
            lines.add((lower.rfind("\n", 0, at) + 1, end))
            at = lower.find(clue, end)
    return sorted(lines)


def _take_out(m: re.Match[str]) -> str:
    start, end = m.span("v")
    whole = m.group(0)
    return whole[:start - m.start()] + REDACTED + whole[end - m.start():]


def _forms(value: str) -> set[str]:
    """How a value may appear in what a step prints or answers, or a library logs."""
    forms = {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
             quote(value, safe=""), quote_plus(value), shlex.quote(value),
             value.replace("'", "'\"'\"'"),  # inside the single quotes of an ssh command
             base64.b64encode(value.encode()).decode().rstrip("=")}
    return {f for f in forms if len(f) >= MIN_SECRET_CHARS}


_REDACTOR = Redactor()


def redact(text: str) -> str:
    """``text`` with what looks like a credential taken out (no known values)."""
    return _REDACTOR.text(text).text


class UnknownSecretError(InvalidInputError):
    def __init__(self, name: str) -> None:
        super().__init__(f"secret {name} is not defined")
        self.name = name
