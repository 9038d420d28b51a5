"""The rule-based segmenter: deterministic, no model, English and Turkish.

It knows the common forms — "check X on HOST", "restart SERVICE on HOST", sequences joined by
"then", conditions ("… if it is above 90%"), PromQL questions, "and summarise" — so altlas
always works offline. What it does not understand it refuses, saying what it can do. One
module: the rules are a table read together (a new rule must be read against the others).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from application.errors import SegmentationError
from application.ports import SegmentationRequest
from domain.commands.meaning import meaning
from domain.grounding import DEFAULT_LINES, DEFAULT_TOP, LOCAL, spelled
from domain.policy import Policy

_SVC = r"(?P<svc>[a-z][a-z0-9_.@-]{1,40})"
_NOT_SERVICES = {"the", "a", "an", "it", "its", "service", "disk", "load", "memory", "host",
                 "server", "all", "and", "then", "on", "in", "of", "if", "for", "not", "down",
                 "up", "running", "there", "this", "that", "everything", "bellek",
                 "diskin", "yuk", "sistem", "sunucu", "sunucuyu", "sunucusu", "makine",
                 "makineyi", "machine", "box", "logs", "log", "logrotate", "yeniden",
                 "tekrar", "et", "edin", "yap", "yapin"}
_PRONOUNS = {"it", "its", "it's", "them", "onu", "bunu"}
# What a condition can be about: these steps only look, and say something comparable.
_CHECKS = frozenset({"disk", "load", "running", "processes", "targets_down", "cpu",
                     "error_rate", "health"})


@dataclass
class _Step:
    kind: str
    action: str
    target: str | None
    description: str
    metric: str | None = None  # what a condition about this step would compare
    params: dict[str, Any] = field(default_factory=dict)
    intent: str = ""
    needs: list[int] = field(default_factory=list)
    when: str | None = None
    position: int = 0
    plain: str = ""  # the action before a condition narrowed it ("df -h" for "df -h /")


@dataclass(frozen=True)
class _Intent:
    name: str
    patterns: tuple[re.Pattern[str], ...]
    build: Callable[[re.Match[str], str], tuple[str, str, str | None, dict[str, Any]]]
    """(command or query, description, metric, params)"""
    kind: str = "command"  # command (ssh or local), promql, http, llm, manual


def _intent(name: str, pattern: str, build: Callable[[re.Match[str], str],
            tuple[str, str, str | None, dict[str, Any]]], kind: str = "command") -> _Intent:
    """One intent; ``pattern``'s top-level alternatives (split on ' || ') each become a regex,
    so every one may name its own ``svc`` group. Requests arrive with Turkish letters folded
    ("başlat" reads "baslat"), so the patterns are written folded."""
    return _Intent(name, tuple(re.compile(p, re.IGNORECASE) for p in pattern.split(" || ")),
                   build, kind)


def _svc(m: re.Match[str]) -> str:
    return m.group("svc").strip(".'’")


def _top(m: re.Match[str], svc: str) -> tuple[str, str, str | None, dict[str, Any]]:
    groups = m.groupdict()
    by = "mem" if (groups.get("res") or "cpu").lower() in ("memory", "mem", "ram", "bellek") \
        else "cpu"
    n = int(groups.get("n") or DEFAULT_TOP)
    return (f"sh -c 'ps -eo pid,user,%cpu,%mem,comm --sort=-%{by} --no-headers | head -n {n}'",
            f"top {n} processes by {'memory' if by == 'mem' else 'cpu'}", None, {})


def _verb(m: re.Match[str]) -> str:
    stem = m.group(1).lower()
    return {"stopp": "stop", "rotat": "rotate"}.get(stem, stem)


def _unless(clause: str) -> str:
    """"X unless load is over 8" is "X if load is <= 8"; "unless it's already running",
    "if it is not running"."""
    m = _UNLESS.match(clause)
    if not m:
        return clause
    cond = m.group("cond")
    if _RUNNING.search(cond) and not _NOT_RUNNING.search(cond):
        cond = "it is not running"
    else:
        cond = _ABOVE.sub("<=", cond, count=1) if _ABOVE.search(cond) else _BELOW.sub(
            ">=", cond, count=1)
    return f"{m.group('action')} if {cond}"


def _service_name(written: str, intent: str) -> str:
    """"nginxi" (Turkish: nginx as the object) is nginx; systemd calls postgres postgresql."""
    name = written
    if name not in _WELL_KNOWN:
        name = next((name[:-len(s)] for s in ("yi", "yu", "i", "u", "ni", "nu")
                     if name.endswith(s) and name[:-len(s)] in _WELL_KNOWN), name)
    if intent in ("restart", "reload", "start", "stop", "running"):
        name = _UNIT_NAMES.get(name, name)
    elif intent == "processes":  # the processes are called postgres
        name = {"postgresql": "postgres"}.get(name, name)
    return name


def _logs(m: re.Match[str], svc: str) -> tuple[str, str, str | None, dict[str, Any]]:
    n = int(m.groupdict().get("lines") or DEFAULT_LINES)
    return f"journalctl -u {svc} -n {n} --no-pager", f"recent {svc} logs", None, {}


def _disk(m: re.Match[str], svc: str) -> tuple[str, str, str | None, dict[str, Any]]:
    mount = (m.groupdict().get("mount") or "").rstrip("?.,'")
    return (f"df -h {mount}" if mount else "df -h", f"disk usage {mount}".strip(),
            "max_percent", {})


_MOUNT = r"(?P<mount>/[\w./-]*)"
# "empty /tmp" is an action, "find the empty files under /tmp" is not
_EMPTY = r"empty(?!\w* (?:files?|dir\w*|folders?|lines?|ones)\b)"
_PASSIVE = r"(?: service)?(?: on [\w-]+)? (?:should|must|needs to|has to|can) be"
_SERVIS = r"(?:servisini |hizmetini )?"

INTENTS: tuple[_Intent, ...] = (
    _intent("apt_clean", r"\bapt(?:-get)? clean\b || "
            r"(?:clean|clear|purge|empty)\w* (?:up )?(?:the )?apt(?:-get)?"
            r"(?: package)?(?: cache)? || "
            r"\bapt(?:-get)? (?:cache|onbellegini?) (?:temizle|clean)\w*",
            lambda m, svc: ("apt-get clean", "clear the apt cache", None, {})),
    _intent("rotate", r"\brotate (?:the |all )?(?:[a-z]+ )?logs?\b || \blogs? rotation || "
            r"\blog\w*(?: on [\w-]+)? (?:need|needs|should|must|has|have) (?:to )?be rotated || "
            r"\blog\w* rotate || "
            r"\blogrotate\b || \blog\w* (?:dosyalarini )?dondur\w*",
            lambda m, svc: ("logrotate -f /etc/logrotate.conf", "rotate the logs", None, {})),
    _intent("clean_tmp", r"\bnuke\w* (?:the )?/tmp\b || "
            rf"(?:clean|clear|purge|{_EMPTY})\w* (?:up |out )?(?:the )?(?:old )?"
            r"(?:(?:stuff|files|junk|things|cruft) )?(?:(?:in|from|under|of) )?/tmp\b || "
            r"/tmp\S* (?:klasorunu |dizinini )?temizle",
            lambda m, svc: ("find /tmp -mindepth 1 -mtime +7 -delete",
                            "delete files in /tmp older than 7 days", None, {})),
    _intent("top", r"\bwhat(?:'s| is) eating (?:the |all the |my )?(?P<res>cpu|memory|ram)\b || "
            r"\btop(?: (?P<n>\d+))? (?P<res>cpu|memory|mem|ram)\b(?: (?:processes|procs|"
            r"tasks|process'?\w*|hogs|consumers))? || "
            r"\btop(?: (?P<n>\d+))?(?: (?:processes|procs|tasks))?(?: (?:by|using|on|for|"
            r"sorted by) (?P<res>cpu|memory|mem|ram))? || (?P<res>cpu|memory|ram)[- ]hungry "
            r"process(?:es)? || "
            r"process(?:es)? (?:using|eating|with) the most (?P<res>cpu|memory|ram) || "
            r"(?P<res>cpu|bellek|ram|memory)\w*'?\w* gore (?:ilk |en yuksek )?(?P<n>\d+)? ?"
            r"(?:surec|islem)\w* || en cok (?P<res>cpu|bellek|ram|memory)\w* kullanan "
            r"(?P<n>\d+)? ?(?:surec|islem)\w*",
            _top),
    _intent("kernel", r"\bkernel(?: version)?\b || \bcekirdek\w*",
            lambda m, svc: ("uname -r", "kernel version", None, {})),
    _intent("ports", r"\b(?:listening|open) ports\b || \bports? (?:that are )?(?:listening|open)\b"
            r" || \bdinle\w* port\w* || \bacik port\w* || \bwhat(?:'s| is) listening\b",
            lambda m, svc: ("ss -tlnp", "listening ports", None, {})),
    _intent("failed", r"\bfailed (?:units|services|systemd units)\b || "
            r"\b(?:anything|any units?|any services?) failed\b || "
            r"\bbasarisiz (?:olmus |olan )?(?:systemd )?(?:servis|unit|birim)\w*",
            lambda m, svc: ("systemctl list-units --failed", "failed units", None, {})),
    _intent("diagnose", r"\bwhy\b.{0,30}?\b(?:slow|sluggish)\b|"
            r"\bneden yavas\w*",
            lambda m, svc: ("uptime", "load", "load1", {})),
    _intent("reboot", r"\breboot\w*|\bpower[- ]?cycle\w*|"
            r"\b(?:sunucu|makine)\w* (?:yeniden|tekrar) baslat|"
            r"\brestart (?:the )?(?:server|host|machine|box)\b|\bpower ?cycle\b",
            lambda m, svc: ("reboot", "reboot the host", None, {}), kind="command"),
    _intent("maintenance", r"maintenance (?:flag|mode)|bakim (?:bayragi|modu)",
            lambda m, svc: ("touch {flag}", "set the maintenance flag", None, {})),
    _intent("restart", rf"\b(?:restart|bounce|kick|recycle) (?:the )?{_SVC} || "
            rf"{_SVC}['’]?[a-ziu]* {_SERVIS}yeniden baslat || {_SVC}{_PASSIVE} "
            rf"(?:restarted|bounced) || {_SVC}['’]?[a-ziu]* restart (?:et|yap)\w* || "
            r"(?<!\S)(?P<svc>)yeniden baslat || (?<!\S)(?P<svc>)restart at\w*",
            lambda m, svc: (f"systemctl restart {svc}", f"restart {svc}", None, {})),
    _intent("reload", rf"\breload (?:the )?{_SVC} || {_SVC}['’]?[a-ziu]* {_SERVIS}yeniden yukle || "
            rf"{_SVC}{_PASSIVE} reloaded || {_SVC}['’]?[a-ziu]* reload (?:et|yap)\w*",
            lambda m, svc: (f"systemctl reload {svc}", f"reload {svc}", None, {})),
    _intent("stop", rf"\bstop (?:the )?{_SVC} || {_SVC}['’]?[a-ziu]* {_SERVIS}durdur || "
            rf"{_SVC}{_PASSIVE} stopped || {_SVC}['’]?[a-ziu]* stop (?:et|yap)\w*",
            lambda m, svc: (f"systemctl stop {svc}", f"stop {svc}", None, {})),
    _intent("start", rf"(?<!re)\bstart (?:the )?{_SVC} || "
            rf"{_SVC}['’]?[a-ziu]* {_SERVIS}baslat(?!il) || "
            rf"{_SVC}{_PASSIVE} started || {_SVC}['’]?[a-ziu]* start (?:et|yap)\w* || "
            rf"\bbring (?:the )?{_SVC} back(?: up)? || "
            r"(?<!\S)(?P<svc>)baslat(?!il)\w*",
            lambda m, svc: (f"systemctl start {svc}", f"start {svc}", None, {})),
    _intent("running", rf"\bis {_SVC} (?:still )?(?:running|active|up|alive)\b || "
            rf"status of (?:the )?{_SVC} || "
            rf"{_SVC} (?:status|durumu) || {_SVC} calisiyor mu || {_SVC} calismiyor || "
            rf"\b(?:whether|that|if) {_SVC}(?:'s| is)? (?:still )?(?:running|active|up|came back)\b"
            rf" || \b{_SVC} came back\b || (?<!\S)(?P<svc>)status(?:'?[a-z]+)?\b || "
            rf"{_SVC}['’]?[a-z]* ayakta mi || "
            r"\b(?P<svc>nginx|postgres|postgresql|redis|api) up\b || "
            r"(?<!\S)(?P<svc>)durumu(?:nu|na) (?:kontrol|bak) || "
            rf"\b{_SVC}(?:'s| is) (?:still )?(?:running|active|alive)\b",
            lambda m, svc: (f"systemctl is-active {svc}", f"is {svc} running",
                       "exit_code", {"ok_exit_codes": [0, 3]})),
    _intent("logs", rf"\blast (?P<lines>\d+) (?:lines|entries) of (?:the )?{_SVC} logs? || "
            rf"\b{_SVC} logs?,? (?:the )?last (?P<lines>\d+)(?: lines)? || "
            rf"\b{_SVC} (?:loglari|kayitlari) (?:son|ilk) (?P<lines>\d+)(?: satir\w*)? || "
            rf"\b{_SVC}(?:'?\w+)? son (?P<lines>\d+) (?:satir\w*|log\w*) || "
            rf"\bson (?P<lines>\d+) satir\w* {_SVC} log\w* || "
            r"(?<!\S)(?P<svc>)son (?P<lines>\d+) satir\w* log\w* || "
            rf"\blogs? (?:of|for) (?:the )?{_SVC} || {_SVC} (?:logs?|loglari|kayitlari)",
            lambda m, svc: _logs(m, svc)),
    _intent("processes", rf"\b{_SVC} process(?:es|leri)?\b || process(?:es)? of {_SVC} || "
            rf"{_SVC} surecleri || {_SVC} islemleri",
            lambda m, svc: (f"pgrep -a {svc}", f"{svc} processes", "lines",
                       {"ok_exit_codes": [0, 1]})),
    _intent("disk", rf"\bhow full is {_MOUNT} || \bdf (?:-h )?{_MOUNT} || "
            r"\broot (?:fs|file ?system|partition)\b || "
            rf"(?<!\S){_MOUNT}(?= (?:on [\w-]+ )?(?:is|at|usage)\b) || "
            rf"\b(?:disk|space|usage) (?:usage )?(?:of|on|for|in) {_MOUNT} || "
            rf"{_MOUNT} (?:disk|usage|space|doluluk)\w* || "
            r"\bdisk(?: space| usage)?\b|\bfree space\b|\bstorage\b|disk kullanim|"
            r"disk alan|\bdisk(?:i|in|ini|te|de|ler|leri)?\b|\bhow full\b|\bdf\b",
            _disk),
    _intent("load", r"\b(?:cpu )?load\b|\buptime\b|\byuk(?:u|unu)?\b",
            lambda m, svc: ("uptime", "load", "load1", {})),
    _intent("memory", r"\bmemory\b|\bram\b|\bmem\b|\bbellek\b|\bbellegi\w*|\bhafiza\w*",
            lambda m, svc: ("free -m", "memory", None, {})),
    _intent("delete", r"\b(?:delete|remove|wipe|sil)\w* (?P<path>/[\w./-]+)",
            lambda m, svc: (f"rm -rf {m.group('path')}", f"delete {m.group('path')}", None, {})),
    _intent("drop", r"\btable (?:called|named) (?P<table>[a-z_][a-z0-9_]*)\b.{0,30}\bdrop it\b || "
            r"\bdrop (?:the )?(?:table )?(?P<table>[a-z_][a-z0-9_]*)(?: table)? || "
            r"(?P<table>[a-z_][a-z0-9_]*) tablosunu (?:sil|kaldir|drop)\w*",
            lambda m, svc: (f"psql -c 'DROP TABLE {m.group('table')}'",
                       f"drop table {m.group('table')}", None, {}), kind="manual"),
    _intent("targets_down", r"targets? (?:are |is )?down|down targets|hedef\w* (?:kapali|down)",
            lambda m, svc: ("count(up == 0) or vector(0)", "targets down", "value", {}),
            kind="promql"),
    _intent("cpu", r"\bcpu (?:usage|utili[sz]ation|kullanimi)\b|\bcpu ?%|\bcpu'?\w* ne durumda",
            lambda m, svc: ('100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",'
                       'instance=~"{host}(:.*)?"}[5m])))', "CPU usage %", "value", {}),
            kind="promql"),
    _intent("error_rate", r"\berror rate\b|hata orani|\b5xx(?: rate| errors?)?\b",
            lambda m, svc: ('sum(rate(http_requests_total{status=~"5.."}[5m])) or vector(0)',
                       "5xx rate", "value", {}), kind="promql"),
    _intent("health", r"\bhealth(?: endpoint| check)?\b|saglik",
            lambda m, svc: ("http://{reach}/health", "health endpoint", "status_code",
                       {"method": "GET"}), kind="http"),
    _intent("summarise", r"\bsummari[sz]e\b|\bexplain\b|\bsummary\b|ozetle|acikla|yorumla|"
            r"\bsum (?:it|this|them|that|everything) up\b",
            lambda m, svc: ("Summarise what these outputs show, and anything that needs attention.",
                       "summary", None, {}), kind="llm"),
)

_REBOOT = next(i for i in INTENTS if i.name == "reboot")
_DIAGNOSIS = tuple(i for name in ("load", "memory", "disk") for i in INTENTS if i.name == name)
_THEN = re.compile(r"\s*(?:,\s*)?(?:\band (?=if\b)|\band then\b|\bthen\b|"
                   r"\b(?:and )?(?:finally|lastly)\b|\ben son\b|\b(?:bunlar )?bitince\b|"
                   r"\b(?:and )?once (?:it'?s|it is) back(?: up)?\b|"
                   r"(?<=baslat)ip\b|(?<=durdur)up\b|"
                   r"\bafter that\b|"
                   r"\bafterwards\b|"
                   r"\bdaha sonra\b|\bsonra\b|\bardindan\b|\bsonrasinda\b)\s*,?\s*",
                   re.IGNORECASE)
# Parts of a clause that run side by side: "a; b", and ", … if …" (a condition of its own).
_PIECES = re.compile(r";\s*|\?\s+|,\s*(?=[^,]*\b(?:if|when)\b)", re.IGNORECASE)
# Parts of one clause that may each name their own hosts.
_PARTS = re.compile(r"\s*(?:,|\band\b|\bve\b|\bplus\b|&)\s*", re.IGNORECASE)
_BOTH_BY = re.compile(r"\b(top (?:\d+ )?(?:processes |procs )?)by (cpu|memory) and (?:by )?"
                      r"(cpu|memory)\b", re.IGNORECASE)
_CHANGES = frozenset({"restart", "reload", "start", "stop"})
_BEFORE = re.compile(r"^\s*before (?:you |we |u )?(?P<later>[^,]+),\s*(?:please )?(?P<first>.+)$",
                     re.IGNORECASE)
_ONCE = re.compile(r"^\s*(?P<later>.+?)\s+once (?:you'?ve|you have|we'?ve|u'?ve) (?P<first>.+)$",
                   re.IGNORECASE)
_AFTER = re.compile(r"^\s*after (?P<first>[^,]+),\s*(?P<later>.+)$", re.IGNORECASE)
_BEFORE_TR = re.compile(r"^\s*(?P<later>.+?)\s+(?:etmeden|yapmadan|\w+m[ae]dan|\w+m[ae]den) "
                        r"once,?\s*(?P<first>.+)$", re.IGNORECASE)
_GERUND = re.compile(r"\b(restart|reload|start|stopp|stop|reboot|clean|rotat)ing\b", re.IGNORECASE)
# "…, calisiyorsa dokunma" / "otherwise leave it": the other branch does nothing
_LEAVE_IT = re.compile(r",?\s*(?:\w+ )?(?:calisiyorsa|otherwise|else)\s+"
                       r"(?:dokunma|leave it(?: alone)?|do nothing)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(?:was|were|got|has been|had been|have been|just)\s+$", re.IGNORECASE)
# What spelled() makes of `a quoted command` (a backtick reads as an apostrophe).
_GIVEN = re.compile(r"(?<![\w'])'([a-z][^'\n]*?)'(?![\w'])", re.IGNORECASE)
_NEGATION = re.compile(r"\b(?:don'?t|do not|dont|never|without|no need to|not to)\s+(?:\w+\s+)?$",
                       re.IGNORECASE)
# Services by the name systemd knows them; a Turkish object suffix is not part of the name.
_UNIT_NAMES = {"postgres": "postgresql", "pg": "postgresql", "psql": "postgresql"}
_WELL_KNOWN = frozenset({"nginx", "postgresql", "postgres", "redis", "api", "apache2", "httpd",
                         "mysql", "mariadb", "docker", "sshd", "cron", "haproxy", "memcached"})
_JOINED = re.compile(r"\s+(and|or)\s+(?:if\s+)?(?:the\s+)?", re.IGNORECASE)
_AFTER_CHANGE = frozenset({"health", "running"})  # checks that look at what a change did
_EACH = re.compile(r"\b(?:both|each|all of them|all three|ikisin\w*|hepsin\w*)\b", re.IGNORECASE)
_MOUNT_IN = re.compile(r"(?<!\S)(/[\w./-]*)")
_AGAIN = re.compile(r"^(?:and )?(?:(?:check|verify|look|test)(?: at)? )?(?:it |them |that )?"
                    r"(?:again|once more)$|"
                    r"^(?:\w+ )?(?:tekrar|yine|yeniden) (?:kontrol et|bak)\w*$|"
                    r"^(?:and )?re-?check(?: it| them)?$", re.IGNORECASE)
_IF_NUMBER = re.compile(r"^(?:if|when)\s+(?P<cond>.*?\d+(?:\.\d+)?\s*%?)\s+(?:then\s+)?"
                        r"(?P<action>[a-z].+)$", re.IGNORECASE)
_IF_AFTER = re.compile(r"^(?P<action>.+?)\s*,?\s+(?:if|when|only if)\s+(?P<cond>.+)$",
                       re.IGNORECASE)
_IF_BEFORE = re.compile(r"^(?:if|when|should)\s+(?P<cond>.+?)\s*,\s*(?:then\s+)?(?P<action>.+)$",
                        re.IGNORECASE)
_IF_TR = re.compile(r"^(?:eger\s+)?(?P<cond>.+?)\s*(?:ise|iysa|iyse|ysa|yse|sa|se)\s*,?\s+"
                    r"(?P<action>.+)$", re.IGNORECASE)
_THRESHOLD = re.compile(
    r"(?P<op>above|over|more than|greater than|higher than|exceeds?|>=|>|below|under|"
    r"less than|lower than|<=|<)\s*%?\s*(?P<n>\d+(?:\.\d+)?)\s*%?|"
    r"(?<![\w-])%?\s*(?P<n2>\d+(?:\.\d+)?)\s*%?['’]?\s*(?:nin|in|un|dan|den|tan|ten|i|u|a|e)?\s*"
    r"(?P<op2>uzerinde|ustunde|fazla|altinda|az|gec\w*|as(?:t|ar|mis|il)\w*)",
    re.IGNORECASE)
_UNLESS = re.compile(r"^(?P<action>.+?)\s*,?\s+unless\s+(?P<cond>.+)$", re.IGNORECASE)
_RUNNING = re.compile(r"\b(?:running|active|up|alive)\b", re.IGNORECASE)
_ABOVE = re.compile(r"\b(?:above|over|more than|greater than|higher than|exceeds?)\b|>",
                    re.IGNORECASE)
_BELOW = re.compile(r"\b(?:below|under|less than|lower than)\b|<", re.IGNORECASE)
_NOT_RUNNING = re.compile(r"not running|isn['’]?t running|is down|['’]s down|not active|inactive|"
                          r"calismiyor|^not$|^it(?:'s| is) not$|^it isn['’]?t$", re.IGNORECASE)
_LOCAL = re.compile(LOCAL.pattern, re.IGNORECASE)
_STEP_REF = re.compile(r"\bs(\d+)\b")


class RuleSegmenter:
    name = "rules"
    deterministic = True  # asking again gives the same answer

    def __init__(self, policy: Policy, maintenance_flag: str) -> None:
        self._policy = policy
        self._flag = maintenance_flag
        names = sorted(policy.hosts, key=len, reverse=True)
        self._hosts = re.compile(
            r"(?<![\w-])(" + "|".join(re.escape(n) for n in names) + r")(?![\w-])",
            re.IGNORECASE) if names else None
        envs = {e: e for e in policy.environments}
        envs.update({"production": "prod", "prod": "prod"} if "prod" in envs else {})
        self._envs = envs
        self._service: ContextVar[str | None] = ContextVar("service", default=None)
        self._together: ContextVar[tuple[str, ...]] = ContextVar("together", default=())

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        self._service.set(None)  # the service "it" refers to, within this request
        self._together.set(())  # the hosts "both" refers to
        text = " ".join(spelled(request.text).split())
        text = _BOTH_BY.sub(r"\1by \2 and \1by \3", text)
        text = _BEFORE.sub(r"\g<first>, then \g<later>", text)
        text = _ONCE.sub(r"\g<first>, then \g<later>", text)
        text = _AFTER.sub(lambda m: f"{_GERUND.sub(_verb, m['first'])}, then {m['later']}", text)
        text = _BEFORE_TR.sub(r"\g<first>, sonra \g<later>", text)
        text = _LEAVE_IT.sub("", text)
        steps: list[_Step] = []
        named = self._hosts_in(text)  # "grab its disk usage, then bounce postgres on db-1"
        host: str | None = named[0] if len(named) == 1 else None
        previous: list[int] = []
        last = ""  # the clause before, for "…, then on web-2"
        for clause in (c for c in _THEN.split(text) if c and c.strip(" ,.")):
            made: list[int] = []
            guarded: list[int] = []  # what conditions in the clause guard: later waits for it
            for piece in (p for p in _PIECES.split(clause) if p.strip(" ,.")):
                after = (guarded or made) if made and _AGAIN.match(piece.strip(" ,.?")) \
                    else previous  # "disk check; if / > 85%, apt clean; re-check"
                found, host = self._clause(piece, host, request, steps, after, last)
                made += found
                guarded += [i for i in found if steps[i].when]
            made = guarded or made
            if made:
                previous = made
                last = clause
        if not steps:
            raise SegmentationError(
                "the rules did not recognise an action in this request; they know disk, load, "
                "memory, restart/reload/start/stop SERVICE, SERVICE status, logs and processes, "
                "PromQL questions (targets down, CPU usage, error rate), health checks, "
                "the maintenance flag and 'then' / 'if … above N%'")
        if request.mode == "explore":
            self._explore(steps)
        elif request.mode == "chaos":
            self._chaos(steps, request.chaos_level or 3)
        return self._document(steps)

    # -- clauses ----------------------------------------------------------------------

    def _clause(self, clause: str, host: str | None, request: SegmentationRequest,
                steps: list[_Step], previous: list[int], last: str = ""
                ) -> tuple[list[int], str | None]:
        """The steps of one clause; what later clauses wait for (after a condition, only
        what it guards)."""
        clause = _unless(clause.strip(" ,.?"))
        if _AGAIN.match(clause):
            return self._again(clause, steps, previous), host
        for pattern in (_IF_BEFORE, _IF_NUMBER, _IF_AFTER, _IF_TR):
            m = pattern.match(clause)
            if m and self._looks_like_condition(m.group("cond")):
                return self._conditional(m.group("cond"), m.group("action"), host, request,
                                         steps, previous)
        found, host = self._steps(clause, host, request)
        named = self._hosts_in(clause)
        if not found and named and last:  # "restart nginx on web-1, then on web-2"
            self._together.set(tuple(dict.fromkeys([*self._hosts_in(last), *named])))
            for each in named:
                found += self._steps_on(last, each, request)[0]
        start = len(steps)
        for s in found:
            s.needs = list(previous) if s.kind != "llm" else list(range(len(steps)))
            change = next((i for i in range(len(steps) - 1, start - 1, -1)
                           if steps[i].intent in _CHANGES and steps[i].target == s.target), None)
            if s.intent in _AFTER_CHANGE and change is not None:
                s.needs = [change]  # "start the api and check its health": after the start
            steps.append(s)
        return list(range(start, len(steps))), host

    def _again(self, clause: str, steps: list[_Step], previous: list[int]) -> list[int]:
        """"… then check again": the last unconditional check, once more."""
        checks = [s for s in steps if s.metric and not s.when and s.kind != "llm"]
        if not checks:
            raise SegmentationError(f"the rules cannot tell what {clause!r} repeats; name it, "
                                    "e.g. 'then check disk again'")
        last = checks[-1]
        steps.append(_Step(last.kind, last.plain or last.action, last.target, last.description,
                           last.metric, dict(last.params), intent=last.intent,
                           needs=list(previous)))
        return [len(steps) - 1]

    def _looks_like_condition(self, cond: str) -> bool:
        return bool(_THRESHOLD.search(cond) or _NOT_RUNNING.search(cond))

    def _conditional(self, cond: str, action: str, host: str | None,
                     request: SegmentationRequest, steps: list[_Step],
                     previous: list[int]) -> tuple[list[int], str | None]:
        action_host = self._host(action) or self._host(cond) or host
        split = _JOINED.split(cond)  # "disk is over 90% and load above 4": two conditions
        conds, joins = split[0::2], [j.lower() for j in split[1::2]]
        if len(conds) < 2 or not all(self._looks_like_condition(c) for c in conds):
            conds, joins = [cond], []
        # the conditions first: "if redis is not running, restart it" — "it" is redis
        checks = [self._steps(part, action_host, request)[0] for part in conds]
        acted, _ = self._steps(action, action_host, request)
        start = len(steps)
        refs: list[int] = []
        whens: list[str] = []
        for part, cond_steps in zip(conds, checks, strict=True):
            if not cond_steps and len(conds) == 1:  # "check disk and restart nginx if it is
                cond_steps = [s for s in acted if s.intent in _CHECKS]  # above 90%"
                acted = [s for s in acted if s.intent not in _CHECKS]
            else:  # "check disk on web-1 and restart nginx if /var is above 85%": one check
                acted = [s for s in acted if not any(
                    (s.intent, s.target) == (c.intent, c.target) for c in cond_steps)]
            for s in cond_steps:
                s.needs = list(previous)
            steps.extend(cond_steps)
            ref = self._reference(part, steps, acted, previous)
            when = self._when(part, steps[ref], ref) if ref is not None else None
            if ref is None or when is None:
                raise SegmentationError(f"the rules cannot tell what {part.strip()!r} compares; "
                                        "say e.g. 'if disk is above 90%'")
            if steps[ref].action == "df -h":  # the mount named, else the root file system
                mount = _MOUNT_IN.search(part)  # (not the fullest snap mount)
                steps[ref].plain = "df -h"
                steps[ref].action = f"df -h {mount.group(1) if mount else '/'}"
            refs.append(ref)
            whens.append(when)
        guard = (refs if all(r >= start or r in previous for r in refs)
                 else sorted({*refs, *previous}))
        when = whens[0] + "".join(f" {j} {w}" for j, w in zip(joins, whens[1:], strict=True))
        for s in acted:
            s.needs = guard
            s.when = when
        guarded = len(steps)
        steps.extend(acted)
        return list(range(guarded, len(steps))), action_host

    def _reference(self, cond: str, steps: list[_Step], acted: list[_Step],
                   previous: list[int]) -> int | None:
        """The step a condition talks about: one made from the condition itself, else the
        latest earlier step with something to compare (or a check added for a service)."""
        if _NOT_RUNNING.search(cond) and acted and acted[0].action.startswith("systemctl "):
            service = acted[0].action.split()[-1]
            for i in range(len(steps) - 1, -1, -1):
                if steps[i].action == f"systemctl is-active {service}":
                    return i
            steps.append(_Step(acted[0].kind, f"systemctl is-active {service}",
                               acted[0].target, f"is {service} running", "exit_code",
                               {"ok_exit_codes": [0, 3]}, needs=list(previous),
                               intent="running"))
            return len(steps) - 1
        for i in range(len(steps) - 1, -1, -1):
            if steps[i].metric:
                return i
        return None

    def _when(self, cond: str, step: _Step, index: int) -> str | None:
        sid = f"s{index + 1}"
        if _NOT_RUNNING.search(cond) and step.metric == "exit_code":
            return f"{sid}.exit_code != 0"
        m = _THRESHOLD.search(cond)
        if not m or step.metric in (None, "exit_code"):
            return None
        n = float(m.group("n") or m.group("n2"))
        word = (m.group("op") or m.group("op2") or "").lower()
        op = "<" if word in ("below", "under", "less than", "lower than", "<", "<=",
                             "altinda", "az") else ">"
        if word in (">=", "<="):
            op = word
        return f"{sid}.{step.metric} {op} {n:g}"

    # -- steps of one clause ------------------------------------------------------------

    def _steps(self, clause: str, host: str | None,
               request: SegmentationRequest) -> tuple[list[_Step], str | None]:
        """The steps one clause asks for; a clause naming several hosts ("restart nginx on
        web-1 and web-2") asks for them on each."""
        hosts = self._hosts_in(clause)
        if not hosts and _EACH.search(clause):  # "then check both health endpoints"
            hosts = list(self._together.get())
        if len(hosts) > 1:
            self._together.set(tuple(hosts))
            groups = self._by_host(clause)
            if len(groups) > 1:  # "restart nginx on web-1 and check disk on db-1"
                steps: list[_Step] = []
                for text, named in groups:
                    steps += self._on_each(text, named, request) if named else \
                        self._hostless(text, request)
                return steps, hosts[-1]
            return self._on_each(clause, hosts, request), hosts[-1]
        return self._steps_on(clause, hosts[0] if hosts else host, request)

    def _by_host(self, clause: str) -> list[tuple[str, list[str]]]:
        """The clause's actions, each with the hosts named for it: in its own part, in the
        parts after it that name only hosts ("… on web-1 and web-2"), or before it ("web-1 ve
        web-2'de …")."""
        groups: list[tuple[str, list[str]]] = []
        pending: list[str] = []
        for part in (p for p in _PARTS.split(clause) if p.strip(" ,.")):
            hosts = self._hosts_in(part)
            acts = bool(_GIVEN.search(part)) or any(
                p.search(part) for i in INTENTS for p in i.patterns)
            if acts:
                groups.append((part, [*pending, *hosts]))
                pending = []
            elif groups:
                text, named = groups[-1]
                groups[-1] = (f"{text} and {part}", [*named, *hosts])
            else:
                pending += hosts
        return [(text, list(dict.fromkeys(named))) for text, named in groups]

    def _hostless(self, text: str, request: SegmentationRequest) -> list[_Step]:
        """An action named without a host among actions that name theirs: asked about,
        never sent to every host of the request (a summary or a PromQL query needs none)."""
        try:
            return self._steps_on(text, None, request)[0]
        except SegmentationError:
            raise SegmentationError(
                f"which host should '{text.strip()}' run on? the request names hosts for "
                "its other actions; name one for this too") from None

    def _on_each(self, clause: str, hosts: list[str],
                 request: SegmentationRequest) -> list[_Step]:
        """The clause's steps on each host: each action on every host, then the next
        ("reload nginx on both, check health"); one summary of them all, last."""
        if len(hosts) == 1:
            return self._steps_on(clause, hosts[0], request)[0]
        steps: list[_Step] = []
        summaries: list[_Step] = []
        per_host = [self._steps_on(clause, each, request)[0] for each in hosts]
        for i in range(max(map(len, per_host))):
            for step in (found[i] for found in per_host if i < len(found)):
                same = summaries if step.kind == "llm" else steps
                if not any((s.kind, s.action, s.target) == (step.kind, step.action,
                                                             step.target) for s in same):
                    same.append(step)
        return steps + summaries

    def _given(self, clause: str, host: str | None) -> tuple[list[_Step], str]:
        """Commands quoted word for word ("run `free -m` on dev-box") that altlas knows the
        meaning of, as steps; and the clause without them."""
        steps: list[_Step] = []
        for m in _GIVEN.finditer(clause):
            command = m.group(1).strip()
            url = re.fullmatch(r"curl(?: -\w+)* (https?://\S+)", command)
            kind = "http" if url else "ssh"
            action = url.group(1) if url else command
            if self._is_host(command) or host is None or meaning(kind, action) is None:
                continue
            if kind == "ssh" and host == self._policy.local_host:
                kind = "local"
            steps.append(_Step(kind, action, host, f"run {command}",
                               params={"method": "GET"} if url else {}))
            clause = clause.replace(m.group(0), " ")
        return steps, clause

    def _steps_on(self, clause: str, host: str | None,
                  request: SegmentationRequest) -> tuple[list[_Step], str | None]:
        env = self._environment(clause) or request.environment
        given, clause = self._given(clause, host)
        hits: list[tuple[int, _Intent, re.Match[str], str]] = []
        taken: list[tuple[int, int]] = []
        for intent in INTENTS:
            for pattern in intent.patterns:
                for m in pattern.finditer(clause):
                    if any(a < m.end() and m.start() < b for a, b in taken):
                        continue
                    svc = ""
                    chosen = intent
                    if "svc" in pattern.groupindex:
                        svc = _svc(m).lower() if m.group("svc") else ""
                        if svc in _PRONOUNS:  # "start it again": the service talked about
                            svc = ""
                        elif self._is_host(svc) and intent.name == "restart":
                            chosen, svc = _REBOOT, ""  # "restart web-1", "db-1'i yeniden baslat"
                        elif svc in _NOT_SERVICES or self._is_host(svc):
                            continue
                    if _NEGATION.search(clause[:m.start()]) or _PAST.search(clause[:m.start()]):
                        continue  # "don't restart anything", "since web-1 was rebooted"
                    hits.append((m.start(), chosen, m, svc))
                    taken.append((m.start(), m.end()))
        steps: list[_Step] = given
        for _, intent, m, svc in sorted(hits, key=lambda h: h[0]):
            if "svc" in m.re.groupindex and not svc and intent is not _REBOOT:
                named = [w for w in re.findall(r"[a-z0-9_-]+", clause[:m.start()].lower())
                         if w in _WELL_KNOWN]  # "NGINX … IS WEDGED, RESTART IT"
                svc = self._service.get() or (named[-1] if named else "")
                if not svc:
                    continue
            if intent.name == "diagnose":  # "why is db-1 slow": load, memory, disk
                for each in _DIAGNOSIS:
                    steps.append(self._build(each, m, "", host, env))
                    steps[-1].intent = each.name
                continue
            step = self._build(intent, m, _service_name(svc, intent.name), host, env)
            step.intent = intent.name
            if any((s.kind, s.action, s.target) == (step.kind, step.action, step.target)
                   for s in steps):
                continue  # "is web-2 healthy? check its health endpoint": one check
            steps.append(step)
            if svc:
                self._service.set(svc)
        return steps, host

    def _build(self, intent: _Intent, m: re.Match[str], svc: str, host: str | None,
               env: str | None) -> _Step:
        action, description, metric, params = intent.build(m, svc)
        if intent.kind == "promql":
            target = self._policy.hosts[host].environment if host else (env or "prod")
            return _Step("promql", action.replace("{host}", host or ".*"), target,
                         description, metric, dict(params))
        if intent.kind == "llm":
            return _Step("llm", action, None, description, None, dict(params))
        if intent.name == "maintenance":
            return _Step("local", action.replace("{flag}", self._flag), self._policy.local_host,
                         description)
        if host is None:
            raise SegmentationError(
                f"which host should '{description}' run on? name one of: "
                f"{', '.join(sorted(self._policy.hosts))}")
        if intent.kind == "http":
            reach = self._policy.hosts[host].reach
            return _Step("http", action.replace("{reach}", reach), host, description, metric,
                         dict(params))
        kind = "manual" if intent.kind == "manual" else (
            "local" if host == self._policy.local_host else "ssh")
        if kind == "local" and intent.name == "kernel":
            action = "uname -a"  # what the altlas host's allow-list permits
        return _Step(kind, action, host, description, metric, dict(params))

    def _host(self, text: str) -> str | None:
        found = self._hosts_in(text)
        return found[0] if found else None

    def _hosts_in(self, text: str) -> list[str]:
        """The hosts a text names, in order (the altlas host for "this host")."""
        named: list[tuple[int, str]] = []
        local = _LOCAL.search(text)
        if local:
            named.append((local.start(), self._policy.local_host))
        if self._hosts is not None:
            named += [(m.start(), m.group(1).lower()) for m in self._hosts.finditer(text)]
        return list(dict.fromkeys(name for _, name in sorted(named)))

    def _is_host(self, word: str) -> bool:
        return word.lower() in self._policy.hosts

    def _environment(self, text: str) -> str | None:
        for word, env in self._envs.items():
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text, re.IGNORECASE):
                return env
        return None

    # -- modes ------------------------------------------------------------------------

    def _explore(self, steps: list[_Step]) -> None:
        """Add read-only discovery for each host first, and name gentler alternatives."""
        hosts = [s.target for s in steps if s.kind in ("ssh", "local")]
        discovery: list[_Step] = []
        for host in dict.fromkeys(h for h in hosts if h):
            kind = "local" if host == self._policy.local_host else "ssh"
            have = {s.action for s in steps if s.target == host}
            for action, what in (("uptime", "load"), ("df -h", "disk usage")):
                if action not in have:
                    discovery.append(_Step(kind, action, host, f"discovery: {what}"))
        shift = len(discovery)
        for s in steps:
            s.needs = [n + shift for n in s.needs]
            if s.when:  # the condition names the steps it compares by their new ids
                s.when = _STEP_REF.sub(lambda m: f"s{int(m.group(1)) + shift}", s.when)
            if s.action.startswith("systemctl restart "):
                s.description += f" (alternative: systemctl reload {s.action.split()[-1]})"
        steps[:0] = discovery

    def _chaos(self, steps: list[_Step], level: int) -> None:
        """Fault injection for the request's hosts, then the same checks again."""
        hosts = dict.fromkeys(s.target for s in steps if s.kind == "ssh" and s.target)
        checks = [s for s in steps if s.metric and s.kind == "ssh"]
        for host in hosts:
            start = len(steps)
            steps.append(_Step("ssh", f"stress-ng --cpu 1 --timeout {level * 10}s", host,
                               f"chaos level {level}: CPU pressure"))
            for check in checks:
                if check.target == host:
                    steps.append(_Step("ssh", check.action, host,
                                       f"after chaos: {check.description}", check.metric,
                                       dict(check.params), needs=[start]))

    def _document(self, steps: Sequence[_Step]) -> dict[str, Any]:
        out = []
        for i, s in enumerate(steps):
            doc: dict[str, Any] = {"id": f"s{i + 1}", "kind": s.kind, "action": s.action,
                                   "needs": [f"s{n + 1}" for n in s.needs],
                                   "description": s.description}
            if s.target:
                doc["target"] = s.target
            if s.when:
                doc["when"] = s.when
            if s.params:
                doc["params"] = s.params
            out.append(doc)
        return {"alt": 1, "steps": out}
