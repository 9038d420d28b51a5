#!/usr/bin/env python3
"""Independent alert-storm generator, family ``am_routing``.

Models a small company's fleet end to end: the world (12 services on 2-3 hosts
each, in three clusters, with dependencies), faults in that world (service
faults, host faults: down / disk full / out of memory, and rare cluster-wide
network faults), Prometheus rule evaluation (rule groups with 15-60 s intervals,
``for:`` durations, pending -> firing -> resolved, re-sends with ``endsAt`` four
resend periods ahead, resolved alerts re-sent for 15 minutes) and Alertmanager
(provider merge of alert updates, routing tree with first-match routes,
aggregation groups with group_wait / group_interval / repeat_interval timers,
the notification log deduplication, send_resolved and max_alerts per webhook
receiver, webhook payload version 4).

Behaviour follows the upstream sources:
  * prometheus/prometheus rules/alerting.go (Eval, needsSending, sendAlerts:
    ValidUntil = ts + 4 * max(interval, resend_delay), resolvedRetention 15m),
    rules/manager.go SendAlerts (StartsAt = FiredAt, EndsAt = ResolvedAt or
    ValidUntil), cmd/prometheus: --rules.alert.resend-delay default 1m,
    util/strutil TableLinkForExpression for generatorURL.
  * prometheus/alertmanager dispatch/dispatch.go (aggregation groups, group_wait
    with the "old enough for immediate flush" case, group_interval timer, flush
    marks firing alerts' EndsAt zero, deletes resolved alerts after a flush and
    destroys empty groups), provider/mem Put + alert.Merge, notify/dedup_stage.go
    (needsUpdate), notify/retry_stage.go (send_resolved false filters resolved
    alerts), notify/set_notifies_stage.go (nflog, expiry 2 * repeat_interval),
    notify/webhook/webhook.go (version "4", groupKey, truncatedAlerts with
    max_alerts), template.Data (status, groupLabels, commonLabels,
    commonAnnotations), alert.AlertSlice ordering (job, instance, labels).
  * prometheus/common model/signature.go labelSetToFingerprint (FNV-1a 64 over
    sorted "name 0xff value 0xff"), Fingerprint.String() = %016x.
  * Alertmanager docs/configuration.md (route timers, webhook_config,
    max_alerts, send_resolved, the webhook JSON).

Standard library only.  Deterministic for (seed, faults, every_minutes).
"""
from __future__ import annotations

import argparse
import functools
import heapq
import json
import math
import random
import re
import sys
from datetime import datetime, timedelta, timezone
from urllib.parse import quote_plus

FAMILY = "am_routing"

MIN = 60_000          # one minute in ms
SEC = 1_000
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ZERO_TIME = "0001-01-01T00:00:00Z"

PROM_URL = "http://prometheus-0.mon.example.internal:9090"
AM_URL = "http://alertmanager.mon.example.internal:9093"
RESEND_DELAY = 60 * SEC           # --rules.alert.resend-delay default
RESOLVED_RETENTION = 15 * MIN     # rules/alerting.go resolvedRetention
EXTERNAL_LABELS = {"env": "prod"}

# --------------------------------------------------------------------------
# time and fingerprints
# --------------------------------------------------------------------------


def fmt_ts(ms: int) -> str:
    """RFC 3339 like Go's time.Time JSON (RFC3339Nano trims trailing zeros)."""
    dt = EPOCH + timedelta(milliseconds=ms)
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    frac = ms % 1000
    if frac:
        s += (".%03d" % frac).rstrip("0")
    return s + "Z"


def parse_ts(s: str) -> int:
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    delta = dt - EPOCH
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1


