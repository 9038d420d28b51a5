"""Runs ``promql`` steps with prometheus-api-client: instant queries, and range queries
when the step asks for one (params.range = {minutes, step})."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from requests.exceptions import RequestException

from application.ports import StepContext, StepOutcome
from domain.plan import PlanStep

MAX_OUTPUT_CHARS = 64_000


class PromQLExecutor:
    def __init__(self, url_for: Callable[[str | None], str | None], timeout: float = 10.0
                 ) -> None:
        """``url_for(target)`` names the Prometheus that answers for a target environment."""
        self._url_for = url_for
        self._timeout = timeout

    async def execute(self, step: PlanStep, context: StepContext) -> StepOutcome:
        started = time.monotonic()
        url = self._url_for(step.target)
        if url is None:
            return StepOutcome(False, None, "", "no Prometheus is configured for "
                               f"{step.target or 'this step'}: set ALTLAS_PROMETHEUS_URL", 0)
        try:
            result = await asyncio.wait_for(asyncio.to_thread(self._query, url, step),
                                            timeout=step.timeout_s)
        except TimeoutError:
            return StepOutcome(False, None, "", f"timed out after {step.timeout_s:g}s",
                               _ms_since(started))
        except (PrometheusApiClientException, RequestException, ValueError) as e:
            return StepOutcome(False, None, "", f"query failed: {e}", _ms_since(started))
        output = json.dumps(result, separators=(",", ":"))[:MAX_OUTPUT_CHARS]
        return StepOutcome(True, None, output, None, _ms_since(started), promql_facts(result))

    def _query(self, url: str, step: PlanStep) -> list[dict[str, Any]]:
        prom = PrometheusConnect(url=url, disable_ssl=True)
        span = step.params.get("range")
        params = {"timeout": f"{min(self._timeout, step.timeout_s):g}s"}
        if isinstance(span, dict):
            end = datetime.now(UTC)
            start = end - timedelta(minutes=float(span.get("minutes", 5)))
            result: list[dict[str, Any]] = prom.custom_query_range(
                step.action, start_time=start, end_time=end, step=str(span.get("step", "15s")),
                params=params)
        else:
            result = prom.custom_query(step.action, params=params)
        return result


def promql_facts(result: list[Any]) -> dict[str, Any]:
    """``series`` (how many), ``value`` (the first series' latest sample), ``max``, ``min``."""
    if len(result) == 2 and not isinstance(result[0], dict):  # a scalar: [time, "value"]
        result = [{"value": result}]
    samples: list[float] = []
    for series in result:
        points = series.get("values") or ([series["value"]] if "value" in series else [])
        for _, raw in points[-1:]:
            try:
                samples.append(float(raw))
            except (TypeError, ValueError):
                continue
    facts: dict[str, Any] = {"series": len(result)}
    if samples:
        facts.update(value=samples[0], max=max(samples), min=min(samples))
    return facts


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
