"""What a program does at least, whatever the policy's rules say: rm -r destroys, reboot
takes the host down, journalctl --vacuum-time and date -s change it."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from domain.commands.context import Invocation
from domain.commands.model import Finding, change, destroys
from domain.commands.options import getopt, parse
from domain.risk import Effect

Floor = Callable[[Invocation], list[Finding]]

BLOCK_DEVICE = re.compile(r"^/dev/(sd|hd|vd|xvd|nvme|mmcblk|dm-|md|loop|sr|mapper/|disk/)"
                          r"|^/proc/sysrq-trigger$")


def writes(path: str, what: str) -> Finding:
    """What writing ``path`` does: destroys a device's data, changes anything else."""
    if BLOCK_DEVICE.match(path):
        return destroys(f"{what} overwrites the device {path}")
    return change(f"{what} writes {path}")


def _always(effect: Effect, what: str) -> Floor:
    return lambda inv: [Finding(effect, f"{inv.name} {what}")]


def _rm(inv: Invocation) -> list[Finding]:
    keys = inv.keys
    for key, what in (("--no-preserve-root", "--no-preserve-root"), ("-r", "--recursive"),
                      ("-f", "--force")):
        if key in keys:
            return [destroys(f"rm with {what} is destructive")]
    if inv.fed:
        return [destroys("rm run by find or xargs deletes whatever they find: destructive")]
    return [change("rm deletes files")]


_SYSTEM_ROOTS = frozenset({"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib64",
                           "/opt", "/proc", "/root", "/sbin", "/srv", "/sys", "/usr", "/var"})


def _is_root(path: str) -> bool:
    return posixpath.normpath("/" + path.lstrip("/")) in _SYSTEM_ROOTS and path.startswith("/")


def _owner(inv: Invocation) -> list[Finding]:
    if "-R" in inv.keys and any(_is_root(o) for o in inv.operands[1:]):
        return [destroys(f"{inv.name} --recursive on a system directory is destructive")]
    return [change(f"{inv.name} changes files")]


def _copy(inv: Invocation) -> list[Finding]:
    targets = inv.parsed.values("-t") or list(inv.operands[-1:])
    if any(BLOCK_DEVICE.match(t) for t in targets):
        return [destroys(f"{inv.name} overwrites the device {targets[-1]}")]
    if inv.name == "mv" and any(_is_root(o) for o in inv.operands[:-1]):
        return [destroys("mv moves a system directory away")]
    return [change(f"{inv.name} changes files")]


def _tee(inv: Invocation) -> list[Finding]:
    return [writes(f, f"tee {f}") for f in inv.operands]


_SYSTEMCTL_READS = frozenset({
    "list-units", "list-automounts", "list-paths", "list-sockets", "list-timers",
    "list-jobs", "list-unit-files", "list-dependencies", "list-machines", "status", "show",
    "cat", "help", "is-active", "is-failed", "is-enabled", "is-system-running",
    "get-default", "show-environment", "whoami"})
# Verbs after which the host is down, asleep or cut off (isolate stops every unit the
# target does not want, sshd included), and the targets that do the same when started.
_SYSTEMCTL_STOPS = frozenset({
    "reboot", "poweroff", "halt", "kexec", "soft-reboot", "suspend", "hibernate",
    "hybrid-sleep", "suspend-then-hibernate", "sleep", "emergency", "rescue", "isolate",
    "default", "switch-root", "exit"})
_ACTIVATING = frozenset({"start", "restart", "try-restart", "reload-or-restart",
                         "try-reload-or-restart", "condrestart", "force-reload", "enable",
                         "reenable"})
_STOPPING_TARGETS = frozenset({
    "reboot", "poweroff", "halt", "kexec", "soft-reboot", "rescue", "emergency",
    "shutdown", "final", "sleep", "suspend", "hibernate", "hybrid-sleep",
    "suspend-then-hibernate", "ctrl-alt-del", "exit"})


def _systemctl(inv: Invocation) -> list[Finding]:
    if not inv.operands:
        return []
    verb, units = inv.operands[0], inv.operands[1:]
    if verb in _SYSTEMCTL_READS:
        return []
    if verb in _SYSTEMCTL_STOPS:
        return [destroys(f"systemctl {verb} takes the host down or out of reach")]
    stopping = [u for u in units if u.endswith(".target") and u[:-7] in _STOPPING_TARGETS]
    if stopping and verb in _ACTIVATING:
        return [destroys(f"systemctl {verb} {stopping[0]} takes the host down")]
    if verb == "reload":
        return [Finding(Effect.REVERSIBLE, "systemctl reload reloads a unit's configuration")]
    return [change(f"systemctl {verb} changes the host")]


def _init(inv: Invocation) -> list[Finding]:
    level = inv.operands[0] if inv.operands else ""
    if level in ("0", "6", "1", "s", "S", "single"):
        return [destroys(f"{inv.name} {level} halts, reboots or isolates the host")]
    return [change(f"{inv.name} changes the run level")]


