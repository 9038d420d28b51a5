"""Facts read off a command's output, for conditions between steps."""

from __future__ import annotations

import re
from typing import Any

_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)%")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?")
_LOAD = re.compile(r"load averages?:\s*([\d.]+),?\s+([\d.]+),?\s+([\d.]+)")


def command_facts(output: str, exit_code: int | None) -> dict[str, Any]:
    """``max_percent`` (df, usage), ``load1``/``load5``/``load15`` (uptime), ``value`` (the
    first number), ``lines`` and ``exit_code``; only what the output really shows."""
    facts: dict[str, Any] = {"exit_code": exit_code,
                             "lines": sum(1 for line in output.splitlines() if line.strip())}
    percents = [float(p) for p in _PERCENT.findall(output)]
    if percents:
        facts["max_percent"] = max(percents)
        facts["min_percent"] = min(percents)
    load = _LOAD.search(output)
    if load:
        facts["load1"], facts["load5"], facts["load15"] = (float(x) for x in load.groups())
    number = _NUMBER.search(output)
    if number:
        facts["value"] = float(number.group())
    return facts
