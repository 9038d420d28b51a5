"""Range queries for the evidence of incidents, with prometheus-api-client."""

from __future__ import annotations

from datetime import datetime

from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from requests.exceptions import RequestException

from application.ports import MetricsUnavailableError

MAX_SERIES = 5  # of one query: the evidence is read by a person in a chat message


class PrometheusMetrics:
    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        self.url = url
        self._timeout_s = timeout_s

    def series(self, query: str, start: datetime, end: datetime, step_s: float
               ) -> list[tuple[str, list[tuple[float, float]]]]:
        try:
            found = PrometheusConnect(url=self.url, disable_ssl=True).custom_query_range(
                query, start_time=start, end_time=end, step=f"{step_s:g}s",
                params={"timeout": f"{self._timeout_s:g}s"})
        except (PrometheusApiClientException, RequestException, ValueError) as e:
            raise MetricsUnavailableError(f"Prometheus at {self.url}: {e}") from None
        return [(_labels(s.get("metric", {})),
                 [(float(t), float(v)) for t, v in s.get("values", [])])
                for s in found[:MAX_SERIES]]


def _labels(metric: dict[str, str]) -> str:
    name = metric.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{inner}}}"