def _verb(verbs: Iterable[str], effect: Effect, what: str, *, case: bool = True) -> Floor:
    wanted = frozenset(verbs)

    def floor(inv: Invocation) -> list[Finding]:
        said = [o if case else o.upper() for o in inv.operands]
        hits = [o for o in said if o in wanted]
        return [Finding(effect, f"{inv.name} {hits[0]} {what}")] if hits else []
    return floor


def _crontab(inv: Invocation) -> list[Finding]:
    if "-r" in inv.keys:
        return [destroys("crontab -r removes every job")]
    return [] if "-l" in inv.keys else [change("crontab replaces the jobs")]


_JOURNAL_WRITES = ("--vacuum-size", "--vacuum-files", "--vacuum-time", "--rotate",
                   "--flush", "--sync", "--relinquish-var", "--smart-relinquish-var",
                   "--setup-keys", "--update-catalog", "--cursor-file")


def _flags(flags: Mapping[str, str], *, operands: str | None = None) -> Floor:
    """A read program whose listed options change something; with ``operands``, any
    operand does too."""
    def floor(inv: Invocation) -> list[Finding]:
        found = [change(f"{inv.name} {what}") for key, what in flags.items() if key in inv.keys]
        if operands and inv.operands:
            found.append(change(f"{inv.name} {inv.operands[0]} {operands}"))
        return found
    return floor


def _date(inv: Invocation) -> list[Finding]:
    if "-s" in inv.keys:
        return [change("date --set sets the clock")]
    if any(not o.startswith("+") for o in inv.operands):
        return [change("date with a date operand sets the clock")]
    return []


def _sysctl(inv: Invocation) -> list[Finding]:
    if inv.keys & {"-w", "-p", "--load", "--system"} or any("=" in o for o in inv.operands):
        return [change("sysctl writes kernel parameters")]
    return []


def _sed(inv: Invocation) -> list[Finding]:
    if "-i" in inv.keys:
        return [change("sed --in-place edits files")]
    if "-f" in inv.keys:
        return [change("sed -f runs a script from a file")]
    scripts = inv.parsed.values("-e") or list(inv.operands[:1])
    if "--sandbox" not in inv.keys and any(c in s for s in scripts for c in "ewW"):
        return [change("sed's script may write files or run commands (w, W, e)")]
    return []


def _sort(inv: Invocation) -> list[Finding]:
    if inv.keys & {"-o", "--compress-program"}:
        return [change("sort writes a file or runs a compressor")]
    return []


def _uniq(inv: Invocation) -> list[Finding]:
    return [change(f"uniq writes {inv.operands[1]}")] if len(inv.operands) > 1 else []


_TAR_CHANGES = frozenset({"-x", "-c", "-r", "-u", "-A", "--extract", "--get", "--create",
                          "--append", "--update", "--catenate", "--concatenate", "--delete",
                          "--to-command", "-I", "--use-compress-program",
                          "--checkpoint-action", "-F", "--info-script",
                          "--new-volume-script", "--remove-files", "--rmt-command",
                          "--rsh-command", "-d", "--diff", "--compare"})


def _tar(inv: Invocation) -> list[Finding]:
    args = list(inv.args)
    if args and not args[0].startswith("-"):  # tar xzf a.tgz: the old bundled form
        args[0] = "-" + args[0]
    p = parse(_TAR, args)
    remote = [f for f in p.values("-f") if ":" in f.split("/", 1)[0]]
    if p.keys & _TAR_CHANGES or "-t" not in p.keys or remote:
        return [change("tar writes files or runs programs unless it only lists")]
    return []


_TAR = getopt("f:C:b:g:I:K:L:N:T:V:X:F:H:",
              "file=/f directory=/C list/t extract/x get/x create/c append/r update/u "
              "catenate/A concatenate/A delete diff/d compare/d to-command= "
              "use-compress-program=/I checkpoint-action= info-script=/F "
              "new-volume-script=/F remove-files rmt-command= rsh-command= force-local")


def _kill(inv: Invocation) -> list[Finding]:
    if inv.keys and inv.keys <= {"-l", "-L", "--list", "--table"}:
        return []
    args = list(inv.args)
    if args[:1] in (["-s"], ["-n"]):
        args = args[2:]
    elif args and args[0].startswith("-") and args[0] != "--":
        args = args[1:]  # the signal
    if inv.name == "kill" and "-1" in args:
        return [destroys("kill -1 signals every process: it takes the host down")]
    return [change(f"{inv.name} signals or changes running processes")]


def _mount(inv: Invocation) -> list[Finding]:
    if not inv.operands and inv.keys <= {"-l", "--show-labels", "-t", "-v"}:
        return []
    return [change(f"{inv.name} changes what is mounted")]


def _swapon(inv: Invocation) -> list[Finding]:
    if not inv.operands and inv.keys and inv.keys <= {"-s", "--show", "--summary",
                                                      "--noheadings", "--bytes", "--raw"}:
        return []
    return [change("swapon changes swap")]


def _ctl(reads: Iterable[str], what: str) -> Floor:
    """hostnamectl, timedatectl: a verb not among the reads changes the host."""
    allowed = frozenset(reads)

    def floor(inv: Invocation) -> list[Finding]:
        verb = inv.operands[0] if inv.operands else None
        if verb is None or (verb in allowed and len(inv.operands) == 1):
            return []
        return [change(f"{inv.name} {verb} {what}")]
    return floor