def fingerprint(labels: dict) -> str:
    """model.LabelSet.Fingerprint(): FNV-1a 64 of sorted name,0xff,value,0xff."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for b in name.encode() + b"\xff" + str(labels[name]).encode() + b"\xff":
            h ^= b
            h = (h * _FNV_PRIME) & _MASK
    return "%016x" % h


# --------------------------------------------------------------------------
# the fleet
# --------------------------------------------------------------------------

# name, cluster, depends_on, template, port, job, team
SERVICE_SPECS = [
    ("edge", "edge-eu1", ["web", "api"], "haproxy", 8404, "haproxy", "platform"),
    ("web", "edge-eu1", ["api", "auth", "cache"], "http", 3000, "web", "frontend"),
    ("api", "apps-eu1", ["auth", "postgres", "cache", "queue", "search", "objstore"], "http", 8080, "api", "backend"),
    ("auth", "apps-eu1", ["postgres", "cache"], "http", 8081, "auth", "identity"),
    ("worker", "apps-eu1", ["queue", "postgres", "objstore", "search"], "worker", 9102, "worker", "backend"),
    ("mailer", "apps-eu1", ["queue"], "worker", 9103, "mailer", "growth"),
    ("reports", "apps-eu1", ["postgres", "objstore"], "batch", 9104, "reports", "analytics"),
    ("queue", "data-eu1", [], "rabbitmq", 15692, "rabbitmq", "platform"),
    ("cache", "data-eu1", [], "redis", 9121, "redis", "platform"),
    ("search", "data-eu1", [], "elasticsearch", 9114, "elasticsearch", "search"),
    ("postgres", "data-eu1", [], "postgres", 9187, "postgres", "dba"),
    ("objstore", "data-eu1", [], "minio", 9000, "minio", "storage"),
]
DATA_TIER = {"queue", "cache", "search", "postgres", "objstore"}
MOUNTS = {
    "postgres": ("/var/lib/postgresql", "/dev/nvme1n1", "xfs"),
    "search": ("/var/lib/elasticsearch", "/dev/nvme1n1", "xfs"),
    "queue": ("/var/lib/rabbitmq", "/dev/nvme1n1", "ext4"),
    "cache": ("/var/lib/redis", "/dev/nvme1n1", "ext4"),
    "objstore": ("/data1", "/dev/sdb", "xfs"),
}
DOMAINS = {"edge": "www.example.com", "web": "app.example.com", "api": "api.example.com",
           "auth": "login.example.com"}


class Fleet:
    def __init__(self, rng: random.Random):
        self.svc = {}
        for name, cluster, deps, tmpl, port, job, team in SERVICE_SPECS:
            self.svc[name] = {"name": name, "cluster": cluster, "deps": list(deps), "tmpl": tmpl,
                              "port": port, "job": job, "team": team, "hosts": []}
        h = self.svc
        h["edge"]["hosts"] = ["edge-1", "edge-2"]
        h["web"]["hosts"] = ["web-%d" % i for i in range(1, rng.choice([2, 3]) + 1)]
        if rng.random() < 0.45:
            n = rng.choice([2, 3])
            h["api"]["hosts"] = ["app-%d" % i for i in range(1, n + 1)]
            h["auth"]["hosts"] = ["app-1", "app-2"]          # auth co-located with api
        else:
            h["api"]["hosts"] = ["api-%d" % i for i in range(1, rng.choice([2, 3]) + 1)]
            h["auth"]["hosts"] = ["auth-1", "auth-2"]
        h["worker"]["hosts"] = ["worker-%d" % i for i in range(1, rng.choice([2, 3]) + 1)]
        h["mailer"]["hosts"] = ["worker-1", "worker-2"]      # mailer shares worker hosts
        h["reports"]["hosts"] = rng.choice([["batch-1", "batch-2"], ["batch-1", h["worker"]["hosts"][-1]]])
        h["queue"]["hosts"] = ["mq-1", "mq-2", "mq-3"]
        h["cache"]["hosts"] = ["redis-1", "redis-2"]          # primary, replica
        h["search"]["hosts"] = ["es-%d" % i for i in range(1, rng.choice([2, 3]) + 1)]
        h["postgres"]["hosts"] = ["pg-1", "pg-2"]             # primary, replica
        h["objstore"]["hosts"] = ["minio-%d" % i for i in range(1, rng.choice([2, 3]) + 1)]
        self.hosts = {}            # host -> list of services (in spec order)
        for name in self.svc:
            for host in self.svc[name]["hosts"]:
                self.hosts.setdefault(host, []).append(name)
        self.host_cluster = {host: self.svc[s[0]]["cluster"] for host, s in self.hosts.items()}
        # node_exporter: app/edge tier hosts scraped per service job (job "<svc>-node",
        # service label), data tier hosts by one generic "node" job without service.
        self.host_mode = {host: ("generic" if all(s in DATA_TIER for s in svcs) else "per_service")
                          for host, svcs in self.hosts.items()}
        self.clusters = sorted({v["cluster"] for v in self.svc.values()})
        self.dependents = {n: [m for m in self.svc if n in self.svc[m]["deps"]] for n in self.svc}

    def policy(self) -> dict:
        hosts = {h: {"env": "prod"} for h in sorted(self.hosts)}
        services = {}
        for name, s in self.svc.items():
            services[name] = {"hosts": list(s["hosts"]), "depends_on": list(s["deps"]),
                              "cluster": s["cluster"]}
        return {"hosts": hosts, "services": services}

    def transitive_dependents(self, svc: str):
        """BFS over reverse dependencies: {dependent: (distance, via)} where via is
        the dependency of `dependent` on the path to `svc`."""
        out = {}
        frontier = [(svc, 0)]
        while frontier:
            nxt = []
            for cur, d in frontier:
                for dep in self.dependents[cur]:
                    if dep not in out and dep != svc:
                        out[dep] = (d + 1, cur)
                        nxt.append((dep, d + 1))
            frontier = nxt
        return out


# --------------------------------------------------------------------------
# alerting rules (as a real team's rule files would have them)
# --------------------------------------------------------------------------

GROUP_INTERVALS = {  # rule group -> evaluation interval (s)
    "node-exporter": 30, "host": 15, "targets": 30, "http": 15, "slo": 60, "edge": 15,
    "datastores": 30, "workers": 60, "blackbox": 60, "batch": 60, "cluster": 30,
}

RB = "https://runbooks.example.com"
WIKI = "https://wiki.example.com/ops/runbooks"

# name: (group, for_s, severity, expr, summary, description, runbook_url or None, (vlo, vhi))
RULES = {
    "TargetDown": ("targets", 60, "warning", 'up{job!~"node|.+-node"} == 0',
                   "Target {instance} of job {job} is down",
                   "Prometheus has failed to scrape {job}/{instance} for more than a minute.",
                   RB + "/prometheus/target-down", (0, 0)),
    "HostDown": ("host", 60, "critical", 'up{job=~".+-node"} == 0',
                 "Host {host} is down",
                 "node_exporter on {instance} (service {service}) has been unreachable for 1 minute.",
                 RB + "/infra/host-down", (0, 0)),
    "NodeDown": ("node-exporter", 60, "critical", 'up{job="node"} == 0',
                 "Node {host} unreachable",
                 "{instance} is unreachable: the node_exporter scrape has been failing for 1m.",
                 WIKI + "/NodeDown", (0, 0)),
    "HostOutOfDiskSpace": ("host", 120, "critical",
                           '(node_filesystem_avail_bytes{fstype!~"tmpfs|overlay"} / node_filesystem_size_bytes) * 100 < 5 and on (instance, device, mountpoint) node_filesystem_readonly == 0',
                           "Host {host} is out of disk space on {mountpoint}",
                           "Filesystem {mountpoint} ({device}) on {instance} has {value:.1f}% free space left.",
                           RB + "/infra/host-out-of-disk-space", (0.2, 4.9)),
    "NodeFilesystemAlmostOutOfSpace": ("node-exporter", 180, "critical",
                                       '(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 3 and node_filesystem_readonly{job="node",fstype!=""} == 0)',
                                       "Filesystem has less than 3% space left.",
                                       "Filesystem on {device}, mounted on {mountpoint}, at {instance} has only {value:.2f}% available space left.",
                                       WIKI + "/NodeFilesystemAlmostOutOfSpace", (0.1, 2.9)),
    "HostOutOfMemory": ("host", 120, "warning",
                        'node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100 < 5',
                        "Host {host} is out of memory",
                        "Only {value:.1f}% of memory is available on {instance}.",
                        RB + "/infra/host-out-of-memory", (0.5, 4.9)),
    "NodeMemoryHighUtilization": ("node-exporter", 120, "warning",
                                  '100 - (node_memory_MemAvailable_bytes{job="node"} / node_memory_MemTotal_bytes{job="node"} * 100) > 95',
                                  "Host is running out of memory.",
                                  "Memory is filling up at {instance}, has been above 95% for the last 2 minutes, is currently at {value:.1f}%.",
                                  WIKI + "/NodeMemoryHighUtilization", (95.2, 99.8)),
    "HostOomKillDetected": ("host", 0, "warning", 'increase(node_vmstat_oom_kill[1m]) > 0',
                            "OOM kill detected on {host}",
                            "The kernel OOM killer terminated a process on {instance}.",
                            RB + "/infra/oom-kill", (1, 3)),
    "NodeOOMKillDetected": ("node-exporter", 0, "warning", 'increase(node_vmstat_oom_kill{job="node"}[5m]) > 0',
                            "OOM kill detected.",
                            "{value:.0f} OOM kill(s) detected on {instance} in the last 5 minutes.",
                            WIKI + "/NodeOOMKillDetected", (1, 4)),
    "HostHighCpuLoad": ("host", 300, "warning",
                        '100 - (avg by (instance, job, service, cluster) (rate(node_cpu_seconds_total{mode="idle"}[2m])) * 100) > 90',
                        "High CPU load on {host}",
                        "CPU usage on {instance} has been above 90% for 5 minutes (now {value:.0f}%).",
                        RB + "/infra/high-cpu", (90.5, 99.5)),
    "NodeCPUHighUsage": ("node-exporter", 300, "info",
                         'sum without(mode) (avg without (cpu) (rate(node_cpu_seconds_total{job="node", mode!="idle"}[2m]))) * 100 > 90',
                         "High CPU usage.",
                         "CPU usage at {instance} has been above 90% for the last 5 minutes, is currently at {value:.1f}%.",
                         None, (90.2, 99.9)),
    "HostClockSkew": ("host", 120, "warning",
                      '(node_timex_offset_seconds > 0.05 and deriv(node_timex_offset_seconds[5m]) >= 0) or (node_timex_offset_seconds < -0.05 and deriv(node_timex_offset_seconds[5m]) <= 0)',
                      "Clock skew on {host}",
                      "Clock on {instance} is out of sync by {value:.3f}s. Ensure NTP is configured correctly.",
                      RB + "/infra/clock-skew", (0.051, 0.4)),
    "NodeClockNotSynchronising": ("node-exporter", 300, "warning",
                                  'min_over_time(node_timex_sync_status{job="node"}[5m]) == 0 and node_timex_maxerror_seconds{job="node"} >= 16',
                                  "Clock not synchronising.",
                                  "Clock at {instance} is not synchronising. Ensure NTP is configured on this host.",
                                  WIKI + "/NodeClockNotSynchronising", (0, 0)),
    "HostDiskWillFillIn24Hours": ("host", 120, "warning",
                                  '(node_filesystem_avail_bytes * 100) / node_filesystem_size_bytes < 10 and predict_linear(node_filesystem_avail_bytes{fstype!~"tmpfs"}[1h], 24 * 3600) < 0',
                                  "Disk on {host} will fill within 24 hours",
                                  "Filesystem {mountpoint} on {instance} is predicted to run out of space within 24 hours at the current write rate.",
                                  RB + "/infra/disk-will-fill", (0, 0)),
    "NodeFilesystemSpaceFillingUp": ("node-exporter", 300, "warning",
                                     '(node_filesystem_avail_bytes{job="node",fstype!=""} / node_filesystem_size_bytes{job="node",fstype!=""} * 100 < 15 and predict_linear(node_filesystem_avail_bytes{job="node",fstype!=""}[6h], 24*60*60) < 0)',
                                     "Filesystem is predicted to run out of space within the next 24 hours.",
                                     "Filesystem on {device}, mounted on {mountpoint}, at {instance} has only {value:.2f}% available space left and is filling up.",
                                     WIKI + "/NodeFilesystemSpaceFillingUp", (5, 14.9)),
    "HostRequiresReboot": ("host", 0, "info", 'node_reboot_required > 0',
                           "{host} requires a reboot",
                           "Kernel or library updates on {instance} are waiting for a reboot.",
                           None, (0, 0)),
    "NodeEdacCorrectableErrors": ("node-exporter", 0, "info", 'increase(node_edac_correctable_errors_total{job="node"}[5m]) > 0',
                                  "EDAC correctable errors detected.",
                                  "{instance} has had {value:.0f} correctable memory errors reported by EDAC in the last 5 minutes.",
                                  None, (1, 12)),
    "HostNetworkReceiveErrors": ("host", 120, "warning",
                                 'rate(node_network_receive_errs_total[2m]) / rate(node_network_receive_packets_total[2m]) > 0.01',
                                 "Network receive errors on {host}",
                                 "{instance} interface eth0 has encountered {value:.1%} receive errors in the last two minutes.",
                                 RB + "/infra/network-errors", (0.011, 0.09)),
    "NodeNetworkReceiveErrs": ("node-exporter", 120, "warning",
                               'rate(node_network_receive_errs_total{job="node"}[2m]) / rate(node_network_receive_packets_total{job="node"}[2m]) > 0.01',
                               "Network interface is reporting many receive errors.",
                               "{instance} interface eth0 has encountered {value:.0f} receive errors in the last two minutes.",
                               WIKI + "/NodeNetworkReceiveErrs", (40, 900)),
    "ClusterNetworkDegraded": ("cluster", 60, "critical",
                               'avg by (cluster) (probe_success{job="blackbox-icmp"}) < 0.8',
                               "Network degraded inside cluster {cluster}",
                               "Only {value:.0%} of ICMP probes between hosts of {cluster} succeed; the cluster fabric is dropping packets.",
                               RB + "/network/cluster-degraded", (0.2, 0.79)),
    # --- HTTP services
    "HighHTTP5xxRate": ("http", 120, "critical",
                        'sum by (job, instance, service, cluster) (rate(http_requests_total{code=~"5.."}[2m])) / sum by (job, instance, service, cluster) (rate(http_requests_total[2m])) > 0.05',
                        "High 5xx rate on {service} ({instance})",
                        "{value:.1%} of requests served by {instance} fail with a 5xx status.",
                        RB + "/http/high-5xx-rate", (0.051, 0.6)),
    "HighRequestLatency": ("http", 180, "warning",
                           'histogram_quantile(0.99, sum by (le, job, instance, service, cluster) (rate(http_request_duration_seconds_bucket[5m]))) > 1',
                           "p99 latency above 1s on {instance}",
                           "99th percentile request latency of {service} on {instance} is {value:.2f}s.",
                           RB + "/http/high-latency", (1.05, 9.0)),
    "UpstreamConnectErrors": ("http", 60, "warning",
                              'sum by (job, instance, service, cluster, upstream) (rate(upstream_connect_errors_total[1m])) > 1',
                              "{service} cannot reach {upstream}",
                              "{instance} reports {value:.1f} connection errors per second towards {upstream}.",
                              RB + "/http/upstream-connect-errors", (1.2, 80)),
    "ProcessRestartLoop": ("http", 0, "warning", 'changes(process_start_time_seconds[15m]) > 2',
                           "{job} on {instance} keeps restarting",
                           "The process behind {instance} restarted {value:.0f} times in the last 15 minutes.",
                           RB + "/process/restart-loop", (3, 9)),
    "APIErrorBudgetBurn": ("slo", 120, "critical",
                           '(sum(rate(http_requests_total{job="api",code=~"5.."}[5m])) / sum(rate(http_requests_total{job="api"}[5m]))) > (14.4 * 0.001)',
                           "API availability error budget is burning fast",
                           "The api 5xx ratio over 5m is {value:.2%}, burning the 30-day error budget more than 14x faster than sustainable.",
                           RB + "/slo/api-availability", (0.015, 0.4)),
    "APILatencySLOBreach": ("slo", 300, "warning",
                            'histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[5m]))) > 0.5',
                            "API p95 latency SLO breached",
                            "p95 latency of the public API is {value:.2f}s (objective 0.5s).",
                            RB + "/slo/api-latency", (0.52, 6.0)),
    "AuthLoginFailureSpike": ("http", 60, "warning",
                              'sum(rate(auth_login_failures_total{reason!="bad_credentials"}[5m])) > 5',
                              "Login failures spiking on auth",
                              "{value:.1f} logins per second fail for reasons other than bad credentials.",
                              RB + "/auth/login-failures", (5.2, 120)),
    "AuthTokenValidationErrors": ("http", 60, "critical",
                                  'sum(rate(auth_token_validation_errors_total[2m])) > 1',
                                  "Token validation failing on auth",
                                  "auth rejects {value:.1f} tokens per second with validation errors (JWKS / signing key problem?).",
                                  RB + "/auth/token-validation", (1.5, 60)),
    "FrontendSSRErrors": ("http", 120, "warning",
                          'sum by (job, instance, service, cluster) (rate(ssr_render_errors_total[2m])) > 0.5',
                          "Server-side rendering errors on {instance}",
                          "The web frontend on {instance} fails {value:.1f} renders per second.",
                          None, (0.6, 30)),
    # --- edge
    "HaproxyHighHttp5xxRate": ("edge", 60, "critical",
                               'sum by (job, instance, service, cluster, backend) (rate(haproxy_backend_http_responses_total{code="5xx"}[1m])) / sum by (job, instance, service, cluster, backend) (rate(haproxy_backend_http_responses_total[1m])) > 0.05',
                               "HAProxy high HTTP 5xx rate on backend {backend}",
                               "{value:.1%} of responses from backend {backend} seen by {instance} are 5xx.",
                               RB + "/haproxy/high-5xx", (0.051, 0.9)),
    "HaproxyServerDown": ("edge", 60, "critical", 'haproxy_server_status{state="DOWN"} == 1',
                          "HAProxy server {server} down in backend {backend}",
                          "{instance} marks server {server} of backend {backend} as DOWN after failed health checks.",
                          RB + "/haproxy/server-down", (0, 0)),
    "HaproxyBackendResponseTimeHigh": ("edge", 120, "warning",
                                       'avg by (job, instance, service, cluster, backend) (haproxy_backend_response_time_average_seconds) > 1',
                                       "HAProxy backend {backend} responds slowly",
                                       "Average response time of backend {backend} seen by {instance} is {value:.2f}s.",
                                       RB + "/haproxy/slow-backend", (1.02, 12)),
    "HaproxyFrontendSessionsHigh": ("edge", 120, "warning",
                                    'haproxy_frontend_current_sessions / haproxy_frontend_limit_sessions > 0.9',
                                    "HAProxy frontend close to its session limit",
                                    "Frontend https on {instance} uses {value:.0%} of its session limit.",
                                    RB + "/haproxy/sessions-limit", (0.9, 1.0)),
    "BlackboxProbeFailed": ("blackbox", 60, "critical", 'probe_success{job="blackbox-http"} == 0',
                            "Probe {instance} failing",
                            "The HTTP probe of {instance} has failed for more than a minute.",
                            RB + "/blackbox/probe-failed", (0, 0)),
    "CertificateExpiringSoon": ("blackbox", 300, "warning",
                                'probe_ssl_earliest_cert_expiry{job="blackbox-tls"} - time() < 86400 * 21',
                                "TLS certificate for {domain} expires in {value:.0f} days",
                                "The certificate served on {instance} expires in {value:.1f} days; renewal via cert-manager seems stuck.",
                                RB + "/blackbox/cert-expiry", (18, 20.9)),
    # --- workers / batch
    "WorkerJobFailureRateHigh": ("workers", 300, "warning",
                                 'sum by (job, service, cluster) (rate(jobs_failed_total[5m])) / sum by (job, service, cluster) (rate(jobs_processed_total[5m])) > 0.1',
                                 "{service}: more than 10% of jobs fail",
                                 "{value:.1%} of jobs processed by {service} failed in the last 5 minutes.",
                                 RB + "/workers/job-failures", (0.11, 0.95)),
    "WorkerJobDurationHigh": ("workers", 300, "warning",
                              'histogram_quantile(0.9, sum by (le, job, instance, service, cluster) (rate(job_duration_seconds_bucket[10m]))) > 60',
                              "Jobs on {instance} are slow",
                              "p90 job duration on {instance} is {value:.0f}s.",
                              None, (61, 900)),
    "MailerSmtpSendFailures": ("workers", 120, "critical",
                               'sum by (job, service, cluster) (rate(mailer_smtp_send_failures_total[5m])) > 0.5',
                               "Mailer cannot hand mail to the SMTP relay",
                               "{value:.1f} messages per second fail at the SMTP relay.",
                               RB + "/mailer/smtp-failures", (0.6, 40)),
    "MailerOutboxBacklog": ("workers", 300, "warning",
                            'sum by (job, service, cluster) (mailer_outbox_pending) > 5000',
                            "Mailer outbox backlog growing",
                            "{value:.0f} messages are waiting in the mailer outbox.",
                            None, (5100, 90000)),
    "ReportGenerationFailed": ("batch", 0, "warning",
                               'increase(report_runs_total{status="failed"}[15m]) > 0',
                               "Report generation failing",
                               "{value:.0f} report runs failed in the last 15 minutes.",
                               RB + "/reports/generation-failed", (1, 14)),
    "BatchJobDurationHigh": ("batch", 300, "warning",
                             'max by (job, service, cluster) (time() - report_run_started_timestamp_seconds{state="running"}) > 1800',
                             "Report run exceeds 30 minutes",
                             "The current report run has been running for {value:.0f}s.",
                             None, (1810, 7200)),
    "CronJobFailed": ("batch", 0, "warning", 'cronjob_last_run_success == 0',
                      "Cron job {cronjob} failed",
                      "The last run of {cronjob} on {instance} exited non-zero.",
                      RB + "/batch/cronjob-failed", (0, 0)),
    # --- data stores
    "PostgresqlBackupFailed": ("datastores", 0, "warning", 'pgbackrest_last_backup_status != 0',
                               "PostgreSQL backup failed on {host}",
                               "The last pgBackRest backup on {instance} failed.",
                               RB + "/postgres/backup-failed", (0, 0)),
    "RabbitmqMemoryAlarm": ("datastores", 0, "critical", 'rabbitmq_alarms_memory_used_watermark == 1',
                            "RabbitMQ memory alarm on {host}",
                            "RabbitMQ node {instance} reached its memory high watermark; publishers are blocked.",
                            RB + "/rabbitmq/memory-alarm", (0, 0)),
    "RabbitmqDiskAlarm": ("datastores", 0, "critical", 'rabbitmq_alarms_free_disk_space_watermark == 1',
                          "RabbitMQ disk alarm on {host}",
                          "RabbitMQ node {instance} is below its free disk limit; publishers are blocked.",
                          RB + "/rabbitmq/disk-alarm", (0, 0)),
    "RabbitmqNodeDown": ("datastores", 60, "critical", 'sum by (job, service, cluster) (rabbitmq_build_info) < 3',
                         "RabbitMQ cluster is missing nodes",
                         "Only {value:.0f} of 3 RabbitMQ nodes are running.",
                         RB + "/rabbitmq/node-down", (1, 2)),
    "RabbitmqNetworkPartition": ("datastores", 60, "critical", 'max by (job, service, cluster) (rabbitmq_partitions) > 0',
                                 "RabbitMQ network partition",
                                 "RabbitMQ nodes report {value:.0f} partition(s); queues may be unavailable.",
                                 RB + "/rabbitmq/partition", (1, 2)),
    "RabbitmqQueueBacklog": ("datastores", 300, "warning",
                             'sum by (job, service, cluster, queue) (rabbitmq_queue_messages_ready) > 10000',
                             "Queue {queue} backlog growing",
                             "{value:.0f} messages are ready but not consumed in {queue}.",
                             RB + "/rabbitmq/backlog", (10100, 400000)),
    "RedisDown": ("datastores", 0, "critical", 'redis_up == 0',
                  "Redis down on {host}",
                  "redis_exporter on {instance} cannot connect to Redis.",
                  RB + "/redis/down", (0, 0)),
    "RedisMemoryHigh": ("datastores", 120, "warning", 'redis_memory_used_bytes / redis_memory_max_bytes > 0.9',
                        "Redis memory nearly full on {host}",
                        "Redis on {instance} uses {value:.0%} of maxmemory.",
                        RB + "/redis/memory", (0.9, 1.0)),
    "RedisRejectedConnections": ("datastores", 0, "critical", 'increase(redis_rejected_connections_total[1m]) > 0',
                                 "Redis rejects connections on {host}",
                                 "{value:.0f} connections were rejected by {instance} in the last minute.",
                                 RB + "/redis/rejected-connections", (1, 800)),
    "RedisReplicationBroken": ("datastores", 60, "critical", 'delta(redis_connected_slaves[1m]) < 0 or redis_master_link_up == 0',
                               "Redis replication broken",
                               "Redis on {instance} lost its replication link.",
                               RB + "/redis/replication", (0, 0)),
    "RedisCommandLatencyHigh": ("datastores", 120, "warning",
                                'rate(redis_commands_duration_seconds_total[1m]) / rate(redis_commands_processed_total[1m]) > 0.005',
                                "Redis commands slow on {host}",
                                "Average command latency on {instance} is {value:.1f}ms.",
                                None, (5.1, 90)),
    "RedisPersistenceFailing": ("datastores", 60, "warning", 'redis_rdb_last_bgsave_status == 0',
                                "Redis cannot persist to disk on {host}",
                                "The last RDB save on {instance} failed.",
                                RB + "/redis/persistence", (0, 0)),
    "ElasticsearchClusterRed": ("datastores", 0, "critical", 'elasticsearch_cluster_health_status{color="red"} == 1',
                                "Elasticsearch cluster is RED",
                                "Primary shards are unassigned in the search cluster; some indices are unavailable.",
                                RB + "/elasticsearch/cluster-red", (0, 0)),
    "ElasticsearchClusterYellow": ("datastores", 120, "warning", 'elasticsearch_cluster_health_status{color="yellow"} == 1',
                                   "Elasticsearch cluster is YELLOW",
                                   "Replica shards are unassigned in the search cluster.",
                                   RB + "/elasticsearch/cluster-yellow", (0, 0)),
    "ElasticsearchHeapUsageHigh": ("datastores", 120, "warning",
                                   'elasticsearch_jvm_memory_used_bytes{area="heap"} / elasticsearch_jvm_memory_max_bytes{area="heap"} > 0.9',
                                   "Elasticsearch heap usage high on {host}",
                                   "JVM heap on {instance} is {value:.0%} full; long GC pauses expected.",
                                   RB + "/elasticsearch/heap", (0.9, 0.99)),
    "ElasticsearchDiskWatermarkReached": ("datastores", 60, "critical",
                                          '(1 - elasticsearch_filesystem_data_available_bytes / elasticsearch_filesystem_data_size_bytes) > 0.95',
                                          "Elasticsearch flood-stage disk watermark on {host}",
                                          "Disk on {instance} is {value:.0%} used; indices on this node are read-only.",
                                          RB + "/elasticsearch/disk-watermark", (0.95, 0.999)),
    "ElasticsearchSearchLatencyHigh": ("datastores", 180, "warning",
                                       'sum by (job, service, cluster) (rate(elasticsearch_indices_search_query_time_seconds[5m])) / sum by (job, service, cluster) (rate(elasticsearch_indices_search_query_total[5m])) > 0.5',
                                       "Search queries are slow",
                                       "Average query time in the search cluster is {value:.2f}s.",
                                       None, (0.51, 8)),
    "PostgresqlDown": ("datastores", 0, "critical", 'pg_up == 0',
                       "PostgreSQL down on {host}",
                       "postgres_exporter on {instance} cannot connect to PostgreSQL.",
                       RB + "/postgres/down", (0, 0)),
    "PostgresqlTooManyConnections": ("datastores", 120, "warning",
                                     'sum by (job, instance, service, cluster) (pg_stat_activity_count) > on (job, instance, service, cluster) pg_settings_max_connections * 0.9',
                                     "PostgreSQL close to max_connections on {host}",
                                     "{instance} uses {value:.0%} of max_connections.",
                                     RB + "/postgres/too-many-connections", (0.9, 1.0)),
    "PostgresqlSlowQueries": ("datastores", 120, "warning",
                              'avg by (job, instance, service, cluster) (rate(pg_stat_activity_max_tx_duration[2m])) > 60',
                              "Slow queries on {host}",
                              "The longest running transaction on {instance} has been running for {value:.0f}s.",
                              RB + "/postgres/slow-queries", (61, 1800)),
    "PostgresqlReplicationLag": ("datastores", 60, "critical",
                                 'pg_replication_lag_seconds{role="replica"} > 30',
                                 "PostgreSQL replica {host} is lagging",
                                 "Replication lag on {instance} is {value:.0f}s.",
                                 RB + "/postgres/replication-lag", (31, 3600)),
    "PostgresqlReplicationSlotLag": ("datastores", 300, "warning",
                                     'pg_replication_slots_pg_wal_lsn_diff > 1e9',
                                     "Replication slot retaining WAL on {host}",
                                     "A replication slot on {instance} retains {value:.1f} GB of WAL.",
                                     None, (1.1, 40)),
    "MinioDiskOffline": ("datastores", 0, "critical", 'minio_node_disk_offline_total > 0',
                         "MinIO disk {disk} offline on {host}",
                         "MinIO on {instance} reports disk {disk} offline.",
                         RB + "/minio/disk-offline", (0, 0)),
    "MinioNodesOffline": ("datastores", 60, "critical", 'max by (job, service, cluster) (minio_cluster_nodes_offline_total) > 0',
                          "MinIO nodes offline",
                          "{value:.0f} MinIO node(s) are offline; erasure sets are degraded.",
                          RB + "/minio/nodes-offline", (1, 1)),
    "MinioS3ErrorRateHigh": ("datastores", 120, "warning",
                             'sum by (job, service, cluster) (rate(minio_s3_requests_errors_total[5m])) / sum by (job, service, cluster) (rate(minio_s3_requests_total[5m])) > 0.05',
                             "MinIO S3 error rate high",
                             "{value:.1%} of S3 requests to the object store fail.",
                             RB + "/minio/s3-errors", (0.051, 0.7)),
    "MinioRequestLatencyHigh": ("datastores", 180, "warning",
                                'histogram_quantile(0.99, sum by (le, job, service, cluster) (rate(minio_s3_requests_ttfb_seconds_distribution_bucket[5m]))) > 2',
                                "MinIO requests slow",
                                "p99 time to first byte of S3 requests is {value:.1f}s.",
                                None, (2.1, 30)),
    "MinioDiskLatencyHigh": ("datastores", 120, "warning",
                             'minio_node_disk_latency_us{api="storage.WriteAll"} > 200000',
                             "MinIO disk {disk} slow on {host}",
                             "Write latency of disk {disk} on {instance} is {value:.0f}us.",
                             None, (200500, 2e6)),
}

# service-name specific rule for a generic symptom
SVC_LEVEL_ERRORS = {"api": "APIErrorBudgetBurn", "auth": "AuthLoginFailureSpike"}
SVC_LEVEL_LATENCY = {"api": "APILatencySLOBreach"}

# --------------------------------------------------------------------------
# Alertmanager configuration (routing tree and receivers)
# --------------------------------------------------------------------------

GROUP_WAIT = 30 * SEC
GROUP_INTERVAL = 5 * MIN
REPEAT_INTERVAL = 4 * 60 * MIN

RECEIVERS = {
    # name: (send_resolved, max_alerts)   -- all webhook_configs pointing at altlas
    "altlas-default": (True, 4),
    "altlas-infra": (True, 0),
    "altlas-pager": (True, 0),
    "altlas-slack": (True, 8),
    "altlas-tickets": (False, 5),
}
TICKET_ALERTS = ("CronJobFailed|PostgresqlBackupFailed|CertificateExpiringSoon|HostDiskWillFillIn24Hours|"
                 "NodeFilesystemSpaceFillingUp|HostRequiresReboot|NodeEdacCorrectableErrors|HostOomKillDetected|"
                 "NodeOOMKillDetected|ReportGenerationFailed|BatchJobDurationHigh|WorkerJobDurationHigh|"
                 "MailerOutboxBacklog|RabbitmqQueueBacklog|PostgresqlSlowQueries|PostgresqlReplicationSlotLag")


def _route(matcher, label, rx, receiver, group_by):
    return {"key": "{}/{%s}" % matcher, "label": label, "re": re.compile(rx), "receiver": receiver,
            "group_by": group_by}


ROUTES = [  # first match wins (continue: false)
    _route('alertname=~"%s"' % TICKET_ALERTS, "alertname", "(?:%s)" % TICKET_ALERTS, "altlas-tickets",
           ["alertname", "service"]),
    _route('job=~"node|.+-node"', "job", r"(?:node|.+-node)", "altlas-infra", ["alertname", "cluster"]),
    _route('alertname=~"TargetDown|BlackboxProbeFailed"', "alertname", r"(?:TargetDown|BlackboxProbeFailed)",
           "altlas-default", ["alertname"]),
    _route('severity="critical"', "severity", r"critical", "altlas-pager", ["alertname", "cluster", "service"]),
    _route('severity="warning"', "severity", r"warning", "altlas-slack", ["alertname", "cluster", "service"]),
]
ROOT_ROUTE = {"key": "{}", "receiver": "altlas-default", "group_by": ["alertname"]}


def match_route(labels):
    for r in ROUTES:
        if r["re"].fullmatch(labels.get(r["label"], "")):
            return r
    return ROOT_ROUTE


# --------------------------------------------------------------------------
# alert definitions (label sets)
# --------------------------------------------------------------------------


class AlertDef:
    __slots__ = ("rule", "labels", "ctx", "fp")

    def __init__(self, rule, labels, ctx):
        self.rule = rule
        self.labels = labels
        self.ctx = ctx
        self.fp = fingerprint(labels)


def _mk(rule, series, ctx):
    grp, for_s, sev, expr, summ, desc, rb, vr = RULES[rule]
    labels = dict(EXTERNAL_LABELS)
    labels.update(series)
    labels["alertname"] = rule
    labels["severity"] = sev
    c = dict(ctx)
    for k, v in labels.items():
        c.setdefault(k, v)
    return AlertDef(rule, labels, c)


class Alerts:
    """Builds label sets the way the scrape configs and rules would."""

    def __init__(self, fleet: Fleet):
        self.f = fleet

    def inst(self, rule, svc, host, **extra):
        s = self.f.svc[svc]
        series = {"job": s["job"], "instance": "%s:%d" % (host, s["port"]), "service": svc,
                  "cluster": s["cluster"], "team": s["team"]}
        if svc in ("postgres", "cache"):
            series["role"] = "primary" if host == s["hosts"][0] else "replica"
        series.update(extra)
        return _mk(rule, series, {"host": host})

    def svc_level(self, rule, svc, **extra):
        s = self.f.svc[svc]
        series = {"job": s["job"], "service": svc, "cluster": s["cluster"], "team": s["team"]}
        if rule == "APIErrorBudgetBurn":
            series["slo"] = "availability"
        series.update(extra)
        return _mk(rule, series, {"host": svc})

    def host(self, kind, host, svc_filter=None, **extra):
        """Host alerts; kind in down/disk/memory/oomkill/cpu/clock/diskfill/reboot/edac/neterr.
        Per-service node jobs produce one alert per service running on the host."""
        per = self.f.host_mode[host] == "per_service"
        names = {
            "down": ("HostDown", "NodeDown"), "disk": ("HostOutOfDiskSpace", "NodeFilesystemAlmostOutOfSpace"),
            "memory": ("HostOutOfMemory", "NodeMemoryHighUtilization"),
            "oomkill": ("HostOomKillDetected", "NodeOOMKillDetected"),
            "cpu": ("HostHighCpuLoad", "NodeCPUHighUsage"), "clock": ("HostClockSkew", "NodeClockNotSynchronising"),
            "diskfill": ("HostDiskWillFillIn24Hours", "NodeFilesystemSpaceFillingUp"),
            "reboot": ("HostRequiresReboot", "NodeEdacCorrectableErrors"),
            "edac": ("HostRequiresReboot", "NodeEdacCorrectableErrors"),
            "neterr": ("HostNetworkReceiveErrors", "NodeNetworkReceiveErrs"),
        }[kind]
        rule = names[0] if per else names[1]
        cluster = self.f.host_cluster[host]
        svcs = self.f.hosts[host]
        out = []
        if per:
            for svc in svcs:
                if svc_filter and svc != svc_filter:
                    continue
                series = {"job": "%s-node" % svc, "instance": "%s:9100" % host, "service": svc,
                          "cluster": cluster, "team": "infra"}
                series.update(self._fs(kind, svcs, extra))
                out.append(_mk(rule, series, {"host": host}))
        else:
            series = {"job": "node", "instance": "%s:9100" % host, "cluster": cluster, "team": "infra"}
            series.update(self._fs(kind, svcs, extra))
            out.append(_mk(rule, series, {"host": host}))
        return out

    @staticmethod
    def _fs(kind, svcs, extra):
        if kind not in ("disk", "diskfill"):
            return dict(extra)
        mp = extra.get("mountpoint")
        if mp is None:
            mp, dev, fs = MOUNTS.get(svcs[0], ("/", "/dev/sda1", "ext4"))
        else:
            dev, fs = ("/dev/sda1", "ext4") if mp in ("/", "/var/log") else ("/dev/nvme1n1", "xfs")
        return {"mountpoint": mp, "device": dev, "fstype": fs}

    def cluster(self, rule, cluster):
        return _mk(rule, {"job": "blackbox-icmp", "cluster": cluster, "team": "infra"}, {"host": cluster})

    def probe(self, svc):
        s = self.f.svc[svc]
        dom = DOMAINS.get(svc, "www.example.com")
        return _mk("BlackboxProbeFailed", {"job": "blackbox-http", "instance": "https://%s/healthz" % dom,
                                           "service": svc, "cluster": s["cluster"], "team": s["team"]},
                   {"host": dom})

    def cert(self, svc):
        s = self.f.svc[svc]
        dom = DOMAINS[svc]
        return _mk("CertificateExpiringSoon", {"job": "blackbox-tls", "instance": "%s:443" % dom,
                                               "service": svc, "cluster": s["cluster"], "team": s["team"]},
                   {"host": dom, "domain": dom})


# --------------------------------------------------------------------------
# Prometheus rule evaluation
# --------------------------------------------------------------------------


class Prom:
    def __init__(self, rng: random.Random):
        self.offset = {}
        self.latency = {}
        for g in sorted(GROUP_INTERVALS):
            iv = GROUP_INTERVALS[g] * SEC
            self.offset[g] = rng.randrange(iv)          # evaluation offset from the group's hash
            self.latency[g] = rng.randint(15, 400)      # rule eval + notifier queue to AM

    def first_eval_ge(self, group, t):
        iv = GROUP_INTERVALS[group] * SEC
        off = self.offset[group]
        k = -((off - t) // iv)   # ceil((t - off) / iv)
        return off + k * iv

    def fire(self, rule, c0, c1):
        """(active_at, fired_at, resolved_at) for a condition true on [c0, c1), or None
        if no evaluation sees it long enough (pending alerts are never sent)."""
        grp, for_s = RULES[rule][0], RULES[rule][1]
        a0 = self.first_eval_ge(grp, c0)
        if a0 >= c1:
            return None
        fired = self.first_eval_ge(grp, a0 + for_s * SEC)
        if fired >= c1:
            return None
        return a0, fired, self.first_eval_ge(grp, c1)


# --------------------------------------------------------------------------
# world planning: faults, symptoms, noise
# --------------------------------------------------------------------------

# service fault types: (name, causes, dependents effect (kind, strength) or None)
# cause entries: (rule, target, prob, extra) target: all/one/primary/replica/svc/probe/queue
SERVICE_FAULTS = {
    "edge": [
        ("edge_config_error", [("HaproxyHighHttp5xxRate", "all", 1.0, {"backend": "web"}),
                               ("BlackboxProbeFailed", "probe", 0.8, {}),
                               ("HaproxyHighHttp5xxRate", "all", 0.5, {"backend": "api"})], None),
        ("edge_session_limit", [("HaproxyFrontendSessionsHigh", "all", 1.0, {}),
                                ("HaproxyBackendResponseTimeHigh", "all", 0.5, {"backend": "api"})], None),
    ],
    "web": [
        ("bad_deploy", [("HighHTTP5xxRate", "all", 1.0, {}), ("FrontendSSRErrors", "all", 0.6, {})], ("errors", 0.8)),
        ("memory_leak", [("ProcessRestartLoop", "all", 1.0, {}), ("HighRequestLatency", "all", 0.5, {})], ("errors", 0.6)),
    ],
    "api": [
        ("bad_deploy", [("HighHTTP5xxRate", "all", 1.0, {}), ("APIErrorBudgetBurn", "svc", 0.8, {})], ("errors", 0.85)),
        ("thread_pool_exhaustion", [("HighRequestLatency", "all", 1.0, {}), ("APILatencySLOBreach", "svc", 0.6, {})],
         ("latency", 0.75)),
        ("crashloop", [("ProcessRestartLoop", "all", 1.0, {}), ("TargetDown", "one", 0.5, {})], ("errors", 0.7)),
    ],
    "auth": [
        ("bad_deploy", [("HighHTTP5xxRate", "all", 1.0, {}), ("AuthLoginFailureSpike", "svc", 0.7, {})], ("errors", 0.85)),
        ("signing_key_rotation", [("AuthTokenValidationErrors", "svc", 1.0, {}), ("HighHTTP5xxRate", "one", 1.0, {})],
         ("errors", 0.8)),
    ],
    "worker": [
        ("consumers_stuck", [("WorkerJobFailureRateHigh", "svc", 1.0, {}), ("WorkerJobDurationHigh", "all", 1.0, {}),
                             ("RabbitmqQueueBacklog", "queue", 0.7, {"queue": "jobs.default"})], None),
        ("crashloop", [("ProcessRestartLoop", "all", 1.0, {}), ("WorkerJobFailureRateHigh", "svc", 0.6, {})], None),
    ],
    "mailer": [
        ("smtp_relay_failing", [("MailerSmtpSendFailures", "svc", 1.0, {}), ("MailerOutboxBacklog", "svc", 1.0, {}),
                                ("RabbitmqQueueBacklog", "queue", 0.5, {"queue": "mail.outbound"})], None),
    ],
    "reports": [
        ("report_job_failing", [("ReportGenerationFailed", "svc", 1.0, {}), ("BatchJobDurationHigh", "svc", 1.0, {})], None),
    ],
    "queue": [
        ("memory_alarm", [("RabbitmqMemoryAlarm", "all", 1.0, {}),
                          ("RabbitmqQueueBacklog", "svc", 0.6, {"queue": "jobs.default"})], ("errors", 0.8)),
        ("network_partition", [("RabbitmqNetworkPartition", "svc", 1.0, {}), ("RabbitmqNodeDown", "svc", 1.0, {})],
         ("errors", 0.6)),
    ],
    "cache": [
        ("maxmemory", [("RedisMemoryHigh", "primary", 1.0, {}), ("RedisRejectedConnections", "primary", 1.0, {})],
         ("latency", 0.7)),
        ("redis_down", [("RedisDown", "primary", 1.0, {}), ("RedisReplicationBroken", "replica", 1.0, {})],
         ("errors", 0.85)),
    ],
    "search": [
        ("cluster_red", [("ElasticsearchClusterRed", "svc", 1.0, {}), ("ElasticsearchHeapUsageHigh", "one", 1.0, {}),
                         ("ElasticsearchSearchLatencyHigh", "svc", 0.6, {})], ("errors", 0.6)),
        ("heap_pressure", [("ElasticsearchHeapUsageHigh", "all", 1.0, {}),
                           ("ElasticsearchSearchLatencyHigh", "svc", 0.8, {})], ("latency", 0.5)),
    ],
    "postgres": [
        ("connection_exhaustion", [("PostgresqlTooManyConnections", "primary", 1.0, {}),
                                   ("PostgresqlSlowQueries", "primary", 1.0, {})], ("errors", 0.85)),
        ("primary_down", [("PostgresqlDown", "primary", 1.0, {}), ("PostgresqlReplicationLag", "replica", 1.0, {})],
         ("errors", 0.9)),
        ("replication_lag", [("PostgresqlReplicationLag", "replica", 1.0, {}),
                             ("PostgresqlReplicationSlotLag", "primary", 1.0, {})], ("latency", 0.3)),
    ],
    "objstore": [
        ("disk_offline", [("MinioDiskOffline", "one", 1.0, {"disk": "/data2"}), ("MinioS3ErrorRateHigh", "svc", 1.0, {})],
         ("errors", 0.6)),
        ("slow_disks", [("MinioRequestLatencyHigh", "svc", 1.0, {}), ("MinioDiskLatencyHigh", "one", 1.0, {"disk": "/data1"})],
         ("latency", 0.55)),
    ],
}

# effects on a service instance hit by a host-level cause: tmpl -> kind -> [(rule, scope, prob)]
# scope: inst (that instance), svc (service level), primary/replica (other instance)
HOST_EFFECTS = {
    "down": {
        "http": [("TargetDown", "inst", 0.95)], "haproxy": [("TargetDown", "inst", 0.95)],
        "worker": [("TargetDown", "inst", 0.95)], "batch": [("TargetDown", "inst", 0.95)],
        "rabbitmq": [("TargetDown", "inst", 0.9), ("RabbitmqNodeDown", "svc", 0.8)],
        "redis": [("TargetDown", "inst", 0.9), ("RedisReplicationBroken", "replica_if_primary", 0.9)],
        "elasticsearch": [("TargetDown", "inst", 0.9), ("ElasticsearchClusterYellow", "svc", 0.85)],
        "postgres": [("TargetDown", "inst", 0.9), ("PostgresqlReplicationLag", "replica_if_primary", 0.9)],
        "minio": [("TargetDown", "inst", 0.9), ("MinioNodesOffline", "svc", 0.9)],
    },
    "disk": {
        "http": [("HighHTTP5xxRate", "inst", 0.6), ("ProcessRestartLoop", "inst", 0.3)],
        "haproxy": [("ProcessRestartLoop", "inst", 0.4)],
        "worker": [("WorkerJobFailureRateHigh", "svc", 0.5), ("ProcessRestartLoop", "inst", 0.3)],
        "batch": [("ReportGenerationFailed", "svc", 0.6)],
        "rabbitmq": [("RabbitmqDiskAlarm", "inst", 0.95)],
        "redis": [("RedisPersistenceFailing", "inst", 0.85)],
        "elasticsearch": [("ElasticsearchDiskWatermarkReached", "inst", 0.95), ("ElasticsearchClusterYellow", "svc", 0.5)],
        "postgres": [("PostgresqlDown", "inst_if_primary", 0.7), ("PostgresqlReplicationLag", "inst_if_replica", 0.85)],
        "minio": [("MinioDiskOffline", "inst", 0.85)],
    },
    "memory": {
        "http": [("ProcessRestartLoop", "inst", 0.8), ("HighRequestLatency", "inst", 0.4)],
        "haproxy": [("ProcessRestartLoop", "inst", 0.8)],
        "worker": [("ProcessRestartLoop", "inst", 0.8)], "batch": [("ProcessRestartLoop", "inst", 0.8)],
        "rabbitmq": [("RabbitmqMemoryAlarm", "inst", 0.8)],
        "redis": [("RedisDown", "inst", 0.5), ("RedisMemoryHigh", "inst", 0.4)],
        "elasticsearch": [("ElasticsearchHeapUsageHigh", "inst", 0.6), ("TargetDown", "inst", 0.3)],
        "postgres": [("PostgresqlDown", "inst", 0.5), ("PostgresqlSlowQueries", "inst", 0.4)],
        "minio": [("ProcessRestartLoop", "inst", 0.6)],
    },
}

# what a dependent service shows when a dependency misbehaves: tmpl -> kind -> [(rule, scope, prob)]
DEP_EFFECTS = {
    "http": {"errors": [("UpstreamConnectErrors", "inst", 0.55), ("HighHTTP5xxRate", "inst", 0.5),
                        ("SVC_ERRORS", "svc", 0.45)],
             "latency": [("HighRequestLatency", "inst", 0.6), ("SVC_LATENCY", "svc", 0.4)]},
    "haproxy": {"errors": [("HaproxyHighHttp5xxRate", "inst", 0.6), ("BLACKBOX", "probe", 0.35)],
                "latency": [("HaproxyBackendResponseTimeHigh", "inst", 0.6)]},
    "worker": {"errors": [("WorkerJobFailureRateHigh", "svc", 0.7), ("UpstreamConnectErrors", "inst", 0.4)],
               "latency": [("WorkerJobDurationHigh", "inst", 0.6)]},
    "batch": {"errors": [("ReportGenerationFailed", "svc", 0.7)], "latency": [("BatchJobDurationHigh", "svc", 0.6)]},
}
MAILER_DEP = {"errors": [("MailerOutboxBacklog", "svc", 0.6), ("UpstreamConnectErrors", "inst", 0.4)],
              "latency": [("MailerOutboxBacklog", "svc", 0.5)]}

# a symptom in a cluster-wide network fault, per template (rule, scope)
CLUSTER_EFFECT = {
    "http": [("HighRequestLatency", "inst"), ("HighHTTP5xxRate", "inst"), ("TargetDown", "inst")],
    "haproxy": [("HaproxyBackendResponseTimeHigh@web", "inst"), ("TargetDown", "inst")],
    "worker": [("WorkerJobDurationHigh", "inst"), ("TargetDown", "inst")],
    "batch": [("BatchJobDurationHigh", "svc"), ("TargetDown", "inst")],
    "rabbitmq": [("RabbitmqNetworkPartition", "svc"), ("TargetDown", "inst")],
    "redis": [("RedisCommandLatencyHigh", "inst"), ("RedisReplicationBroken", "inst"), ("TargetDown", "inst")],
    "elasticsearch": [("ElasticsearchSearchLatencyHigh", "svc"), ("ElasticsearchClusterYellow", "svc"), ("TargetDown", "inst")],
    "postgres": [("PostgresqlSlowQueries", "inst"), ("PostgresqlReplicationLag", "replica"), ("TargetDown", "inst")],
    "minio": [("MinioRequestLatencyHigh", "svc"), ("MinioNodesOffline", "svc"), ("TargetDown", "inst")],
}

MARGIN = 4 * MIN   # two conditions on one label set must be this far apart to be distinct


class Registry:
    """Conditions per label set, kept non-overlapping."""

    def __init__(self):
        self.by_fp = {}
        self.defs = {}

    def free(self, a: AlertDef, c0, c1):
        for s, e, _g in self.by_fp.get(a.fp, ()):
            if c0 < e + MARGIN and s < c1 + MARGIN:
                return False
        return True

    def add(self, a: AlertDef, c0, c1, group):
        if c1 <= c0 or not self.free(a, c0, c1):
            return False
        self.by_fp.setdefault(a.fp, []).append((c0, c1, group))
        self.defs[a.fp] = a
        return True


class Planner:
    def __init__(self, rng, fleet, alerts, prom, registry):
        self.rng = rng
        self.f = fleet
        self.A = alerts
        self.prom = prom
        self.reg = registry

    # ---- helpers
    def _u(self, lo_min, hi_min):
        return int(self.rng.uniform(lo_min, hi_min) * MIN)

    def _pieces(self, c0, c1, flap_p):
        """Split a symptom window into flapping pieces sometimes."""
        if self.rng.random() >= flap_p or c1 - c0 < 14 * MIN:
            return [(c0, c1)]
        n = self.rng.choice([2, 2, 3])
        out = []
        cur = c0
        span = (c1 - c0) // n
        for i in range(n):
            end = c1 if i == n - 1 else cur + int(span * self.rng.uniform(0.45, 0.8))
            out.append((cur, end))
            cur = end + MARGIN + self._u(0.2, 2)
            if cur >= c1 - 3 * MIN:
                break
        return out

    def _inst_targets(self, svc, target, crng):
        hosts = self.f.svc[svc]["hosts"]
        if target == "all":
            return list(hosts)
        if target == "one":
            return [crng.choice(hosts)]
        if target == "primary":
            return [hosts[0]]
        if target == "replica":
            return [hosts[1]]
        raise ValueError(target)

    def _defs_for(self, rule, svc, target, extra, crng):
        if target == "svc":
            return [self.A.svc_level(rule, svc, **extra)]
        if target == "probe":
            return [self.A.probe(svc)]
        if target == "queue":
            return [self.A.svc_level(rule, "queue", **extra)]
        return [self.A.inst(rule, svc, h, **extra) for h in self._inst_targets(svc, target, crng)]

    # ---- fault planning: returns (cause conds, required conds, optional conds)
    # a cond is (AlertDef, c0, c1)
    def plan_fault(self, kind, cause, ftype, F, R, crng):
        rng = self.rng
        required, optional = [], []

        def cause_window():
            return F + self._u(0, 1.0), R + self._u(0, 1.0)

        def symptom_window(d, lag=0.0):
            c0 = F + self._u(0.3 + 0.6 * (d - 1) + lag, min(3.5 + 1.2 * (d - 1) + lag, 6.0))
            c1 = R + self._u(0.5, 3 + d)
            return c0, c1

        if kind == "service":
            causes = dict((n, (c, e)) for n, c, e in SERVICE_FAULTS[cause])[ftype]
            causes, effect = causes
            for rule, target, p, extra in causes:
                for a in self._defs_for(rule, cause, target, extra, crng):
                    if p >= 1.0:
                        required.append((a,) + cause_window())
                    elif rng.random() < p:
                        c0, c1 = symptom_window(1)
                        optional.append((a, c0, c1))
            if effect:
                optional += self._dependents(cause, effect[0], effect[1], F, R, symptom_window)
        elif kind == "host":
            host = cause
            svcs = self.f.hosts[host]
            hk = {"host_down": "down", "disk_full": "disk", "oom": "memory"}[ftype]
            extra = {}
            if hk == "disk":
                svc0 = svcs[0]
                if svc0 in MOUNTS:
                    extra = {"mountpoint": MOUNTS[svc0][0]}
                else:
                    extra = {"mountpoint": crng.choice(["/", "/var/log"])}
            for a in self.A.host(hk, host, **extra):
                required.append((a,) + cause_window())
            if hk == "memory":
                for a in self.A.host("oomkill", host):
                    if rng.random() < 0.85:
                        # OOM kills happen in bursts: short windows
                        t = F + self._u(0.5, 3)
                        while t < R:
                            optional.append((a, t, t + self._u(1, 2.5)))
                            t += self._u(6, 20)
            first_req_done = len(required) >= 2
            for svc in svcs:
                tmpl = self.f.svc[svc]["tmpl"]
                hosts = self.f.svc[svc]["hosts"]
                is_primary = svc in ("postgres", "cache") and host == hosts[0]
                is_replica = svc in ("postgres", "cache") and host != hosts[0]
                for rule, scope, p in HOST_EFFECTS[hk][tmpl]:
                    if scope == "inst":
                        a = self.A.inst(rule, svc, host)
                    elif scope == "svc":
                        a = self.A.svc_level(rule, svc)
                    elif scope == "replica_if_primary":
                        if not is_primary:
                            continue
                        a = self.A.inst(rule, svc, hosts[1])
                    elif scope == "inst_if_primary":
                        if not is_primary:
                            continue
                        a = self.A.inst(rule, svc, host)
                    elif scope == "inst_if_replica":
                        if not is_replica:
                            continue
                        a = self.A.inst(rule, svc, host)
                    else:
                        raise ValueError(scope)
                    if not first_req_done:
                        c0, c1 = F + self._u(0.2, 1.5), R + self._u(0.2, 2)
                        required.append((a, c0, c1))
                        first_req_done = True
                    elif rng.random() < p:
                        c0, c1 = symptom_window(1, lag=-0.2)
                        if hk == "memory" and rule in ("ProcessRestartLoop", "TargetDown", "RedisDown", "PostgresqlDown"):
                            for piece in self._pieces(c0, c1, 0.5):
                                optional.append((a,) + piece)
                        else:
                            optional.append((a, c0, c1))
                # edge sees its backend servers go down
                if hk == "down" and svc in ("web", "api"):
                    for eh in self.f.svc["edge"]["hosts"]:
                        if rng.random() < 0.9:
                            a = self.A.inst("HaproxyServerDown", "edge", eh, backend=svc, server=host)
                            c0, c1 = symptom_window(1)
                            optional.append((a, c0, c1))
                # dependents of the services on that host
                single_point = is_primary
                strength = {"down": 0.85 if single_point else 0.3, "disk": 0.45 if svc in DATA_TIER else 0.25,
                            "memory": 0.5 if single_point else 0.25}[hk]
                ekind = "latency" if hk == "memory" else "errors"
                optional += self._dependents(svc, ekind, strength, F, R, symptom_window)
            if not first_req_done:
                # a lone generic node target: guarantee a second alert from its service
                a = self.A.inst("TargetDown", svcs[0], host)
                required.append((a, F + self._u(0.2, 1.5), R + self._u(0.2, 2)))
        elif kind == "cluster":
            cl = cause
            required.append((self.A.cluster("ClusterNetworkDegraded", cl),) + cause_window())
            members = [s for s in self.f.svc if self.f.svc[s]["cluster"] == cl]
            first = True
            for svc in members:
                tmpl = self.f.svc[svc]["tmpl"]
                hosts = self.f.svc[svc]["hosts"]
                hit = first or rng.random() < 0.75
                if not hit:
                    continue
                for rule, scope in CLUSTER_EFFECT[tmpl]:
                    if scope == "svc":
                        defs = [self.A.svc_level(rule, svc)]
                    elif scope == "replica":
                        defs = [self.A.inst(rule, svc, hosts[1])]
                    elif "@" in rule:
                        rule, backend = rule.split("@")
                        defs = [self.A.inst(rule, svc, h, backend=backend) for h in hosts]
                    else:
                        defs = [self.A.inst(rule, svc, h) for h in hosts]
                    for a in defs:
                        if first:
                            required.append((a, F + self._u(0.3, 2), R + self._u(0.5, 3)))
                            first = False
                        elif rng.random() < (0.45 if rule == "TargetDown" else 0.5):
                            c0, c1 = symptom_window(1)
                            optional.append((a, c0, c1))
                for h in hosts:
                    if rng.random() < 0.25:
                        for a in self.A.host("neterr", h):
                            c0, c1 = symptom_window(1)
                            optional.append((a, c0, c1))
                outside = {d: v for d, v in self.f.transitive_dependents(svc).items()
                           if self.f.svc[d]["cluster"] != cl}
                for d, (dist, via) in sorted(outside.items()):
                    if rng.random() < 0.5 * (0.5 ** (dist - 1)):
                        optional += self._dependent_service(d, via, "errors", dist, F, R, symptom_window)
        else:
            raise ValueError(kind)
        return required, optional

    def _dependents(self, svc, ekind, strength, F, R, symptom_window):
        out = []
        for d, (dist, via) in sorted(self.f.transitive_dependents(svc).items()):
            if self.rng.random() < strength * (0.55 ** (dist - 1)):
                out += self._dependent_service(d, via, ekind, dist, F, R, symptom_window)
        return out

    def _dependent_service(self, d, via, ekind, dist, F, R, symptom_window):
        rng = self.rng
        tmpl = self.f.svc[d]["tmpl"]
        table = MAILER_DEP if d == "mailer" else DEP_EFFECTS[tmpl]
        out = []
        for rule, scope, p in table[ekind]:
            if rule == "SVC_ERRORS":
                rule = SVC_LEVEL_ERRORS.get(d)
            elif rule == "SVC_LATENCY":
                rule = SVC_LEVEL_LATENCY.get(d)
            if rule is None:
                continue
            if scope == "svc":
                defs = [self.A.svc_level(rule, d)]
            elif scope == "probe":
                defs = [self.A.probe(d)]
            else:
                extra = {}
                if rule == "UpstreamConnectErrors":
                    extra = {"upstream": via}
                elif rule.startswith("Haproxy"):
                    extra = {"backend": via}
                defs = [self.A.inst(rule, d, h, **extra) for h in self.f.svc[d]["hosts"]]
            for a in defs:
                if rng.random() < p:
                    c0, c1 = symptom_window(dist)
                    for piece in self._pieces(c0, c1, 0.12):
                        out.append((a,) + piece)
        return out

    # ---- noise: returns list of (AlertDef, c0, c1) occurrences of one label set
    def plan_noise(self, t, horizon):
        rng = self.rng
        f = self.f
        hosts = sorted(f.hosts)
        kinds = [("cert", 2), ("cron", 4), ("pgbackup", 2), ("cpu", 10), ("clock", 4), ("diskfill", 5),
                 ("reboot", 3), ("edac", 2), ("latency_blip", 10), ("deploy_restart", 6), ("redis_mem", 4),
                 ("pg_slow", 5), ("es_heap", 4), ("mail_burst", 4), ("repl_lag", 3), ("oomkill", 3),
                 ("probe_flake", 3), ("upstream_blip", 4), ("restart_loop", 3), ("minio_lat", 2)]
        tot = sum(w for _k, w in kinds)
        x = rng.random() * tot
        for kind, w in kinds:
            x -= w
            if x < 0:
                break
        dur = None
        series = None     # list of start offsets for recurring jobs
        if kind == "cert":
            a = self.A.cert(rng.choice(sorted(DOMAINS)))
            dur = self._u(120, 600)
        elif kind == "cron":
            a = self.A.inst("CronJobFailed", "reports", rng.choice(f.svc["reports"]["hosts"]),
                            cronjob=rng.choice(["export-invoices", "rebuild-search-index", "cleanup-sessions",
                                                "sync-crm-contacts"]))
            dur = self._u(15, 70)
            series = True
        elif kind == "pgbackup":
            a = self.A.inst("PostgresqlBackupFailed", "postgres", "pg-2")
            dur = self._u(20, 90)
            series = True
        elif kind in ("cpu", "clock", "diskfill", "reboot", "edac", "oomkill"):
            host = rng.choice(hosts)
            hk = kind
            extra = {}
            if kind == "diskfill":
                extra = {"mountpoint": rng.choice(["/", "/var/log", MOUNTS.get(f.hosts[host][0], ("/",))[0]])}
            a = rng.choice(self.A.host(hk, host, **extra))
            dur = {"cpu": self._u(5.5, 16), "clock": self._u(8, 45), "diskfill": self._u(60, 400),
                   "reboot": self._u(120, 700), "edac": self._u(1, 6), "oomkill": self._u(1, 2.5)}[kind]
        elif kind == "latency_blip":
            svc = rng.choice(["web", "api", "auth"])
            a = self.A.inst("HighRequestLatency", svc, rng.choice(f.svc[svc]["hosts"]))
            dur = self._u(4, 11)
        elif kind == "deploy_restart":
            svc = rng.choice(["web", "api", "auth", "worker", "mailer", "edge"])
            a = self.A.inst("TargetDown", svc, rng.choice(f.svc[svc]["hosts"]))
            dur = self._u(1.2, 4)
        elif kind == "restart_loop":
            svc = rng.choice(["web", "api", "worker", "reports"])
            a = self.A.inst("ProcessRestartLoop", svc, rng.choice(f.svc[svc]["hosts"]))
            dur = self._u(2, 15)
        elif kind == "redis_mem":
            a = self.A.inst("RedisMemoryHigh", "cache", rng.choice(f.svc["cache"]["hosts"]))
            dur = self._u(5, 60)
        elif kind == "pg_slow":
            a = self.A.inst("PostgresqlSlowQueries", "postgres", rng.choice(f.svc["postgres"]["hosts"]))
            dur = self._u(4, 25)
        elif kind == "es_heap":
            a = self.A.inst("ElasticsearchHeapUsageHigh", "search", rng.choice(f.svc["search"]["hosts"]))
            dur = self._u(4, 20)
        elif kind == "mail_burst":
            a = self.A.svc_level("RabbitmqQueueBacklog", "queue", queue="mail.outbound")
            dur = self._u(8, 45)
        elif kind == "repl_lag":
            a = self.A.inst("PostgresqlReplicationLag", "postgres", "pg-2")
            dur = self._u(2, 9)
        elif kind == "probe_flake":
            a = self.A.probe(rng.choice(["edge", "web", "api"]))
            dur = self._u(1.5, 4)
        elif kind == "upstream_blip":
            svc = rng.choice(["web", "api", "auth", "worker"])
            up = rng.choice(f.svc[svc]["deps"])
            a = self.A.inst("UpstreamConnectErrors", svc, rng.choice(f.svc[svc]["hosts"]), upstream=up)
            dur = self._u(1.5, 6)
        elif kind == "minio_lat":
            a = self.A.svc_level("MinioRequestLatencyHigh", "objstore")
            dur = self._u(4, 15)
        else:
            raise ValueError(kind)
        out = [(a, t, t + dur)]
        if series:
            t2 = t
            for _ in range(rng.choice([1, 2, 3])):
                t2 += self._u(120, 300)
                if t2 >= horizon:
                    break
                out.append((a, t2, t2 + self._u(15, 70)))
        elif rng.random() < 0.22:
            t2 = t + dur + self._u(90, 300)
            if t2 < horizon:
                out.append((a, t2, t2 + max(dur // 2, 2 * MIN) + self._u(0, 10)))
        return out


# --------------------------------------------------------------------------
# Alertmanager simulation
# --------------------------------------------------------------------------


def _labels_before(a, b):
    """model.LabelSet.Before."""
    if len(a) < len(b):
        return True
    if len(a) > len(b):
        return False
    for ln in sorted(list(a) + list(b)):
        if ln not in a:
            return True
        if ln not in b:
            return False
        if a[ln] < b[ln]:
            return True
        if a[ln] > b[ln]:
            return False
    return False


def _alert_cmp(x, y):
    """alert.AlertSlice.Less: by job, then instance, then labels."""
    a, b = x["labels"], y["labels"]
    for k in ("job", "instance"):
        ia, ib = k in a, k in b
        if not ia and not ib:
            continue
        if not ia:
            return 1
        if not ib:
            return -1
        if a[k] != b[k]:
            return -1 if a[k] < b[k] else 1
    if _labels_before(a, b):
        return -1
    if _labels_before(b, a):
        return 1
    return 0


def _labelset_string(ls):
    return "{" + ", ".join("%s=%s" % (k, json.dumps(ls[k])) for k in sorted(ls)) + "}"


class Alertmanager:
    def __init__(self, horizon):
        self.horizon = horizon
        self.provider = {}     # fp -> alert record
        self.groups = {}       # (route key, group fp) -> ag
        self.nflog = {}        # (groupKey, receiver) -> (firing, resolved, ts)
        self.events = []
        self.seq = 0
        self.deliveries = []
        self.routing = {}

    def push(self, t, prio, kind, data):
        self.seq += 1
        heapq.heappush(self.events, (t, prio, self.seq, kind, data))

    def put(self, now, upd):
        """provider/mem Put with alert.Merge, then dispatch to the aggregation group."""
        fp = upd["fp"]
        old = self.provider.get(fp)
        new = dict(upd)
        if old is not None:
            if (old["startsAt"] < new["endsAt"] < old["endsAt"]) or \
                    (old["startsAt"] < new["startsAt"] < old["endsAt"]):
                res = dict(new)
                if old["startsAt"] < new["startsAt"]:
                    res["startsAt"] = old["startsAt"]
                    res["occ"] = old["occ"]
                if new["endsAt"] <= now:
                    if old["endsAt"] <= now and old["endsAt"] > new["endsAt"]:
                        res["endsAt"] = old["endsAt"]
                elif old["endsAt"] > new["endsAt"]:
                    res["endsAt"] = old["endsAt"]
                new = res
        self.provider[fp] = new
        routed = self.routing.get(fp)
        if routed is None:   # routing depends on the labels only
            route = match_route(new["labels"])
            glabels = {k: new["labels"][k] for k in route["group_by"] if k in new["labels"]}
            routed = self.routing[fp] = (route, glabels, (route["key"], fingerprint(glabels)))
        route, glabels, gkey = routed
        ag = self.groups.get(gkey)
        if ag is None:
            ag = {"route": route, "labels": glabels,
                  "key": "%s:%s" % (route["key"], _labelset_string(glabels)), "store": {}}
            self.groups[gkey] = ag
            ag["gid"] = gkey
            ag["store"][fp] = new
            if new["startsAt"] + GROUP_WAIT < now:
                self.push(now, 1, "flush", ag)        # old enough for immediate flush
            else:
                self.push(now + GROUP_WAIT, 1, "flush", ag)
        else:
            ag["store"][fp] = new

    def flush(self, now, ag):
        if self.groups.get(ag["gid"]) is not ag:
            return
        self.push(now + GROUP_INTERVAL, 1, "flush", ag)   # resetTimer(group_interval)
        route = ag["route"]
        receiver = route["receiver"]
        send_resolved, max_alerts = RECEIVERS[receiver]
        alerts = []
        for fp, rec in ag["store"].items():
            resolved = rec["endsAt"] <= now
            alerts.append({"fp": fp, "rec": rec, "labels": rec["labels"], "resolved": resolved})
        alerts.sort(key=functools.cmp_to_key(_alert_cmp))
        firing = frozenset(a["fp"] for a in alerts if not a["resolved"])
        resolved = frozenset(a["fp"] for a in alerts if a["resolved"])
        nkey = (ag["key"], receiver)
        entry = self.nflog.get(nkey)
        if entry is not None and entry[2] + 2 * REPEAT_INTERVAL < now:
            entry = None                                  # nflog entry expired
        # notify/dedup_stage.go needsUpdate
        if entry is None:
            notify = len(firing) > 0
        elif not firing <= entry[0]:
            notify = True
        elif not firing:
            notify = len(entry[0]) > 0
        elif send_resolved and not resolved <= entry[1]:
            notify = True
        else:
            notify = entry[2] < now - REPEAT_INTERVAL
        if notify:
            sent = alerts if send_resolved else [a for a in alerts if not a["resolved"]]
            if sent:
                truncated = 0
                if max_alerts and len(sent) > max_alerts:
                    truncated = len(sent) - max_alerts
                    sent = sent[:max_alerts]
                self.deliveries.append((now, self._payload(ag, receiver, sent, truncated), sent))
            self.nflog[nkey] = (firing, resolved, now)
        # the flush succeeded: delete resolved alerts, destroy the group if empty
        for fp in resolved:
            del ag["store"][fp]
        if not ag["store"]:
            del self.groups[ag["gid"]]

    @staticmethod
    def _payload(ag, receiver, sent, truncated):
        out_alerts = []
        for a in sent:
            rec = a["rec"]
            out_alerts.append({
                "status": "resolved" if a["resolved"] else "firing",
                "labels": {k: rec["labels"][k] for k in sorted(rec["labels"])},
                "annotations": {k: rec["annotations"][k] for k in sorted(rec["annotations"])},
                "startsAt": fmt_ts(rec["startsAt"]),
                "endsAt": fmt_ts(rec["endsAt"]) if a["resolved"] else ZERO_TIME,
                "generatorURL": rec["generatorURL"],
                "fingerprint": a["fp"],
            })
        common_l = dict(out_alerts[0]["labels"])
        common_a = dict(out_alerts[0]["annotations"])
        for x in out_alerts[1:]:
            common_l = {k: v for k, v in common_l.items() if x["labels"].get(k) == v}
            common_a = {k: v for k, v in common_a.items() if x["annotations"].get(k) == v}
        status = "firing" if any(x["status"] == "firing" for x in out_alerts) else "resolved"
        return {
            "receiver": receiver,
            "status": status,
            "alerts": out_alerts,
            "groupLabels": {k: ag["labels"][k] for k in sorted(ag["labels"])},
            "commonLabels": {k: common_l[k] for k in sorted(common_l)},
            "commonAnnotations": {k: common_a[k] for k in sorted(common_a)},
            "externalURL": AM_URL,
            "version": "4",
            "groupKey": ag["key"],
            "truncatedAlerts": truncated,
        }

    def run(self):
        while self.events:
            t, _p, _s, kind, data = heapq.heappop(self.events)
            if t > self.horizon:
                break
            if kind == "alert":
                self.put(t, data)
            else:
                self.flush(t, data)


# --------------------------------------------------------------------------
# the storm
# --------------------------------------------------------------------------


class _Ctx(dict):
    def __missing__(self, key):
        return "<no value>"      # what Go's text/template prints for a missing label


def _render(a: AlertDef, value):
    grp, for_s, sev, expr, summ, desc, rb, vr = RULES[a.rule]
    ctx = dict(a.ctx)
    ctx["value"] = value
    ann = {"summary": summ.format_map(_Ctx(ctx)), "description": desc.format_map(_Ctx(ctx))}
    if rb:
        ann["runbook_url"] = rb
    return ann


def _generate_once(seed, faults, every_minutes, attempt, rerolls):
    stem = "%s/%d/%s/%d" % (FAMILY, seed, repr(float(every_minutes)), attempt)
    rng = random.Random(stem)
    fleet = Fleet(random.Random("%s/fleet/%d" % (FAMILY, seed)))
    alerts = Alerts(fleet)
    prom = Prom(rng)
    reg = Registry()
    planner = Planner(rng, fleet, alerts, prom, reg)

    t0 = int((datetime(2026, 11, 2, 6, 0, tzinfo=timezone.utc) - EPOCH).total_seconds()) * 1000
    t0 += rng.randrange(0, 6 * 60) * MIN
    every = max(float(every_minutes), 0.25) * MIN

    # ---- fault onsets: a Poisson process, plus recurrences hours later
    n_rec = int(round(faults * 0.15)) if faults >= 4 else 0
    n_base = faults - n_rec
    onsets = []
    t = t0 + planner._u(8, 20)
    for _ in range(n_base):
        onsets.append(t)
        t += max(int(rng.expovariate(1.0 / every)), 20 * SEC)
    fault_specs = []   # dicts
    for i, at in enumerate(onsets):
        fault_specs.append({"at": at, "recur_of": None, "cseed": rng.randrange(1 << 30)})
    for _ in range(n_rec):
        base = rng.randrange(n_base)
        fault_specs.append({"at": onsets[base] + planner._u(90, 300), "recur_of": base, "cseed": None})
    order = sorted(range(len(fault_specs)), key=lambda i: (fault_specs[i]["at"], i))

    clusters = fleet.clusters
    hosts = sorted(fleet.hosts)
    services = list(fleet.svc)

    def choose(crng):
        x = crng.random()
        if x < 0.55:
            svc = crng.choice(services)
            ftype = crng.choice([n for n, _c, _e in SERVICE_FAULTS[svc]])
            return "service", svc, ftype
        if x < 0.93:
            host = crng.choice(hosts)
            return "host", host, crng.choice(["host_down", "host_down", "disk_full", "disk_full", "oom"])
        return "cluster", crng.choice(clusters), "network_degraded"

    # ---- plan causes and required symptoms in onset order, optional symptoms after
    planned = {}      # fault index -> dict
    optional_all = []
    active = {}       # cause -> [(F, R)]: one cause is not broken twice at once
    for idx in order:
        spec = fault_specs[idx]
        F = spec["at"]
        # each fault draws from its own stream so one fault can be re-rolled alone
        frng = random.Random("%s/fault/%d/%d" % (stem, idx, rerolls.get(idx, 0)))
        planner.rng = frng
        dur = int(min(max(math.exp(frng.gauss(math.log(24), 0.55)), 11), 130) * MIN)
        R = F + dur
        src = spec["recur_of"]
        ok = False
        for tries in range(40):
            if src is not None and tries == 0 and not rerolls.get(idx) and "choice" in planned.get(src, {}):
                kind, cause, ftype = planned[src]["choice"]
                cseed = planned[src]["cseed"]
            else:
                cseed = spec["cseed"] if (tries == 0 and spec["cseed"] is not None and not rerolls.get(idx)) \
                    else frng.randrange(1 << 30)
                kind, cause, ftype = choose(random.Random(cseed))
            if any(F < r + 15 * MIN and f0 < R + 15 * MIN for f0, r in active.get(cause, ())):
                continue
            required, optional = planner.plan_fault(kind, cause, ftype, F, R, random.Random(cseed + 7))
            if all(reg.free(a, c0, c1) for a, c0, c1 in required) and \
                    len({a.fp for a, _c0, _c1 in required}) == len(required):
                ok = True
                break
        if not ok:
            raise RuntimeError("could not place fault")
        for a, c0, c1 in required:
            reg.add(a, c0, c1, idx)
        planned[idx] = {"choice": (kind, cause, ftype), "cseed": cseed, "F": F, "R": R}
        active.setdefault(cause, []).append((F, R))
        optional_all.append((idx, optional))
    for idx, optional in optional_all:
        for a, c0, c1 in optional:
            reg.add(a, c0, c1, idx)
    nrng = random.Random(stem + "/noise")
    planner.rng = nrng

    horizon = max(p["R"] for p in planned.values()) + 45 * MIN
    horizon = max(horizon, max(p["F"] for p in planned.values()) + 60 * MIN)

    # ---- noise: about a third of all occurrences
    fault_fired = 0
    for fp, conds in reg.by_fp.items():
        rule = reg.defs[fp].rule
        for c0, c1, g in conds:
            if prom.fire(rule, c0, c1):
                fault_fired += 1
    target = int(round(fault_fired * 0.5 * 1.06))
    noise_fired = 0
    noise_id = 0
    guard = 0
    while noise_fired < target and guard < target * 30 + 100:
        guard += 1
        t = t0 + int(nrng.random() * (horizon - 10 * MIN - t0))
        occs = planner.plan_noise(t, horizon)
        for a, c0, c1 in occs:
            if noise_fired >= target:
                break
            if not prom.fire(a.rule, c0, c1):
                continue
            if reg.add(a, c0, c1, "noise-%d" % (noise_id + 1)):
                noise_id += 1
                noise_fired += 1

    # ---- an Alertmanager outage seen by Prometheus (sends fail): sometimes
    outage = None
    if rng.random() < 0.35:
        s = t0 + int(rng.random() * (horizon - t0 - 30 * MIN))
        outage = (s, s + planner._u(5, 12))

    # ---- Prometheus: occurrences and sends
    vrng = random.Random(stem + "/values")
    am = Alertmanager(horizon)
    occurrences = {}   # (fp, startsAt) -> occurrence dict
    for fp in sorted(reg.by_fp):
        a = reg.defs[fp]
        grp = RULES[a.rule][0]
        iv = GROUP_INTERVALS[grp] * SEC
        valid = 4 * max(iv, RESEND_DELAY)
        lat = prom.latency[grp]
        conds = sorted(reg.by_fp[fp])
        fired_list = []
        for c0, c1, g in conds:
            fr = prom.fire(a.rule, c0, c1)
            if fr:
                fired_list.append((fr, g))
        gen_url = PROM_URL + "/graph?g0.expr=%s&g0.tab=1" % quote_plus(RULES[a.rule][3])
        vlo, vhi = RULES[a.rule][7]
        for i, ((a0, fired, res), g) in enumerate(fired_list):
            nxt_a0 = fired_list[i + 1][0][0] if i + 1 < len(fired_list) else None
            value = vrng.uniform(vlo, vhi) if vhi else 1
            occ = {"fp": fp, "labels": a.labels, "annotations": _render(a, value), "startsAt": fired,
                   "endsAt": res, "group": g}
            occurrences[(fp, fired)] = occ
            base = {"fp": fp, "labels": a.labels, "annotations": occ["annotations"], "generatorURL": gen_url,
                    "startsAt": fired, "occ": (fp, fired)}
            sends = []
            last = fired
            sends.append((fired, fired + valid))
            tt = fired + iv
            while tt < res and tt <= horizon:
                if tt > last + RESEND_DELAY:
                    sends.append((tt, tt + valid))
                    last = tt
                tt += iv
            if res <= horizon:
                sends.append((res, res))
                last = res
                tt = res + iv
                while tt - res <= RESOLVED_RETENTION and tt <= horizon and (nxt_a0 is None or tt < nxt_a0):
                    if tt > last + RESEND_DELAY:
                        sends.append((tt, res))
                        last = tt
                    tt += iv
            for ts, ends in sends:
                if outage and outage[0] <= ts < outage[1]:
                    continue
                upd = dict(base)
                upd["endsAt"] = ends
                am.push(ts + lat, 0, "alert", upd)
    am.run()

    # ---- truth from what was delivered
    deliveries = []
    seen = {}
    for at, payload, sent in am.deliveries:
        deliveries.append({"at": fmt_ts(at), "payload": payload})
        for x in sent:
            key = x["rec"]["occ"]
            seen.setdefault(key, []).append("resolved" if x["resolved"] else "firing")
    truth_alerts = []
    fault_names = {}
    for rank, idx in enumerate(order):
        fault_names[idx] = "fault-%d" % (rank + 1)
    noise_names = {}
    for key in sorted(seen, key=lambda k: (occurrences[k]["startsAt"], k[0])):
        occ = occurrences[key]
        g = occ["group"]
        if isinstance(g, int):
            gname = fault_names[g]
        else:
            if g not in noise_names:
                noise_names[g] = "noise-%d" % (len(noise_names) + 1)
            gname = noise_names[g]
        truth_alerts.append({
            "fingerprint": occ["fp"],
            "startsAt": fmt_ts(occ["startsAt"]),
            "endsAt": fmt_ts(occ["endsAt"]) if occ["endsAt"] <= horizon else None,
            "labels": {k: occ["labels"][k] for k in sorted(occ["labels"])},
            "annotations": {k: occ["annotations"][k] for k in sorted(occ["annotations"])},
            "group": gname,
        })
    truth_faults = {}
    for idx in order:
        kind, cause, ftype = planned[idx]["choice"]
        truth_faults[fault_names[idx]] = {"cause": cause, "kind": kind, "at": fmt_ts(planned[idx]["F"]),
                                          "type": ftype}
    doc = {
        "_fault_index": {fault_names[idx]: idx for idx in order},
        "storm": 1,
        "family": FAMILY,
        "seed": seed,
        "faults": faults,
        "every_minutes": float(every_minutes),
        "policy": fleet.policy(),
        "deliveries": deliveries,
        "truth": {"alerts": truth_alerts, "faults": truth_faults},
    }
    return doc


def generate(seed: int, faults: int, every_minutes: float) -> dict:
    """A fault left with fewer than two delivered occurrences (a symptom truncated away
    by max_alerts, or a re-fire swallowed by the notification log) is re-rolled alone."""
    last = None
    for attempt in range(4):
        rerolls = {}
        for _round in range(10):
            doc = _generate_once(seed, faults, every_minutes, attempt, rerolls)
            index = doc.pop("_fault_index")
            problems = _fault_problems(doc)
            if not problems:
                return doc
            last = problems
            for p in problems:
                idx = index.get(p.split()[0])
                if idx is not None:
                    rerolls[idx] = rerolls.get(idx, 0) + 1
    raise RuntimeError("could not generate a valid storm: %s" % last[:3])


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CLUSTER_RE = re.compile(r"^[A-Za-z0-9_-]+$")
NODE_JOB_RE = re.compile(r"^(?:node|.+-node)$")


def _on_cause(labels, kind, cause):
    if kind == "service":
        return labels.get("service") == cause and not NODE_JOB_RE.match(labels.get("job", ""))
    if kind == "host":
        inst = labels.get("instance", "")
        return inst.rsplit(":", 1)[0] == cause if ":" in inst else inst == cause
    if kind == "cluster":
        return labels.get("cluster") == cause
    return False


def _fault_problems(doc):
    problems = []
    by_group = {}
    for a in doc["truth"]["alerts"]:
        by_group.setdefault(a["group"], []).append(a)
    if len(doc["truth"]["faults"]) != doc["faults"]:
        problems.append("fault count %d != %d" % (len(doc["truth"]["faults"]), doc["faults"]))
    for name, f in doc["truth"]["faults"].items():
        occ = by_group.get(name, [])
        if len(occ) < 2:
            problems.append("%s has %d occurrences" % (name, len(occ)))
        elif not any(_on_cause(a["labels"], f["kind"], f["cause"]) for a in occ):
            problems.append("%s has no alert on its cause %s" % (name, f["cause"]))
    return problems


def check(doc) -> tuple[list, dict]:
    errs = []
    pol = doc["policy"]
    hosts = pol.get("hosts", {})
    svcs = pol.get("services", {})
    for h, v in hosts.items():
        if not NAME_RE.match(h):
            errs.append("bad host name %r" % h)
        if v.get("env") not in ("prod", "staging", "dev"):
            errs.append("bad env for %s" % h)
    for s, v in svcs.items():
        if not NAME_RE.match(s):
            errs.append("bad service name %r" % s)
        for h in v.get("hosts", []):
            if h not in hosts:
                errs.append("service %s on unknown host %s" % (s, h))
        for d in v.get("depends_on", []):
            if d not in svcs:
                errs.append("service %s depends on unknown %s" % (s, d))
        if "cluster" in v and not CLUSTER_RE.match(v["cluster"]):
            errs.append("bad cluster %r" % v["cluster"])
    # cycles
    state = {}

    def visit(n, stack):
        if state.get(n) == 1:
            errs.append("dependency cycle through %s" % n)
            return
        if state.get(n) == 2:
            return
        state[n] = 1
        for d in svcs[n].get("depends_on", []):
            if d in svcs:
                visit(d, stack + [n])
        state[n] = 2
    for n in svcs:
        visit(n, [])

    truth = {}
    for a in doc["truth"]["alerts"]:
        key = (a["fingerprint"], a["startsAt"])
        if key in truth:
            errs.append("duplicate truth occurrence %s" % (key,))
        truth[key] = a
        if fingerprint(a["labels"]) != a["fingerprint"]:
            errs.append("truth fingerprint mismatch %s" % a["fingerprint"])
        if a["endsAt"] is not None and parse_ts(a["endsAt"]) < parse_ts(a["startsAt"]):
            errs.append("truth endsAt before startsAt %s" % (key,))
        if not (a["group"].startswith("fault-") or a["group"].startswith("noise-")):
            errs.append("bad group %s" % a["group"])
        elif a["group"].startswith("fault-") and a["group"] not in doc["truth"]["faults"]:
            errs.append("group of unknown fault %s" % a["group"])
    seen = {}
    resolved_seen = {}
    last_at = None
    required = ("version", "groupKey", "truncatedAlerts", "status", "receiver", "groupLabels",
                "commonLabels", "commonAnnotations", "externalURL", "alerts")
    for i, d in enumerate(doc["deliveries"]):
        at = parse_ts(d["at"])
        if last_at is not None and at < last_at:
            errs.append("delivery %d out of order" % i)
        last_at = at
        p = d["payload"]
        for k in required:
            if k not in p:
                errs.append("delivery %d lacks %s" % (i, k))
        if p.get("version") != "4":
            errs.append("delivery %d version %r" % (i, p.get("version")))
        if p.get("status") not in ("firing", "resolved"):
            errs.append("delivery %d status %r" % (i, p.get("status")))
        if not isinstance(p.get("truncatedAlerts"), int) or p["truncatedAlerts"] < 0:
            errs.append("delivery %d truncatedAlerts" % i)
        if not p.get("alerts"):
            errs.append("delivery %d has no alerts" % i)
            continue
        any_firing = False
        for a in p["alerts"]:
            for k in ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"):
                if k not in a:
                    errs.append("delivery %d alert lacks %s" % (i, k))
            if a["status"] not in ("firing", "resolved"):
                errs.append("delivery %d alert status %r" % (i, a["status"]))
            if fingerprint(a["labels"]) != a["fingerprint"] or not re.fullmatch(r"[0-9a-f]{16}", a["fingerprint"]):
                errs.append("delivery %d fingerprint mismatch %s" % (i, a["fingerprint"]))
            st = parse_ts(a["startsAt"])
            if st > at:
                errs.append("delivery %d carries an alert starting later" % i)
            if a["status"] == "firing":
                any_firing = True
                if a["endsAt"] != ZERO_TIME:
                    errs.append("delivery %d firing alert endsAt %s" % (i, a["endsAt"]))
            else:
                if parse_ts(a["endsAt"]) < st:
                    errs.append("delivery %d resolved alert ends before start" % i)
                if parse_ts(a["endsAt"]) > at:
                    errs.append("delivery %d resolved alert ends after delivery" % i)
            key = (a["fingerprint"], a["startsAt"])
            seen[key] = True
            if a["status"] == "resolved":
                resolved_seen[key] = True
            if key not in truth:
                errs.append("delivery %d occurrence %s not in truth" % (i, key))
            else:
                t = truth[key]
                if t["labels"] != a["labels"]:
                    errs.append("delivery %d labels differ from truth" % i)
        if (p["status"] == "firing") != any_firing:
            errs.append("delivery %d payload status %s inconsistent" % (i, p["status"]))
        gl = p["groupLabels"]
        for a in p["alerts"]:
            for k, v in gl.items():
                if a["labels"].get(k) != v:
                    errs.append("delivery %d alert outside its group labels" % i)
        cl = dict(p["alerts"][0]["labels"])
        for a in p["alerts"][1:]:
            cl = {k: v for k, v in cl.items() if a["labels"].get(k) == v}
        if cl != p["commonLabels"]:
            errs.append("delivery %d commonLabels wrong" % i)
        if not p["groupKey"].endswith(":" + _labelset_string(gl)):
            errs.append("delivery %d groupKey %s does not match groupLabels" % (i, p["groupKey"]))
    for key in truth:
        if key not in seen:
            errs.append("truth occurrence %s never delivered" % (key,))
    errs += _fault_problems(doc)
    for name, f in doc["truth"]["faults"].items():
        if f["kind"] == "service" and f["cause"] not in svcs:
            errs.append("%s cause %s not a policy service" % (name, f["cause"]))
        if f["kind"] == "host" and f["cause"] not in hosts:
            errs.append("%s cause %s not a policy host" % (name, f["cause"]))
        if f["kind"] == "cluster" and f["cause"] not in {v.get("cluster") for v in svcs.values()}:
            errs.append("%s cause %s not a policy cluster" % (name, f["cause"]))

    # summary
    occ = doc["truth"]["alerts"]
    by_fp = {}
    for a in occ:
        by_fp.setdefault(a["fingerprint"], []).append(a)
    refires = sum(len(v) - 1 for v in by_fp.values() if len(v) > 1)
    refire_silent = 0
    for v in by_fp.values():
        v = sorted(v, key=lambda x: parse_ts(x["startsAt"]))
        for prev in v[:-1]:
            if (prev["fingerprint"], prev["startsAt"]) not in resolved_seen:
                refire_silent += 1
    ended_no_resolve = sum(1 for a in occ if a["endsAt"] is not None
                           and (a["fingerprint"], a["startsAt"]) not in resolved_seen)
    kinds = {}
    for f in doc["truth"]["faults"].values():
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    noise = sum(1 for a in occ if a["group"].startswith("noise-"))
    receivers = {}
    for d in doc["deliveries"]:
        receivers[d["payload"]["receiver"]] = receivers.get(d["payload"]["receiver"], 0) + 1
    summary = {
        "alerts": len(by_fp),
        "occurrences": len(occ),
        "deliveries": len(doc["deliveries"]),
        "faults_by_kind": dict(sorted(kinds.items())),
        "noise_share": round(noise / len(occ), 3) if occ else 0.0,
        "refires": refires,
        "refires_without_resolved_notice": refire_silent,
        "occurrences_without_resolved_notice": sum(1 for a in occ if (a["fingerprint"], a["startsAt"])
                                                   not in resolved_seen),
        "ended_without_resolved_notice": ended_no_resolve,
        "still_firing_at_end": sum(1 for a in occ if a["endsAt"] is None),
        "truncated_deliveries": sum(1 for d in doc["deliveries"] if d["payload"]["truncatedAlerts"]),
        "deliveries_by_receiver": dict(sorted(receivers.items())),
        "span_hours": round((parse_ts(doc["deliveries"][-1]["at"]) - parse_ts(doc["deliveries"][0]["at"]))
                            / 3_600_000, 1) if doc["deliveries"] else 0,
    }
    return errs, summary


def main(argv=None):
    ap = argparse.ArgumentParser(description="am_routing alert storm generator")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faults", type=int, default=40)
    ap.add_argument("--every", type=float, default=8.0)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    doc = generate(args.seed, args.faults, args.every)
    if not args.check:
        json.dump(doc, sys.stdout)
        sys.stdout.write("\n")
        return 0
    errs, summary = check(doc)
    line = "seed=%d faults=%d every=%g " % (args.seed, args.faults, args.every)
    line += " ".join("%s=%s" % (k, json.dumps(v, separators=(",", ":"))) for k, v in summary.items())
    print(line)
    if errs:
        for e in errs[:30]:
            print("VIOLATION:", e)
        print("%d violation(s)" % len(errs))
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
