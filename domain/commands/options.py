"""How programs read their options: getopt_long, enough to normalise any spelling of them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class _Long:
    short: str | None  # the short option it means, if any
    arity: int  # 0: a flag; 1: takes a value; 2: an optional value, only as --name=value


@dataclass(frozen=True)
class Spec:
    """How a program reads its options (getopt_long), enough to normalise them."""

    takes: frozenset[str] = frozenset()  # short options that take a value
    optional: frozenset[str] = frozenset()  # short options with an optional attached value
    longs: Mapping[str, _Long] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)  # short synonyms: R → r
    stop: bool = False  # options end at the first operand (wrappers: getopt's "+")

    def long(self, name: str) -> tuple[str, _Long] | str | None:
        """The long option ``name`` means, allowing unambiguous abbreviations as getopt_long
        does; None when unknown, the name itself when ambiguous."""
        if name in self.longs:
            return name, self.longs[name]
        hits = [(n, o) for n, o in self.longs.items() if name and n.startswith(name)]
        if not hits:
            return None
        if len({(o.short or n, o.arity) for n, o in hits}) == 1:
            return hits[0]
        return name


_LONG = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*)(\?=|=)?(?:/(.))?$")


def getopt(short: str = "", longs: str = "", *, aliases: str = "", stop: bool = False) -> Spec:
    """A Spec from getopt notation: ``short`` names the letters taking a value (``n:``) or an
    attached optional one (``p::``); ``longs`` lists ``name``, ``name=`` (value) or
    ``name?=`` (optional value), each with ``/x`` when it means ``-x``."""
    takes: set[str] = set()
    optional: set[str] = set()
    for match in re.finditer(r"(.)(:{1,2})", short):
        (takes if match.group(2) == ":" else optional).add(match.group(1))
    table: dict[str, _Long] = {}
    for entry in longs.split():
        m = _LONG.match(entry)
        if m is None:
            raise ValueError(f"bad long option spec {entry!r}")
        arity = {None: 0, "=": 1, "?=": 2}[m.group(2)]
        table[m.group(1)] = _Long(m.group(3), arity)
    pairs = {a: b for a, b in (pair.split("=", 1) for pair in aliases.split())}
    return Spec(frozenset(takes), frozenset(optional), table, pairs, stop)


@dataclass(frozen=True)
class Parsed:
    """A program's arguments read with its Spec."""

    options: tuple[tuple[str, str | None], ...]  # ("-r", None), ("-n", "1"), ("--set", "x")
    operands: tuple[str, ...]
    canonical: tuple[str, ...]  # the arguments, normalised
    problems: tuple[str, ...] = ()
    rest: tuple[str, ...] = ()  # what follows an option parsing stopped at

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(key for key, _ in self.options)

    def values(self, *keys: str) -> list[str]:
        return [v for k, v in self.options if k in keys and v is not None]


def parse(spec: Spec, args: Sequence[str], stop_at: frozenset[str] = frozenset()) -> Parsed:
    """Read ``args`` as getopt_long would. Long aliases become their short option, clusters
    split (``-rf`` → ``-r -f``), values stay with their option (``-n1`` → ``-n 1``), and
    each run of options between operands is sorted, so order and spelling do not matter."""
    options: list[tuple[str, str | None]] = []
    operands: list[str] = []
    canonical: list[str] = []
    problems: list[str] = []
    run: list[tuple[str, str | None]] = []

    def flush() -> None:
        for key, value in sorted(run, key=lambda option: option[0]):
            if key.startswith("--"):
                canonical.append(key if value is None else f"{key}={value}")
            elif key[1:] in spec.optional:
                canonical.append(key + (value or ""))
            else:
                canonical.extend([key] if value is None else [key, value])
        run.clear()

    def add(key: str, value: str | None) -> bool:
        options.append((key, value))
        run.append((key, value))
        return key in stop_at

    i, stopped = 0, False
    while i < len(args) and not stopped:
        arg = args[i]
        i += 1
        if arg == "--":
            flush()
            tail = list(args[i:])
            canonical.extend(["--", *tail] if any(t.startswith("-") for t in tail) else tail)
            operands.extend(tail)
            i = len(args)
        elif arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            found = spec.long(name)
            if not isinstance(found, tuple):
                if isinstance(found, str):
                    problems.append(f"--{name} is ambiguous")
                stopped = add(f"--{name}", value if eq else None)
                continue
            full, option = found
            given: str | None = value if eq else None
            if option.arity == 1 and not eq:
                if i < len(args):
                    given, i = args[i], i + 1
                else:
                    problems.append(f"--{full} needs a value")
            key = f"-{option.short}" if option.short else f"--{full}"
            if option.short and option.arity == 0:
                given = None
            stopped = add(key, given)
        elif arg.startswith("-") and arg != "-":
            j = 1
            while j < len(arg) and not stopped:
                letter = spec.aliases.get(arg[j], arg[j])
                j += 1
                if letter in spec.takes:
                    attached = arg[j:]
                    if attached:
                        stopped = add(f"-{letter}", attached)
                    elif i < len(args):
                        stopped = add(f"-{letter}", args[i])
                        i += 1
                    else:
                        problems.append(f"-{letter} needs a value")
                        stopped = add(f"-{letter}", None)
                    break
                if letter in spec.optional:
                    stopped = add(f"-{letter}", arg[j:] or None)
                    break
                stopped = add(f"-{letter}", None)
        elif spec.stop:
            flush()
            operands.extend(args[i - 1:])
            canonical.extend(args[i - 1:])
            i = len(args)
        else:
            flush()
            operands.append(arg)
            canonical.append(arg)
    flush()
    rest = tuple(args[i:]) if stopped else ()
    return Parsed(tuple(options), tuple(operands), tuple(canonical), tuple(problems), rest)


def raw(args: Sequence[str]) -> Parsed:
    """Arguments of a program without a Spec: kept as written, dashes taken as options."""
    cut = args.index("--") if "--" in args else len(args)
    options = tuple((a, None) for a in args[:cut] if a.startswith("-") and a != "-")
    operands = tuple(a for a in args[:cut] if not a.startswith("-") or a == "-")
    return Parsed(options, operands + tuple(args[cut + 1:]), tuple(args))