def _iptables(inv: Invocation) -> list[Finding]:
    letters = {c for k, _ in inv.parsed.options if not k.startswith("--") for c in k[1:]}
    longs = {k for k, _ in inv.parsed.options if k.startswith("--")}
    lists = letters & {"L", "S"} or longs & {"--list", "--list-rules"}
    if lists and not letters & set("ADIRFZNXPE") and not longs & _IPTABLES_CHANGES:
        return []
    return [change(f"{inv.name} changes the firewall")]


_IPTABLES_CHANGES = frozenset({"--append", "--delete", "--insert", "--replace", "--flush",
                               "--zero", "--new-chain", "--delete-chain", "--policy",
                               "--rename-chain"})


def _nft(inv: Invocation) -> list[Finding]:
    statements = re.split(r"[;\n]", " ".join(inv.operands))
    if inv.operands and "-f" not in inv.keys and all(
            s.split()[:1] in (["list"], ["describe"], []) for s in statements):
        return []
    return [change("nft changes the firewall")]


def _service(inv: Invocation) -> list[Finding]:
    if list(inv.operands[1:2]) in (["status"], []) and not inv.keys - {"--status-all"}:
        return []
    return [change(f"service {' '.join(inv.operands[:2])} changes a service")]


_DESTROYERS = ("dd", "shred", "wipefs", "blkdiscard", "mkswap", "mke2fs", "mkfs", "dropdb",
               "pg_dropcluster", "lvremove", "vgremove", "pvremove")
_HOST_STOPPERS = ("reboot", "poweroff", "halt", "shutdown", "kexec")
_CHANGERS = ("ln", "install", "touch", "truncate", "mkdir", "rmdir", "unlink", "mknod",
             "mkfifo", "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod",
             "passwd", "chpasswd", "chsh", "chage", "chattr", "setfacl", "patch", "split",
             "csplit", "umount", "swapoff", "insmod", "rmmod", "depmod", "modprobe",
             "ldconfig", "update-alternatives", "source", ".", "wget")

FLOORS: dict[str, Floor] = {
    **{name: _always(Effect.DESTRUCTIVE, "destroys data") for name in _DESTROYERS},
    **{name: _always(Effect.DESTRUCTIVE, "stops or restarts the host")
       for name in _HOST_STOPPERS},
    **{name: _always(Effect.CHANGE, "changes files or the system") for name in _CHANGERS},
    **dict.fromkeys(("kill", "pkill", "killall", "skill", "renice"), _kill),
    **dict.fromkeys(("chmod", "chown", "chgrp"), _owner),
    **dict.fromkeys(("cp", "mv"), _copy),
    **dict.fromkeys(("init", "telinit"), _init),
    **dict.fromkeys(("iptables", "ip6tables", "iptables-nft", "iptables-legacy"), _iptables),
    "rm": _rm,
    "systemctl": _systemctl,
    "zpool": _verb(("destroy",), Effect.DESTRUCTIVE, "destroys data"),
    "zfs": _verb(("destroy",), Effect.DESTRUCTIVE, "destroys data"),
    "redis-cli": _verb(("FLUSHALL", "FLUSHDB"), Effect.DESTRUCTIVE, "empties the database",
                       case=False),
    "mysqladmin": _verb(("drop",), Effect.DESTRUCTIVE, "drops a database"),
    "crontab": _crontab,
    "journalctl": _flags({k: f"{k} changes the journal" for k in _JOURNAL_WRITES}),
    "date": _date,
    "hostname": _flags({"-F": "--file sets the host name", "-b": "--boot sets the host name"},
                       operands="sets the host name"),
    **dict.fromkeys(("domainname", "nisdomainname", "ypdomainname"),
                    _flags({}, operands="sets the domain name")),
    "dmesg": _flags({"-C": "--clear clears the kernel log",
                     "-c": "--read-clear clears the kernel log",
                     "-D": "--console-off changes console logging",
                     "-E": "--console-on changes console logging",
                     "-n": "--console-level changes console logging"}),
    "ss": _flags({"-K": "--kill closes sockets", "-D": "--diag writes a file"}),
    "sysctl": _sysctl,
    "hwclock": _flags({"--set": "--set sets the clock", "-s": "--hctosys sets the clock",
                       "-w": "--systohc sets the clock", "--systz": "--systz sets the clock",
                       "-a": "--adjust sets the clock",
                       "--param-set": "--param-set writes the clock"}),
    "timedatectl": _ctl(("status", "show", "list-timezones", "timesync-status",
                         "show-timesync"), "changes the clock settings"),
    "hostnamectl": _ctl(("status", "show", "hostname", "icon-name", "chassis", "deployment",
                         "location"), "changes the host's identity"),
    "tee": _tee,
    "sed": _sed,
    "sort": _sort,
    "uniq": _uniq,
    "tar": _tar,
    "mount": _mount,
    "swapon": _swapon,
    "nft": _nft,
    "service": _service,
}
