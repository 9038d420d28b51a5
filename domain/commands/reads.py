"""Programs that only read what they are given and print, and what would make each do more:
a table for reviewers. A program listed here is a read when no policy rule names it, unless its
entry finds one of the arguments that make it write, send or run something; the built-in floors
(floors.py) still raise it (``sed -i``, ``sort -o``, ``tar -x``, ``date -s``, ``crontab -r``…).
A program not listed is a change, as before: the table only ever lowers what it understands.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# Each check gets the program's arguments and says what makes it more than a read, or None.
Check = Callable[[Sequence[str]], str | None]

# Read whatever their arguments, or their writing options are floors of their own.
_PLAIN = """
cat tac nl head tail wc cut paste join comm diff diff3 cmp sdiff grep egrep fgrep rgrep zgrep
zegrep zfgrep zcat bzcat xzcat zless zmore less more ls dir vdir stat file du df free uptime
uname whoami id groups who w users last lastb lastlog pwd basename dirname realpath readlink
which whereis echo printf seq true false test expr nproc lscpu lsblk blkid lsmod lspci lsusb
lsof ps pgrep pidof vmstat iostat mpstat pidstat sar netstat ss ping ping6 traceroute
tracepath mtr dig nslookup host whois getent md5sum sha1sum sha224sum sha256sum sha384sum
sha512sum b2sum cksum sum od hexdump strings rev fold fmt column expand unexpand tr uniq sort
sed tree locate mlocate printenv tty cal bc dc jq top htop iotop sleep cd pushd popd dirs type
hash times umask getconf arch dmesg journalctl date hostname tar crontab zdiff factor numfmt
look shuf tsort apropos whatis man info locale lsattr findmnt pstree yes jobs shopt set
unset read alias unalias export declare typeset local let wait
"""
# (the shell builtins among them change the shell of the step alone, which ends with it)


def _flags(args: Sequence[str], with_value: str = "") -> tuple[set[str], dict[str, str]]:
    """The options given: long ones by name (``--output``), short ones letter by letter
    (``-sSLo`` is -s -S -L -o); and the value of those that take one."""
    found: set[str] = set()
    values: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            break
        if arg.startswith("--"):
            name, _, value = arg.partition("=")
            found.add(name)
            if value:
                values[name] = value
        elif arg.startswith("-") and len(arg) > 1:
            for at, letter in enumerate(arg[1:], 1):
                found.add("-" + letter)
                if letter in with_value:
                    rest = arg[at + 1:]
                    if not rest and i + 1 < len(args):
                        i += 1
                        rest = args[i]
                    values["-" + letter] = rest
                    break
        i += 1
    return found, values


def _operands(args: Sequence[str]) -> list[str]:
    return [a for a in args if not a.startswith("-")]


def _find(args: Sequence[str]) -> str | None:
    writes = {"-delete", "-fprint", "-fprint0", "-fprintf", "-fls"} & set(args)
    return f"find {sorted(writes)[0]} deletes or writes files" if writes else None


# print or printf into a file or a command, a command read with getline, system(): an awk
# program that does any of them writes or runs something (comparisons with > are fine).
_AWK_DOES = re.compile(r"\bprintf?\b[^;{}\n]*(>|\|)|\|\s*getline|\bsystem\s*\(|\bclose\s*\(")


def awk_does(args: Sequence[str]) -> str | None:
    """What an awk command does beyond reading and printing, or None: its program is in the
    arguments, so it can be read (interpreters.py asks this too)."""
    return _awk(args)


def _awk(args: Sequence[str]) -> str | None:
    found, _ = _flags(args, "fvF")
    if found & {"-f", "--file", "-i", "--include", "-E", "--exec", "-l", "--load"}:
        return "awk runs a program from a file or loads one"
    programs = [a for a in args if not a.startswith("-")][:1]
    if any(_AWK_DOES.search(p) for p in programs):
        return "the awk program writes to a file or a command, or runs one"
    return None


_CURL_SENDS = {"-o", "--output", "-O", "--remote-name", "--remote-name-all", "--output-dir",
               "-d", "--data", "--data-ascii", "--data-binary", "--data-raw",
               "--data-urlencode", "--json", "-F", "--form", "--form-string", "-T",
               "--upload-file", "-K", "--config", "-c", "--cookie-jar", "-D",
               "--dump-header", "--trace", "--trace-ascii", "--stderr", "--libcurl",
               "-J", "--remote-header-name", "--hsts", "--etag-save", "--alt-svc"}


def _curl(args: Sequence[str]) -> str | None:
    found, values = _flags(args, "oXHdFTKcDuAebxmwrECYyztUQPpE")
    sends = sorted(found & _CURL_SENDS)
    if sends:
        return f"curl {sends[0]} writes a file or sends data"
    method = values.get("-X") or values.get("--request")
    if method is not None and method.upper() not in ("GET", "HEAD"):
        return f"curl sends a {method} request"
    return None


def _subcommands(reads: set[str], what: str) -> Check:
    """Programs whose first operand says what they do: the listed ones only read."""
    def check(args: Sequence[str]) -> str | None:
        words = _operands(args)
        if words and words[0] in reads:
            return None
        return f"{what} {words[0] if words else ''} changes something".replace("  ", " ")
    return check


def _git(args: Sequence[str]) -> str | None:
    words = _operands(args)
    sub, rest = (words[0], words[1:]) if words else ("", [])
    if sub not in _GIT_READS:
        return "git changes the repository or reaches a remote"
    lists = {"branch": not rest, "tag": not rest,
             "remote": not rest or rest[0] in ("show", "get-url"),
             "config": bool(set(args) & {"--get", "--get-all", "--get-regexp", "-l",
                                         "--list"}),
             "stash": bool(rest) and rest[0] in ("list", "show")}
    if not lists.get(sub, True):
        return f"git {sub} with these arguments changes something"
    return None


_GIT_READS = {"status", "log", "diff", "show", "branch", "tag", "remote", "rev-parse",
              "ls-files", "ls-tree", "grep", "blame", "describe", "shortlog", "cat-file",
              "rev-list", "config", "whatchanged", "name-rev", "count-objects", "stash",
              "for-each-ref", "show-ref", "version", "help"}


def _ip(args: Sequence[str]) -> str | None:
    words = _operands(args)
    if len(words) < 2 or words[1] in ("show", "list", "ls", "get", "lst", "sh"):
        return None
    return f"ip {words[0]} {words[1]} changes the network"


def _ifconfig(args: Sequence[str]) -> str | None:
    return None if len(_operands(args)) <= 1 else "ifconfig with settings changes an interface"


def _compressor(args: Sequence[str]) -> str | None:
    found, _ = _flags(args)
    if found & {"-c", "--stdout", "--to-stdout", "-l", "--list", "-t", "--test"}:
        return None
    return "it replaces files with their (de)compressed form"


READS: dict[str, Check] = {
    **{name: (lambda _args: None) for name in _PLAIN.split()},
    "find": _find,
    **dict.fromkeys(("awk", "gawk", "mawk", "nawk"), _awk),
    "curl": _curl,
    "git": _git,
    "ip": _ip,
    "ifconfig": _ifconfig,
    "env": lambda args: None if all("=" in a for a in _operands(args)) else
    "env runs a command",
    "route": lambda args: None if set(args) <= {"-n", "-e", "-ee", "-v"} else
    "route with arguments changes the routing table",
    **dict.fromkeys(("gzip", "gunzip", "bzip2", "bunzip2", "xz", "unxz", "zstd"), _compressor),
    "docker": _subcommands({"ps", "images", "logs", "inspect", "version", "info", "top",
                            "port", "history", "diff", "events", "search"}, "docker"),
    "podman": _subcommands({"ps", "images", "logs", "inspect", "version", "info", "top",
                            "port", "history", "diff"}, "podman"),
    "kubectl": _subcommands({"get", "describe", "logs", "top", "version", "explain",
                             "api-resources", "api-versions", "cluster-info"}, "kubectl"),
}


def read_reason(argv: Sequence[str]) -> str | None:
    """Why the program of ``argv`` (its name first) is only a read, or None when it is not
    known to be one (not in the table, or given what makes it do more)."""
    check = READS.get(argv[0]) if argv else None
    if check is None or check(list(argv[1:])) is not None:
        return None
    return f"{argv[0]} only reads and prints"
