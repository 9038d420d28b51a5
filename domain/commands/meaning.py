"""What a command means in the words people ask with: ``df -h /`` is "disk", ``systemctl
restart nginx`` is "restart", an ``llm`` step "summarise". The grounding check compares this
with what a request asks for; a command whose canonical line (domain.commands) matches none
of these has no known meaning, and a plan is not taken on trust for it.

Pure functions: nothing here runs, reads or opens anything.
"""

from __future__ import annotations

import re

from domain.commands import analyse

_SVC = r"[a-z0-9][a-z0-9_.@-]*"
# Canonical command lines (domain.commands) and the intent each answers; a line that matches
# none is a command altlas does not know the meaning of.
_TABLE: tuple[tuple[str, str], ...] = (
    (r"df(?: -[a-zA-Z]+)*(?: /\S*)*", "disk"),
    (r"du(?: -[a-zA-Z]+)*(?: /\S*)*", "disk"),
    (r"uptime", "load"),
    (r"free(?: -[a-z]+)*", "memory"),
    (rf"systemctl (?:is-active|status)(?: --no-pager)? {_SVC}", "status"),
    (rf"systemctl restart {_SVC}", "restart"),
    (rf"systemctl reload {_SVC}", "reload"),
    (rf"systemctl stop {_SVC}", "stop"),
    (rf"systemctl start {_SVC}", "start"),
    (r"systemctl (?:list-units (?:--failed|--state=failed)|--failed)", "failed"),
    (rf"journalctl -u {_SVC}(?: -n \d+| --no-pager| --since \S+)*", "logs"),
    (r"journalctl(?: -n \d+| --no-pager| -p \w+)*", "logs"),
    (rf"pgrep -a {_SVC}", "processes"),
    (r"ps (?:-eo|-e -o) \S+ --sort=-%(?:cpu|mem)(?: --no-headers)?", "top"),
    (r"top -b -n 1(?: -o %?\w+)?", "top"),
    (r"head -n \d+", ""),
    (r"(?:reboot|shutdown -r now)", "reboot"),
    (r"rm(?: -[a-z]+)* /\S+", "delete"),
    (r"apt-get clean", "apt_clean"),
    (r"logrotate -f /etc/logrotate\.conf", "rotate"),
    (r"find /tmp -mindepth 1 -mtime \+\d+ -delete", "clean_tmp"),
    (r"uname(?: -[a-z]+)*", "kernel"),
    (r"ss(?: -[a-z]+)*", "ports"),
    (r"touch /\S+", "maintenance"),
    (r"psql -c '?DROP TABLE \w+'?", "drop"),
    (r"DROP TABLE \w+;?", "drop"),
)
_COMMANDS = tuple((re.compile(p), name) for p, name in _TABLE)
# The shell commands among them (not SQL, not the "head" a listing is piped into), as
# regular expressions: what a model may choose among when it writes a shell step.
SHELL_COMMANDS: tuple[str, ...] = tuple(p for p, name in _TABLE
                                        if name and not p.startswith("DROP"))


def services(action: str) -> tuple[str, ...]:
    """The services a command acts on (systemctl, journalctl -u, pgrep)."""
    m = re.match(rf"(?:systemctl \S+|journalctl -u|pgrep -a) ({_SVC})", action)
    return (m.group(1),) if m else ()


def meaning(kind: str, action: str) -> str | None:
    """What a step of ``kind`` running ``action`` does, in a request's terms ("disk",
    "restart", "summarise"); None for a command whose meaning altlas does not know."""
    if kind == "llm":
        return "summarise"
    if kind == "http":
        return "health" if re.search(r"/health\w*/?$", action) else None
    if kind == "promql":
        q = action.replace(" ", "")
        if "up==0" in q:
            return "targets_down"
        if "node_cpu_seconds_total" in q:
            return "cpu"
        if "http_requests_total" in q and "5.." in q:
            return "error_rate"
        return None
    try:
        commands = analyse(action, "shell" if kind == "manual" else "remote")
    except ValueError:
        return None
    if not commands.complete or not commands.programs:
        return None
    found: list[str] = []
    programs = [p for p in commands.programs if not (p.argv[:1] in (("sh",), ("bash",))
                                                     and "-c" in p.argv)]
    for program in programs:
        lines = {program.line.replace("'", "") if program.argv[:1] == ("psql",)
                 else program.line}
        if len(programs) == 1:
            lines.add(" ".join(action.split()))
        for pattern, name in _COMMANDS:
            if any(pattern.fullmatch(line) for line in lines):
                if name:
                    found.append(name)
                break
        else:
            return None
    return found[0] if len(set(found)) == 1 else None
