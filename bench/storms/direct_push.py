#!/usr/bin/env python3
"""Alert-storm family ``direct_push``: a home-grown relay posting Alertmanager-shaped webhooks.

The world: 10-14 services on 2-3 hosts each, spread over 2-3 clusters.  Faults are of three
kinds: a service breaks (bad deploy, crash, saturation), a host breaks (down, disk full, memory,
NIC errors, I/O), or a whole cluster's network or DNS goes bad.  Symptoms spread to what depends
on the broken thing, 0-10 minutes after the fault, and stop some minutes after the repair.  About
a third of all alert occurrences are noise (flaky cron jobs, certificates expiring, brief CPU
spikes, GC pauses, rollouts...), on any service or host, including those in a fault's path.

The sender is not Alertmanager.  It is one relay per cluster (plus a central one for blackbox
and meta alerts) that, like the Prometheus -> Alertmanager push described in Prometheus's
"Sending alerts" page ("clients are expected to continuously re-send alerts as long as they are
still active"), posts every firing alert every 60-120 s with ``endsAt`` a few minutes ahead,
moved on at each send (Prometheus's rules/alerting.go: ValidUntil = ts + 4 * max(interval,
resendDelay)).  Unlike Alertmanager it does not group by labels: each POST is a sender-side batch
(up to N alerts, whatever is due), it sends resolved notices only for about half of the alerts
that stop (for the rest it just stops sending and the last endsAt passes), and it sometimes posts
the same payload twice (duplicate batch, retry after a timeout).  Payloads still carry the
Alertmanager webhook v4 shape (receiver, status, alerts, groupLabels, commonLabels,
commonAnnotations, externalURL, version, groupKey, truncatedAlerts) and Alertmanager's
fingerprint (FNV-1a 64 of the sorted label names and values, 0xff after each, as
prometheus/common model.LabelSet.Fingerprint computes it).

Only the Python 3.11 standard library is used; all randomness comes from random.Random objects
seeded from the ``seed`` argument.

    python bench/storms/direct_push.py --seed 1 --faults 40 --every 8 [--check]
"""

# ruff: noqa: E501  (the rule table holds PromQL expressions as written in rule files)
from __future__ import annotations

import argparse
import copy
import json
import math
import random
import re
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

FAMILY = "direct_push"
BASE = datetime(2026, 11, 2, 0, 0, 0, tzinfo=UTC)
MIN_OCC = 150          # seconds: shortest alert occurrence (longer than the longest relay tick)
GAP = 60               # seconds: least quiet time between two occurrences of one label set

# --------------------------------------------------------------------------------------------
# Fingerprint: prometheus/common model.labelSetToFingerprint (FNV-1a 64, 0xff separators)
# --------------------------------------------------------------------------------------------
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_MASK = (1 << 64) - 1


def fingerprint(labels: dict) -> str:
    h = _FNV_OFFSET
    for name in sorted(labels):
        for chunk in (name.encode("utf-8"), labels[name].encode("utf-8")):
            for b in chunk:
                h ^= b
                h = (h * _FNV_PRIME) & _MASK
            h ^= 0xFF
            h = (h * _FNV_PRIME) & _MASK
    return format(h, "016x")


def ts(sec: float) -> str:
    return (BASE + timedelta(seconds=int(sec))).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_ts(s: str) -> datetime:
    if s.endswith("Z"):
        s = s[:-1] + "+00:00"
    return datetime.fromisoformat(s)


# --------------------------------------------------------------------------------------------
# The service catalogue the world is drawn from
# --------------------------------------------------------------------------------------------
# name, archetype, tier, metrics port, team
CATALOG = [
    ("storefront", "http", "edge", 8080, "web"),
    ("api-gateway", "http", "edge", 8443, "platform"),
    ("mobile-bff", "http", "edge", 3000, "mobile"),
    ("checkout", "http", "app", 8080, "commerce"),
    ("payments", "http", "app", 8080, "payments"),
    ("orders", "http", "app", 8080, "commerce"),
    ("inventory", "http", "app", 8081, "commerce"),
    ("catalog", "http", "app", 8080, "catalog"),
    ("search", "http", "app", 9200, "catalog"),
    ("auth", "http", "app", 9000, "identity"),
    ("user-profile", "http", "app", 8080, "identity"),
    ("pricing", "http", "app", 8080, "commerce"),
    ("shipping", "http", "app", 8080, "fulfilment"),
    ("recommendations", "http", "app", 5000, "growth"),
    ("notifications", "worker", "app", 9102, "growth"),
    ("order-worker", "worker", "app", 9102, "commerce"),
    ("email-sender", "worker", "app", 9102, "growth"),
    ("media-resizer", "worker", "app", 9102, "catalog"),
    ("orders-db", "postgres", "data", 9187, "dba"),
    ("ledger-db", "postgres", "data", 9187, "dba"),
    ("users-db", "mysql", "data", 9104, "dba"),
    ("redis-cache", "redis", "data", 9121, "platform"),
    ("session-store", "redis", "data", 9121, "identity"),
    ("kafka", "kafka", "data", 9308, "data-platform"),
    ("rabbitmq", "rabbitmq", "data", 15692, "platform"),
    ("elasticsearch", "elasticsearch", "data", 9114, "catalog"),
]
DB_ARCH = ("postgres", "mysql")
QUEUE_ARCH = ("kafka", "rabbitmq")
EDGE_URLS = {"storefront": "https://www.shop.example.com/healthz",
             "api-gateway": "https://api.shop.example.com/v1/health",
             "mobile-bff": "https://m.shop.example.com/_status"}
CERT_DOMAINS = ["shop.example.com", "api.shop.example.com", "grafana.ops.example.com",
                "vpn.example.com", "status.example.com", "pay.example.com", "sso.example.com"]
CLUSTER_POOL = ["fra1", "ams1", "lon1", "dub1", "waw1"]
RUNBOOK_APP = "https://wiki.example.com/ops/runbooks/"
RUNBOOK_MIXIN = "https://runbooks.prometheus-operator.dev/runbooks/"


# --------------------------------------------------------------------------------------------
# Alerting rules, written as a team's rule files would have them
# --------------------------------------------------------------------------------------------
class Rule:
    __slots__ = (
        "desc",
        "expr",
        "extra",
        "job",
        "name",
        "runbook",
        "scope",
        "sev",
        "summary",
        "val",
    )

    def __init__(self, name, sev, scope, expr, summary, desc, runbook="app", val=(1, 10, "{:.0f}"),
                 job=None, extra=None):
        self.name, self.sev, self.scope, self.expr = name, sev, scope, expr
        self.summary, self.desc, self.runbook, self.val = summary, desc, runbook, val
        self.job, self.extra = job, extra


RULES = {r.name: r for r in [
    # ---- generic service rules (scope inst: one alert per instance; svc: aggregated) ----
    Rule("HighErrorRate", "critical", "svc",
         'sum by (job) (rate(http_requests_total{{job="{job}",code=~"5.."}}[5m])) / sum by (job) (rate(http_requests_total{{job="{job}"}}[5m])) > 0.05',
         "High 5xx error rate on {svc}",
         "{v}% of requests to {svc} failed with a 5xx status over the last 5 minutes.",
         val=(6, 60, "{:.1f}")),
    Rule("HTTP5xxErrorsHigh", "warning", "inst",
         'rate(http_server_requests_seconds_count{{job="{job}",status=~"5.."}}[2m]) > 1',
         "{inst} is returning 5xx errors",
         "Instance {inst} ({job}) served {v} 5xx responses per second for 2 minutes.",
         val=(1, 40, "{:.1f}")),
    Rule("HighRequestLatency", "warning", "svc",
         'histogram_quantile(0.99, sum by (le, job) (rate(http_request_duration_seconds_bucket{{job="{job}"}}[5m]))) > 1',
         "{svc} p99 latency above 1s",
         "99th percentile latency of {svc} is {v}s (SLO: 1s).", val=(1.1, 9, "{:.2f}")),
    Rule("SLOErrorBudgetBurn", "page", "svc",
         'slo:sli_error:ratio_rate1h{{service="{svc}"}} > (14.4 * 0.001) and slo:sli_error:ratio_rate5m{{service="{svc}"}} > (14.4 * 0.001)',
         "{svc} is burning its error budget fast",
         "{svc} is consuming its 30-day error budget {v}x faster than allowed.",
         val=(14.5, 80, "{:.1f}")),
    Rule("TargetDown", "critical", "inst", 'up{{job="{job}"}} == 0',
         "Target {inst} is down",
         "{inst} of job {job} has not answered scrapes for more than 2 minutes."),
    Rule("InstanceDown", "critical", "inst", 'up{{job="{job}"}} == 0',
         "Instance {inst} down",
         "{inst} of job {job} has been down for more than 1 minute."),
    Rule("KubePodCrashLooping", "warning", "inst",
         'max_over_time(kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff",container="{svc}"}}[5m]) >= 1',
         "{svc} pod is crash looping",
         "A {svc} pod on {host} is in CrashLoopBackOff ({v} restarts in 15 minutes).",
         runbook="mixin:kubernetes/kubepodcrashlooping", val=(3, 12, "{:.0f}")),
    Rule("ContainerOOMKilled", "warning", "inst",
         'increase(container_oom_events_total{{container="{svc}"}}[10m]) > 0',
         "{svc} container OOM killed",
         "The {svc} container on {host} was OOM-killed {v} times in the last 10 minutes.",
         val=(1, 5, "{:.0f}")),
    Rule("ContainerRestarting", "info", "inst",
         'increase(kube_pod_container_status_restarts_total{{container="{svc}"}}[10m]) > 0',
         "{svc} container restarted",
         "The {svc} container on {host} restarted {v} time(s) in the last 10 minutes.",
         val=(1, 2, "{:.0f}")),
    Rule("JvmHeapUsageHigh", "warning", "inst",
         'jvm_memory_used_bytes{{area="heap",job="{job}"}} / jvm_memory_max_bytes{{area="heap",job="{job}"}} > 0.9',
         "JVM heap almost full on {inst}",
         "Heap usage of {inst} is {v}% of the maximum.", val=(90, 99.5, "{:.1f}")),
    Rule("JvmGcPauseHigh", "info", "inst",
         'rate(jvm_gc_pause_seconds_sum{{job="{job}"}}[5m]) > 0.2',
         "Long GC pauses on {inst}",
         "{inst} spends {v}% of its time in garbage collection.", val=(20, 45, "{:.0f}")),
    Rule("ThreadPoolSaturated", "warning", "inst",
         'executor_active_threads{{job="{job}"}} / executor_pool_max_threads{{job="{job}"}} > 0.95',
         "Request thread pool saturated on {inst}",
         "{inst} has {v}% of its worker threads busy; requests are queueing.",
         val=(95, 100, "{:.0f}")),
    Rule("UpstreamConnectFailures", "warning", "svc",
         'sum by (job, upstream) (rate(upstream_cx_connect_fail_total{{job="{job}"}}[5m])) > 0.5',
         "{svc} cannot reach {dep}",
         "{svc} failed {v} connections per second to upstream {dep} over 5 minutes.",
         val=(0.6, 40, "{:.1f}"), extra=("upstream",)),
    Rule("CircuitBreakerOpen", "critical", "svc",
         'max by (job, target) (resilience4j_circuitbreaker_state{{job="{job}",state="open"}}) == 1',
         "Circuit breaker towards {dep} is open in {svc}",
         "{svc} opened its circuit breaker for calls to {dep}; calls are failing fast.",
         extra=("target",)),
    Rule("DBConnectionPoolExhausted", "critical", "inst",
         'hikaricp_connections_pending{{job="{job}"}} > 10',
         "DB connection pool exhausted on {inst}",
         "{inst} has {v} threads waiting for a connection to {dep}.", val=(11, 200, "{:.0f}"),
         extra=("pool",)),
    Rule("DNSLookupFailures", "warning", "svc",
         'sum by (job) (rate(dns_lookup_errors_total{{job="{job}"}}[5m])) > 0.1',
         "DNS lookups failing in {svc}",
         "{svc} is failing {v} DNS lookups per second.", val=(0.2, 30, "{:.1f}")),
    Rule("ProbeFailed", "critical", "probe",
         'probe_success{{job="blackbox-http"}} == 0',
         "Endpoint {inst} is failing its probe",
         "Blackbox probe of {inst} has been failing for 2 minutes.", job="blackbox-http"),
    Rule("KubeDeploymentReplicasMismatch", "warning", "svc",
         'kube_deployment_spec_replicas{{deployment="{svc}"}} != kube_deployment_status_replicas_available{{deployment="{svc}"}}',
         "Deployment {svc} has unavailable replicas",
         "Deployment {svc} has not matched its expected number of replicas for 10 minutes.",
         runbook="mixin:kubernetes/kubedeploymentreplicasmismatch", job="kube-state-metrics"),
    Rule("HTTP4xxRateHigh", "info", "svc",
         'sum by (job) (rate(http_requests_total{{job="{job}",code=~"4.."}}[5m])) > 50',
         "Unusual 4xx rate on {svc}",
         "{svc} is answering {v} 4xx responses per second.", val=(50, 400, "{:.0f}")),
    # ---- workers ----
    Rule("QueueBacklogGrowing", "warning", "svc",
         'sum by (job) (queue_messages_ready{{job="{job}"}}) > 5000',
         "{svc} backlog growing",
         "{svc} has {v} messages waiting and is not keeping up.", val=(5000, 250000, "{:.0f}")),
    Rule("JobFailureRateHigh", "warning", "svc",
         'sum by (job) (rate(jobs_failed_total{{job="{job}"}}[10m])) / sum by (job) (rate(jobs_processed_total{{job="{job}"}}[10m])) > 0.1',
         "{svc} jobs failing",
         "{v}% of jobs processed by {svc} failed in the last 10 minutes.", val=(10, 100, "{:.0f}")),
    Rule("WorkerDown", "critical", "inst", 'up{{job="{job}"}} == 0',
         "{svc} worker {inst} is down",
         "Worker {inst} has not been scrapeable for 3 minutes."),
    Rule("ConsumerLagHigh", "warning", "svc",
         'sum by (consumergroup) (kafka_consumergroup_lag{{consumergroup="{svc}"}}) > 10000',
         "Consumer group {svc} lagging",
         "Consumer group {svc} is {v} messages behind.", val=(10000, 900000, "{:.0f}"),
         job="kafka-exporter", extra=("consumergroup",)),
    Rule("CronJobFailed", "warning", "cron",
         'kube_job_status_failed{{job_name=~"{cron}.*"}} > 0',
         "CronJob {cron} failed",
         "The last run of CronJob {cron} failed.", runbook="mixin:kubernetes/kubejobfailed",
         job="kube-state-metrics"),
    # ---- postgres ----
    Rule("PostgresqlDown", "critical", "inst", 'pg_up == 0', "Postgresql down on {inst}",
         "Postgresql instance {inst} is down."),
    Rule("PostgresqlTooManyConnections", "warning", "inst",
         'sum by (instance) (pg_stat_activity_count) > on (instance) pg_settings_max_connections * 0.8',
         "Postgresql too many connections on {inst}",
         "{inst} is using {v}% of max_connections.", val=(80, 100, "{:.0f}")),
    Rule("PostgresqlReplicationLag", "warning", "inst",
         'pg_replication_lag_seconds > 30', "Postgresql replication lag on {inst}",
         "Replica {inst} is {v}s behind its primary.", val=(31, 900, "{:.0f}")),
    Rule("PostgresqlDeadlocks", "warning", "inst",
         'increase(pg_stat_database_deadlocks{{datname!~"template.*"}}[1m]) > 5',
         "Postgresql deadlocks on {inst}", "{v} deadlocks in the last minute on {inst}.",
         val=(6, 40, "{:.0f}")),
    Rule("PostgresqlSlowQueries", "warning", "inst",
         'avg by (instance) (rate(pg_stat_statements_mean_time_seconds[5m])) > 0.5',
         "Slow queries on {inst}", "Mean query time on {inst} is {v}s.", val=(0.5, 6, "{:.2f}")),
    Rule("PostgresqlBackupTooOld", "warning", "svc",
         'time() - pg_backup_last_success_timestamp_seconds > 26 * 3600',
         "Last backup of {svc} is too old", "The last successful backup of {svc} is {v}h old.",
         val=(26, 40, "{:.0f}")),
    # ---- mysql ----
    Rule("MysqlDown", "critical", "inst", 'mysql_up == 0', "MySQL down on {inst}",
         "MySQL instance {inst} is down."),
    Rule("MysqlTooManyConnections", "warning", "inst",
         'max_over_time(mysql_global_status_threads_connected[1m]) / mysql_global_variables_max_connections > 0.8',
         "MySQL too many connections on {inst}", "{inst} uses {v}% of max_connections.",
         val=(80, 100, "{:.0f}")),
    Rule("MysqlReplicationLag", "warning", "inst",
         'mysql_slave_status_seconds_behind_master > 30', "MySQL replica {inst} lagging",
         "{inst} is {v}s behind the primary.", val=(31, 1200, "{:.0f}")),
    Rule("MysqlSlowQueries", "info", "inst",
         'increase(mysql_global_status_slow_queries[1m]) > 0', "MySQL slow queries on {inst}",
         "{v} slow queries in the last minute on {inst}.", val=(1, 30, "{:.0f}")),
    # ---- redis ----
    Rule("RedisDown", "critical", "inst", 'redis_up == 0', "Redis down ({inst})",
         "Redis instance {inst} is down."),
    Rule("RedisOutOfMemory", "warning", "inst",
         'redis_memory_used_bytes / redis_memory_max_bytes > 0.9', "Redis out of memory ({inst})",
         "{inst} is using {v}% of maxmemory.", val=(90, 100, "{:.0f}")),
    Rule("RedisRejectedConnections", "critical", "inst",
         'increase(redis_rejected_connections_total[1m]) > 0', "Redis rejecting connections",
         "{inst} rejected {v} connections in the last minute.", val=(1, 500, "{:.0f}")),
    Rule("RedisTooManyEvictions", "info", "inst",
         'rate(redis_evicted_keys_total[5m]) > 100', "Redis evicting keys ({inst})",
         "{inst} evicts {v} keys per second.", val=(100, 3000, "{:.0f}")),
    Rule("RedisMissingMaster", "critical", "svc",
         'count by (job) (redis_instance_info{{role="master"}}) < 1', "Redis cluster has no master",
         "{svc} has had no node in the master role for 1 minute."),
    # ---- kafka ----
    Rule("KafkaBrokerDown", "critical", "inst", 'up{{job="{job}"}} == 0',
         "Kafka broker {inst} down", "Kafka broker {inst} is not reachable."),
    Rule("KafkaUnderReplicatedPartitions", "warning", "inst",
         'kafka_server_replicamanager_underreplicatedpartitions > 0',
         "Kafka under-replicated partitions on {inst}",
         "{inst} reports {v} under-replicated partitions.", val=(1, 120, "{:.0f}")),
    Rule("KafkaOfflinePartitions", "critical", "svc",
         'sum by (job) (kafka_controller_kafkacontroller_offlinepartitionscount) > 0',
         "Kafka has offline partitions", "{v} partitions of {svc} have no leader.",
         val=(1, 60, "{:.0f}")),
    Rule("KafkaRequestLatencyHigh", "warning", "inst",
         'kafka_network_requestmetrics_totaltimems{{request="Produce",quantile="0.99"}} > 500',
         "Kafka produce latency high on {inst}", "p99 produce time on {inst} is {v}ms.",
         val=(500, 9000, "{:.0f}")),
    # ---- rabbitmq ----
    Rule("RabbitmqNodeDown", "critical", "inst", 'rabbitmq_identity_info == 0 or up{{job="{job}"}} == 0',
         "RabbitMQ node {inst} down", "RabbitMQ node {inst} is down."),
    Rule("RabbitmqMemoryAlarm", "critical", "inst", 'rabbitmq_alarms_memory_used_watermark == 1',
         "RabbitMQ memory alarm on {inst}",
         "{inst} raised its memory alarm; publishers are blocked."),
    Rule("RabbitmqTooManyUnackMessages", "warning", "svc",
         'sum(rabbitmq_queue_messages_unacked) > 1000', "RabbitMQ too many unacked messages",
         "{svc} has {v} unacknowledged messages.", val=(1000, 90000, "{:.0f}")),
    # ---- elasticsearch ----
    Rule("ElasticsearchClusterRed", "critical", "svc", 'elasticsearch_cluster_health_status{{color="red"}} == 1',
         "Elasticsearch cluster red", "{svc} cluster health is RED: primary shards unassigned."),
    Rule("ElasticsearchClusterYellow", "warning", "svc",
         'elasticsearch_cluster_health_status{{color="yellow"}} == 1',
         "Elasticsearch cluster yellow", "{svc} cluster health is YELLOW: replicas unassigned."),
    Rule("ElasticsearchHeapUsageTooHigh", "warning", "inst",
         'elasticsearch_jvm_memory_used_bytes{{area="heap"}} / elasticsearch_jvm_memory_max_bytes{{area="heap"}} > 0.9',
         "Elasticsearch heap usage high on {inst}", "{inst} heap usage is {v}%.",
         val=(90, 99, "{:.0f}")),
    Rule("ElasticsearchDiskWatermarkReached", "warning", "inst",
         'elasticsearch_filesystem_data_available_bytes / elasticsearch_filesystem_data_size_bytes < 0.15',
         "Elasticsearch high disk watermark on {inst}", "{inst} has only {v}% disk left.",
         val=(2, 15, "{:.0f}")),
    Rule("ElasticsearchSearchLatencyHigh", "warning", "svc",
         'rate(elasticsearch_indices_search_query_time_seconds[5m]) / rate(elasticsearch_indices_search_query_total[5m]) > 1',
         "Elasticsearch search latency high", "Mean search latency on {svc} is {v}s.",
         val=(1, 12, "{:.1f}")),
    # ---- hosts ----
    Rule("NodeDown", "critical", "host", 'up{{job=~"node.*"}} == 0', "Node {host} is down",
         "node-exporter on {host} has been unreachable for 2 minutes."),
    Rule("HostUnreachable", "critical", "host", 'probe_success{{job="blackbox-icmp"}} == 0',
         "Host {host} unreachable", "ICMP probes to {host} have been failing for 2 minutes.",
         job="blackbox-icmp"),
    Rule("KubeNodeNotReady", "warning", "host", 'kube_node_status_condition{{condition="Ready",status="true"}} == 0',
         "Node {host} not ready", "{host} has been unready for more than 2 minutes.",
         runbook="mixin:kubernetes/kubenodenotready", job="kube-state-metrics"),
    Rule("NodeFilesystemAlmostOutOfSpace", "critical", "host",
         'node_filesystem_avail_bytes{{fstype!="tmpfs"}} / node_filesystem_size_bytes * 100 < 3',
         "Filesystem on {host} almost out of space",
         "Filesystem {mnt} on {host} has only {v}% space left.",
         runbook="mixin:node/nodefilesystemalmostoutofspace", val=(0.1, 3, "{:.2f}"),
         extra=("mountpoint",)),
    Rule("NodeFilesystemSpaceFillingUp", "warning", "host",
         'predict_linear(node_filesystem_avail_bytes{{fstype!="tmpfs"}}[6h], 24*60*60) < 0',
         "Filesystem on {host} is predicted to run out of space within 24 hours",
         "Filesystem {mnt} on {host} has {v}% available space left and is filling up.",
         runbook="mixin:node/nodefilesystemspacefillingup", val=(8, 25, "{:.1f}"),
         extra=("mountpoint",)),
    Rule("HostOutOfMemory", "warning", "host",
         'node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes * 100 < 5',
         "Host {host} out of memory", "Only {v}% memory available on {host}.",
         val=(0.5, 5, "{:.1f}")),
    Rule("NodeNetworkReceiveErrs", "warning", "host",
         'rate(node_network_receive_errs_total[2m]) / rate(node_network_receive_packets_total[2m]) > 0.01',
         "Network interface reporting errors on {host}",
         "{host} interface {dev} has a receive error ratio of {v}%.",
         runbook="mixin:node/nodenetworkreceiveerrs", val=(1, 30, "{:.1f}"), extra=("device",)),
    Rule("HostHighCpuLoad", "warning", "host",
         '100 - (avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[2m])) * 100) > 90',
         "High CPU load on {host}", "CPU load on {host} is {v}%.", val=(90, 100, "{:.0f}")),
    Rule("HostDiskIOSaturated", "warning", "host",
         'rate(node_disk_io_time_seconds_total[5m]) > 0.95', "Disk I/O saturated on {host}",
         "Device {dev} on {host} is {v}% busy.", val=(95, 100, "{:.0f}"), extra=("device",)),
    Rule("NodeClockNotSynchronising", "warning", "host", 'min_over_time(node_timex_sync_status[5m]) == 0',
         "Clock not synchronising on {host}", "The clock on {host} is not synchronising to NTP.",
         runbook="mixin:node/nodeclocknotsynchronising"),
    # ---- clusters (labels: alertname, severity, cluster only) ----
    Rule("ClusterDNSResolutionFailures", "critical", "cluster",
         'sum(rate(coredns_dns_responses_total{{rcode="SERVFAIL"}}[5m])) / sum(rate(coredns_dns_responses_total[5m])) > 0.05',
         "DNS resolution failing in cluster {cluster}",
         "{v}% of DNS queries in {cluster} return SERVFAIL.", val=(5, 80, "{:.0f}")),
    Rule("ClusterDNSLatencyHigh", "warning", "cluster",
         'histogram_quantile(0.99, sum by (le) (rate(coredns_dns_request_duration_seconds_bucket[5m]))) > 0.5',
         "Slow DNS in cluster {cluster}", "p99 DNS latency in {cluster} is {v}s.",
         val=(0.5, 5, "{:.2f}")),
    Rule("ClusterNetworkPacketLoss", "critical", "cluster",
         'avg(1 - probe_success{{job="cluster-mesh-ping"}}) > 0.05',
         "Packet loss inside cluster {cluster}",
         "{v}% of node-to-node probes in {cluster} are lost.", val=(5, 60, "{:.0f}")),
    Rule("ClusterEgressDegraded", "warning", "cluster",
         'sum(rate(egress_gateway_errors_total[5m])) > 10',
         "Egress degraded in cluster {cluster}",
         "The egress gateway of {cluster} is failing {v} connections per second.",
         val=(10, 400, "{:.0f}")),
    # ---- meta / certificates ----
    Rule("SSLCertExpiringSoon", "warning", "cert",
         'probe_ssl_earliest_cert_expiry - time() < 86400 * 21',
         "TLS certificate for {inst} expires soon",
         "The certificate of {inst} expires in {v} days.", val=(19, 21, "{:.0f}"),
         job="blackbox-tls"),
    Rule("Watchdog", "none", "meta", 'vector(1)', "Alerting pipeline heartbeat",
         "This alert is always firing to show that the alerting pipeline works.",
         runbook="mixin:general/watchdog"),
]}

# effect -> archetype -> candidate rules
EFFECTS = {
    "down": {"http": ["TargetDown", "InstanceDown"], "worker": ["WorkerDown", "TargetDown"],
             "postgres": ["PostgresqlDown", "TargetDown"], "mysql": ["MysqlDown"],
             "redis": ["RedisDown", "TargetDown"], "kafka": ["KafkaBrokerDown"],
             "rabbitmq": ["RabbitmqNodeDown"], "elasticsearch": ["TargetDown", "ElasticsearchClusterYellow"]},
    "errors": {"http": ["HighErrorRate", "HTTP5xxErrorsHigh", "SLOErrorBudgetBurn"],
               "worker": ["JobFailureRateHigh"],
               "postgres": ["PostgresqlTooManyConnections", "PostgresqlDeadlocks"],
               "mysql": ["MysqlTooManyConnections"], "redis": ["RedisRejectedConnections"],
               "kafka": ["KafkaOfflinePartitions", "KafkaUnderReplicatedPartitions"],
               "rabbitmq": ["RabbitmqTooManyUnackMessages"],
               "elasticsearch": ["ElasticsearchClusterRed"]},
    "latency": {"http": ["HighRequestLatency", "ThreadPoolSaturated"],
                "worker": ["QueueBacklogGrowing"], "postgres": ["PostgresqlSlowQueries"],
                "mysql": ["MysqlSlowQueries", "MysqlTooManyConnections"],
                "redis": ["RedisRejectedConnections"], "kafka": ["KafkaRequestLatencyHigh"],
                "rabbitmq": ["RabbitmqTooManyUnackMessages"],
                "elasticsearch": ["ElasticsearchSearchLatencyHigh"]},
    "resource": {"http": ["ContainerOOMKilled", "JvmHeapUsageHigh", "KubePodCrashLooping"],
                 "worker": ["ContainerOOMKilled", "KubePodCrashLooping"],
                 "postgres": ["PostgresqlReplicationLag", "PostgresqlTooManyConnections"],
                 "mysql": ["MysqlReplicationLag"], "redis": ["RedisOutOfMemory"],
                 "kafka": ["KafkaUnderReplicatedPartitions"], "rabbitmq": ["RabbitmqMemoryAlarm"],
                 "elasticsearch": ["ElasticsearchHeapUsageTooHigh", "ElasticsearchDiskWatermarkReached"]},
    "dns": {"http": ["DNSLookupFailures", "UpstreamConnectFailures", "HighErrorRate"],
            "worker": ["JobFailureRateHigh", "DNSLookupFailures"],
            "postgres": ["TargetDown", "PostgresqlReplicationLag"], "mysql": ["MysqlReplicationLag"],
            "redis": ["TargetDown"], "kafka": ["KafkaUnderReplicatedPartitions"],
            "rabbitmq": ["RabbitmqNodeDown"], "elasticsearch": ["ElasticsearchClusterYellow"]},
    "network": {"http": ["HighRequestLatency", "HighErrorRate", "TargetDown", "UpstreamConnectFailures"],
                "worker": ["QueueBacklogGrowing", "TargetDown"],
                "postgres": ["PostgresqlReplicationLag", "TargetDown"],
                "mysql": ["MysqlReplicationLag"], "redis": ["RedisMissingMaster", "TargetDown"],
                "kafka": ["KafkaUnderReplicatedPartitions", "KafkaBrokerDown"],
                "rabbitmq": ["RabbitmqNodeDown"], "elasticsearch": ["ElasticsearchClusterYellow"]},
}
# what a dependent shows when something it needs is broken
DEPENDENT = {
    "http": ["HighErrorRate", "HighRequestLatency", "UpstreamConnectFailures", "CircuitBreakerOpen",
             "SLOErrorBudgetBurn", "HTTP5xxErrorsHigh", "ThreadPoolSaturated"],
    "worker": ["QueueBacklogGrowing", "JobFailureRateHigh"],
}
SERVICE_FAULTS = {  # sub-kind -> (cause effects, what dependents see)
    "crash": (["down", "resource"], 1.0),
    "bad-deploy": (["errors", "resource"], 0.9),
    "saturation": (["latency", "resource"], 0.75),
    "overload": (["errors", "latency"], 0.85),
}
HOST_FAULTS = {
    "down": (["NodeDown", "HostUnreachable", "KubeNodeNotReady"], "down", 0.9),
    "disk-full": (["NodeFilesystemAlmostOutOfSpace"], "errors", 0.7),
    "memory": (["HostOutOfMemory"], "resource", 0.7),
    "nic": (["NodeNetworkReceiveErrs"], "network", 0.65),
    "io": (["HostDiskIOSaturated", "HostHighCpuLoad"], "latency", 0.6),
}
CLUSTER_FAULTS = {
    "dns": (["ClusterDNSResolutionFailures", "ClusterDNSLatencyHigh"], "dns"),
    "network": (["ClusterNetworkPacketLoss", "ClusterEgressDegraded"], "network"),
}


# --------------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------------
class Service:
    def __init__(self, name, arch, tier, port, team):
        self.name, self.arch, self.tier, self.port, self.team = name, arch, tier, port, team
        self.cluster = ""
        self.hosts: list[str] = []
        self.deps: list[str] = []      # real dependencies
        self.job = name
        self.namespace = ""


class World:
    def __init__(self, seed: int, rng: random.Random):
        self.seed = seed
        self.rng = rng
        self.services: dict[str, Service] = {}
        self.host_cluster: dict[str, str] = {}
        self.extra_hosts: dict[str, str] = {}    # staging/dev hosts in the policy
        self.clusters: list[str] = []
        self.build()

    # ---- construction ----
    def build(self):
        rng = self.rng
        n = rng.randint(10, 14)
        edges = [c for c in CATALOG if c[2] == "edge"]
        apps_http = [c for c in CATALOG if c[2] == "app" and c[1] == "http"]
        apps_worker = [c for c in CATALOG if c[2] == "app" and c[1] == "worker"]
        datas = [c for c in CATALOG if c[2] == "data"]
        n_edge = 2
        n_data = rng.randint(3, 5)
        n_worker = rng.randint(1, 2)
        n_http = n - n_edge - n_data - n_worker
        chosen = (rng.sample(edges, n_edge) + rng.sample(apps_http, n_http)
                  + rng.sample(apps_worker, n_worker))
        # workers need a queue, keep at least one queue among the data services
        queues = [c for c in datas if c[1] in QUEUE_ARCH]
        dbs = [c for c in datas if c[1] in DB_ARCH]
        pick = [rng.choice(queues), rng.choice(dbs)]
        rest = [c for c in datas if c not in pick]
        pick += rng.sample(rest, n_data - 2)
        chosen += pick
        for name, arch, tier, port, team in chosen:
            self.services[name] = Service(name, arch, tier, port, team)

        k = rng.choice([2, 3, 3])
        self.clusters = rng.sample(CLUSTER_POOL, k)
        names = list(self.services)
        rng.shuffle(names)
        for i, name in enumerate(names):
            self.services[name].cluster = self.clusters[i % k]

        # jobs and namespaces: the messy part of scrape configs
        ns_pool = {"web": "storefront", "platform": "platform", "mobile": "mobile",
                   "commerce": "shop", "payments": "payments", "catalog": "catalog",
                   "identity": "identity", "fulfilment": "shop", "growth": "growth",
                   "dba": "databases", "data-platform": "streaming"}
        for s in self.services.values():
            s.namespace = ns_pool.get(s.team, "default")
            r = rng.random()
            if s.tier == "data":
                generic = {"postgres": "postgres-exporter", "mysql": "mysqld-exporter",
                           "redis": "redis_exporter", "kafka": "kafka-jmx",
                           "rabbitmq": "rabbitmq", "elasticsearch": "elasticsearch-exporter"}[s.arch]
                s.job = s.name if r < 0.4 else (generic if r < 0.75 else f"{s.name}-exporter")
            else:
                if r < 0.45:
                    s.job = s.name
                elif r < 0.7:
                    s.job = s.name + rng.choice(["-api", "-svc", "-app"]) if s.arch == "http" else s.name + "-worker"
                elif r < 0.85:
                    s.job = f"{s.namespace}/{s.name}"
                else:
                    s.job = "kubernetes-pods"

        # hosts: shared application nodes per cluster, dedicated data hosts
        used = set()

        def uniq(h):
            base, j = h, 2
            while h in used:
                h = f"{base}-{j}"
                j += 1
            used.add(h)
            return h

        for ci, c in enumerate(self.clusters):
            style = rng.choice(["node", "k8s", "ip"])
            svcs = [s for s in self.services.values() if s.cluster == c]
            app = [s for s in svcs if s.tier != "data"]
            n_nodes = max(2, math.ceil(len(app) * 2.5 / 2))
            nodes = []
            for i in range(n_nodes):
                if style == "node":
                    h = f"{c}-node-{i + 1:02d}"
                elif style == "k8s":
                    h = f"k8s-{c}-w{i + 1:02d}"
                else:
                    h = f"ip-10-{20 + ci}-{rng.randint(0, 15)}-{rng.randint(2, 250)}"
                nodes.append(uniq(h))
            for s in app:
                s.hosts = sorted(rng.sample(nodes, min(len(nodes), rng.choice([2, 2, 3]))))
            for s in svcs:
                if s.tier != "data":
                    continue
                cnt = rng.choice([2, 3, 3])
                short = style == "node" or rng.random() < 0.5
                hs = []
                for i in range(cnt):
                    if style == "ip":
                        h = f"ip-10-{20 + ci}-{rng.randint(16, 31)}-{rng.randint(2, 250)}"
                    else:
                        h = f"{s.name}-{i + 1}" if short else f"{s.name}-{c}-{i + 1:02d}"
                    hs.append(uniq(h))
                s.hosts = hs
            for s in svcs:
                for h in s.hosts:
                    self.host_cluster[h] = c
        # a couple of non-production hosts the operators listed (noise may fire there)
        for i in range(rng.randint(1, 2)):
            env = rng.choice(["staging", "dev"])
            h = uniq(f"{env}-box-{i + 1}" if env == "dev" else f"staging-app-{i + 1}")
            self.extra_hosts[h] = env

        # real dependencies (a DAG: edge -> app -> data; app i -> app j only for j later)
        apps = [s for s in self.services.values() if s.tier == "app"]
        rng.shuffle(apps)
        data = [s for s in self.services.values() if s.tier == "data"]
        queues = [s.name for s in data if s.arch in QUEUE_ARCH]
        dbs = [s.name for s in data if s.arch in DB_ARCH]
        caches = [s.name for s in data if s.arch in ("redis", "elasticsearch")]
        for s in self.services.values():
            if s.tier == "edge":
                pool = [a.name for a in apps if a.arch == "http"]
                s.deps = rng.sample(pool, min(len(pool), rng.randint(2, 4)))
                if caches and rng.random() < 0.4:
                    s.deps.append(rng.choice(caches))
        for i, a in enumerate(apps):
            later = [b.name for b in apps[i + 1:] if b.arch == "http"]
            deps = []
            if a.arch == "worker":
                deps.append(rng.choice(queues))
                if dbs and rng.random() < 0.7:
                    deps.append(rng.choice(dbs))
                if later and rng.random() < 0.3:
                    deps.append(rng.choice(later))
            else:
                if dbs and rng.random() < 0.75:
                    deps.append(rng.choice(dbs))
                if caches and rng.random() < 0.5:
                    deps.append(rng.choice(caches))
                if queues and rng.random() < 0.35:
                    deps.append(rng.choice(queues))
                if later and rng.random() < 0.6:
                    deps += rng.sample(later, min(len(later), rng.randint(1, 2)))
                if not deps:
                    deps.append(rng.choice([d.name for d in data]))
            a.deps = list(dict.fromkeys(deps))
        # every data service has at least one user
        for d in data:
            if not any(d.name in s.deps for s in self.services.values()):
                users = [a for a in apps if a.arch == "http"] or apps
                rng.choice(users).deps.append(d.name)
        self.dependents = {n: [] for n in self.services}
        for s in self.services.values():
            for d in s.deps:
                self.dependents[d].append(s.name)

    def policy(self) -> dict:
        """What the operators wrote: most of the world, not all of it."""
        rng = self.rng
        names = list(self.services)
        omit_svc = set(rng.sample(names, rng.choice([2, 3])))
        listed = [n for n in names if n not in omit_svc]
        listed_hosts = sorted({h for n in listed for h in self.services[n].hosts})
        omit_hosts = set(rng.sample(listed_hosts, rng.choice([1, 2])))
        for n in listed:   # every listed service keeps one host at least
            hs = self.services[n].hosts
            if all(h in omit_hosts for h in hs):
                omit_hosts.discard(hs[0])
        services = {}
        for n in sorted(listed):
            s = self.services[n]
            deps = [d for d in s.deps if d in listed and rng.random() >= 0.34]
            entry = {"hosts": [h for h in s.hosts if h not in omit_hosts],
                     "depends_on": sorted(deps)}
            if rng.random() < 0.9:
                entry["cluster"] = s.cluster
            services[n] = entry
        hosts = {}
        for h in sorted({h for e in services.values() for h in e["hosts"]} | set(self.extra_hosts)):
            hosts[h] = {"env": self.extra_hosts.get(h, "prod")}
        self.omitted_services = sorted(omit_svc)
        self.omitted_hosts = sorted(omit_hosts)
        return {"hosts": hosts, "services": services}

    # ---- label styles (fixed per rule and target, as rule files and scrape configs are) ----
    def style(self, key: str) -> random.Random:
        # a fresh generator per (rule, target) key: the same choices every time it is asked
        return random.Random(f"{self.seed}/{key}")

    def svc_labels(self, rule: Rule, svc: str, host: str | None, dep: str | None,
                   force_service: bool = False) -> dict:
        s = self.services[svc]
        st = self.style(f"{rule.name}|{svc}")
        labels = {"alertname": rule.name, "severity": rule.sev}
        job = rule.job or s.job
        generic_job = job in ("kubernetes-pods", "kube-state-metrics", "blackbox-http",
                              "kafka-exporter", "postgres-exporter", "mysqld-exporter",
                              "redis_exporter", "kafka-jmx", "rabbitmq", "elasticsearch-exporter")
        labels["job"] = job
        with_service = st.random() < 0.6
        inst_style = st.choices(["hostport", "bare", "host", "node"], [64, 12, 12, 12])[0]
        with_cluster = st.random() < 0.6
        with_ns = s.tier != "data" and st.random() < 0.5
        with_team = st.random() < 0.35
        if rule.scope == "probe":
            labels["instance"] = EDGE_URLS.get(svc, f"https://{svc}.shop.example.com/healthz")
        elif rule.scope == "inst":
            if inst_style == "hostport":
                labels["instance"] = f"{host}:{s.port}"
            elif inst_style == "bare":
                labels["instance"] = host
            else:
                labels[inst_style] = host
        if with_service or force_service or (generic_job and rule.scope in ("svc", "probe")):
            labels["service"] = svc
        if rule.name == "KubeDeploymentReplicasMismatch":
            labels["deployment"] = svc
        if rule.extra:
            labels[rule.extra[0]] = svc if rule.extra[0] == "consumergroup" else (dep or "unknown")
        if with_cluster:
            labels["cluster"] = s.cluster
        if with_ns:
            labels["namespace"] = s.namespace
        if with_team:
            labels["team"] = s.team
        return labels

    def host_labels(self, rule: Rule, host: str, extra: str | None = None) -> dict:
        c = self.host_cluster.get(host, "")
        st = self.style(f"{rule.name}|cluster:{c or 'none'}")
        labels = {"alertname": rule.name, "severity": rule.sev}
        if rule.name == "KubeNodeNotReady":
            labels.update(node=host, job="kube-state-metrics")
        elif rule.name == "HostUnreachable":
            labels.update(instance=host, job="blackbox-icmp")
        else:
            style = st.choices(["exporter", "bare", "node", "host"], [55, 15, 15, 15])[0]
            if style == "exporter":
                labels.update(instance=f"{host}:9100", job="node-exporter")
            elif style == "bare":
                labels.update(instance=host, job="node")
            elif style == "node":
                labels.update(node=host, job="kubernetes-nodes")
            else:
                labels.update(host=host, job="telegraf")
        if rule.extra:
            labels[rule.extra[0]] = extra or ("/" if rule.extra[0] == "mountpoint" else "eth0")
        if c and st.random() < 0.6:
            labels["cluster"] = c
        return labels

    def annotations(self, rule: Rule, rng: random.Random, fields: dict) -> dict:
        lo, hi, fmt = rule.val
        f = dict(fields)
        f["v"] = fmt.format(rng.uniform(lo, hi))
        ann = {"summary": rule.summary.format(**f), "description": rule.desc.format(**f)}
        st = self.style(f"runbook|{rule.name}")
        if rule.runbook.startswith("mixin:"):
            ann["runbook_url"] = RUNBOOK_MIXIN + rule.runbook[6:]
        elif st.random() < 0.85:
            slug = re.sub(r"(?<!^)(?=[A-Z])", "-", rule.name).lower()
            ann["runbook_url"] = RUNBOOK_APP + slug
        return ann

    def generator_url(self, rule: Rule, cluster: str, fields: dict) -> str:
        expr = rule.expr.format(**fields)
        prom = f"http://prometheus.{cluster}.monitoring.internal:9090" if cluster else \
            "http://prometheus-central.monitoring.internal:9090"
        return f"{prom}/graph?g0.expr={quote_plus(expr)}&g0.tab=1"


# --------------------------------------------------------------------------------------------
# Occurrences
# --------------------------------------------------------------------------------------------
class Occ:
    __slots__ = (
        "ann",
        "delivered",
        "end",
        "fp",
        "group",
        "labels",
        "relay",
        "resolve",
        "resolved_sent",
        "start",
        "url",
    )

    def __init__(self, fp, labels, ann, url, start, end, group, relay):
        self.fp, self.labels, self.ann, self.url = fp, labels, ann, url
        self.start, self.end, self.group, self.relay = start, end, group, relay
        self.resolve = 0
        self.delivered = False
        self.resolved_sent = False


class Registry:
    def __init__(self):
        self.by_fp: dict[str, list[Occ]] = {}
        self.all: list[Occ] = []

    def free(self, fp: str, start: int, end: int) -> bool:
        for o in self.by_fp.get(fp, ()):
            if start < o.end + GAP and o.start < end + GAP:
                return False
        return True

    def add(self, occ: Occ) -> bool:
        if occ.end - occ.start < MIN_OCC or not self.free(occ.fp, occ.start, occ.end):
            return False
        self.by_fp.setdefault(occ.fp, []).append(occ)
        self.all.append(occ)
        return True


class Builder:
    def __init__(self, world: World, rng: random.Random, relays: dict):
        self.w, self.rng, self.relays = world, rng, relays
        self.reg = Registry()

    # a target: ("svc", name, host|None, dep|None) / ("host", name, extra) / ("cluster", name)
    def make(self, rule_name: str, target: tuple, start: int, end: int, group: str,
             force_service: bool = False, flap: bool = False) -> int:
        w, rng = self.w, self.rng
        rule = RULES[rule_name]
        kind = target[0]
        if kind == "svc":
            _, svc, host, dep = target
            s = w.services[svc]
            labels = w.svc_labels(rule, svc, host, dep, force_service)
            cluster = s.cluster
            inst = labels.get("instance") or (f"{host}:{s.port}" if host else svc)
            fields = {"svc": svc, "job": labels["job"], "inst": inst, "host": host or svc,
                      "dep": dep or "its upstream", "cluster": cluster, "cron": svc}
        elif kind == "host":
            _, host, extra = target
            labels = w.host_labels(rule, host, extra)
            cluster = w.host_cluster.get(host, "")
            fields = {"host": host, "mnt": labels.get("mountpoint", "/"),
                      "dev": labels.get("device", "eth0"), "job": labels["job"],
                      "inst": labels.get("instance", host), "cluster": cluster}
        elif kind == "cluster":
            cluster = target[1]
            labels = {"alertname": rule.name, "severity": rule.sev, "cluster": cluster}
            fields = {"cluster": cluster}
        elif kind == "cert":
            domain = target[1]
            labels = {"alertname": rule.name, "severity": rule.sev, "job": "blackbox-tls",
                      "instance": f"https://{domain}"}
            cluster = ""
            fields = {"inst": f"https://{domain}"}
        elif kind == "cron":
            _, svc, cron = target
            s = w.services[svc]
            labels = {"alertname": rule.name, "severity": rule.sev, "job": "kube-state-metrics",
                      "cronjob": cron, "namespace": s.namespace}
            if w.style(f"cron|{cron}").random() < 0.5:
                labels["service"] = svc
            cluster = s.cluster
            fields = {"cron": cron, "svc": svc}
        else:  # meta
            labels = {"alertname": rule.name, "severity": rule.sev, "prometheus": "monitoring/k8s"}
            cluster = ""
            fields = {}
        fp = fingerprint(labels)
        relay = self.relays.get(cluster, self.relays[""])
        url = w.generator_url(rule, cluster, {**{"job": labels.get("job", ""), "svc": fields.get("svc", ""),
                                                  "cron": fields.get("cron", "")}})
        segments = [(start, end)]
        if flap and end - start >= 480 and rng.random() < 0.15:
            segments = []
            cur = start
            while True:
                on = rng.randint(MIN_OCC, 420)
                if cur + on >= end - MIN_OCC - 60:
                    segments.append((cur, end))
                    break
                segments.append((cur, cur + on))
                cur = cur + on + rng.randint(GAP, 240)
                if cur > end - MIN_OCC:
                    break
        added = 0
        for a, b in segments:
            occ = Occ(fp, labels, w.annotations(rule, rng, fields), url, a, b, group, relay)
            if self.reg.add(occ):
                added += 1
            elif not added:
                break       # already firing for something else: this fault adds nothing to it
        return added

    def pick_rule(self, effect: str, arch: str) -> list[str]:
        return list(EFFECTS[effect].get(arch) or EFFECTS[effect]["http"])


# --------------------------------------------------------------------------------------------
# Storm generation
# --------------------------------------------------------------------------------------------
def generate(seed: int, faults: int, every_minutes: float) -> dict:
    rng = random.Random(seed)
    world = World(seed, rng)
    policy = world.policy()
    w = world

    # relays: one per cluster, one central for blackbox and meta alerts
    relay_specs = []
    relays = {}
    for i, c in enumerate([*w.clusters, ""]):
        name = f"alert-relay-{c}" if c else "alert-relay-central"
        relay_specs.append({
            "name": name,
            "lease": rng.choice([180, 240, 300]),
            "batch": rng.choice([8, 15, 25, 40]),
            "order": rng.choice(["startsAt", "shuffle", "fingerprint"]),
            "groupkey": rng.choice(["static", "batch", "mimic"]),
            "dup": rng.uniform(0.03, 0.09),
            "url": f"http://{name}.monitoring.internal:{rng.choice([8080, 9095, 5001])}",
            "receiver": rng.choice(["altlas", "altlas-webhook", "incident-bridge"]),
        })
        relays[c] = i
    b = Builder(w, rng, relays)
    faults_truth = {}

    svc_names = list(w.services)
    fault_hosts = sorted(w.host_cluster)
    busy: dict[str, int] = {}  # cause -> busy until
    t = rng.randint(120, 420)
    fault_ends = []
    for fi in range(1, faults + 1):
        if fi > 1:
            t += max(20, int(rng.expovariate(1.0 / (every_minutes * 60))))
        gid = f"fault-{fi}"
        dur = int(min(75, max(4, rng.lognormvariate(math.log(13), 0.6))) * 60)
        fend = t + dur
        kind = rng.choices(["service", "host", "cluster"], [50, 32, 18])[0]
        for _ in range(30):
            if kind == "service":
                cause = rng.choice(svc_names)
            elif kind == "host":
                cause = rng.choice(fault_hosts)
            else:
                cause = rng.choice(w.clusters)
            if busy.get(cause, -1) < t:
                break
            kind = rng.choices(["service", "host", "cluster"], [50, 32, 18])[0]
        busy[cause] = fend + 1200
        before = len(b.reg.all)
        if kind == "service":
            _service_fault(b, gid, cause, t, fend)
        elif kind == "host":
            _host_fault(b, gid, cause, t, fend)
        else:
            _cluster_fault(b, gid, cause, t, fend)
        for _ in range(5):
            mine = b.reg.all[before:]
            if len(mine) >= 2 and any(_on_cause(o.labels, kind, cause) for o in mine):
                break
            if not any(_on_cause(o.labels, kind, cause) for o in mine):
                _top_up(b, gid, kind, cause, t, fend, 1, on_cause=True)
            if len(b.reg.all) - before < 2:
                _top_up(b, gid, kind, cause, t, fend, 2 - (len(b.reg.all) - before))
        faults_truth[gid] = {"cause": cause, "kind": kind, "at": ts(t)}
        fault_ends.append(max(o.end for o in b.reg.all[before:]) if len(b.reg.all) > before else fend)

    horizon = max(fault_ends) + rng.randint(180, 600)
    n_fault_occ = len(b.reg.all)
    _noise(b, rng, n_fault_occ, horizon)

    deliveries = _send(b, relay_specs, rng, horizon)

    occs = [o for o in b.reg.all if o.delivered]
    occs.sort(key=lambda o: (o.start, o.fp))
    n_noise = 0
    for o in occs:   # each noise occurrence its own group, numbered in order of onset
        if o.group.startswith("noise-"):
            n_noise += 1
            o.group = f"noise-{n_noise}"
    truth_alerts = [{
        "fingerprint": o.fp, "startsAt": ts(o.start),
        "endsAt": ts(o.end) if o.end <= horizon else None,
        "labels": o.labels, "annotations": o.ann, "group": o.group} for o in occs]
    return {
        "storm": 1, "family": FAMILY, "seed": seed, "faults": faults,
        "every_minutes": float(every_minutes),
        "policy": policy,
        "deliveries": deliveries,
        "truth": {"alerts": truth_alerts, "faults": faults_truth},
    }


def _delay_cause(rng):
    if rng.random() < 0.75:
        return rng.randint(0, 180)
    return rng.randint(240, 600)   # slow `for:` duration: the cause may show up after symptoms


def _symptom_window(rng, t, fend, depth, rule_name):
    delay = min(600, rng.randint(0, 240) + depth * rng.randint(20, 150))
    s = t + delay
    if s > fend + 60:
        return None
    tail = rng.randint(30, 360)
    if rule_name in ("QueueBacklogGrowing", "ConsumerLagHigh", "RabbitmqTooManyUnackMessages",
                     "PostgresqlReplicationLag", "MysqlReplicationLag"):
        tail += rng.randint(120, 600)
    e = max(fend + tail, s + MIN_OCC + rng.randint(0, 120))
    return s, e


def _add_causes(b: Builder, gid, target_fn, rules, t, fend, primary_force=False) -> int:
    """Cause alerts: a primary one (tries every rule and instance) and maybe more."""
    rng = b.rng
    got = 0
    cands = list(rules)
    rng.shuffle(cands)
    tries = []
    for r in cands:
        for tgt in target_fn(r):
            tries.append((r, tgt))
    for attempt in range(3):
        for r, tgt in tries:
            s = t + (_delay_cause(rng) if attempt == 0 else rng.randint(0, 600))
            e = max(fend + rng.randint(0, 120), s + MIN_OCC + 30)
            if b.make(r, tgt, s, e, gid, force_service=primary_force, flap=True):
                got = 1
                break
        if got:
            break
    # secondary cause alerts
    extra = rng.choices([0, 1, 2], [40, 40, 20])[0]
    for r, tgt in tries[: extra * 2]:
        if extra <= 0:
            break
        s = t + rng.randint(0, 420)
        e = max(fend + rng.randint(0, 150), s + MIN_OCC + 30)
        if b.make(r, tgt, s, e, gid, flap=True):
            got += 1
            extra -= 1
    return got


def _svc_targets(b: Builder, svc: str, rule_name: str, dep=None, hosts=None):
    s = b.w.services[svc]
    scope = RULES[rule_name].scope
    if scope == "inst":
        hs = list(hosts or s.hosts)
        b.rng.shuffle(hs)
        return [("svc", svc, h, dep) for h in hs]
    return [("svc", svc, (hosts or s.hosts)[0], dep)]


def _spread(b: Builder, gid, roots: dict, t, fend, probs=(0.8, 0.55, 0.35, 0.25)):
    """Symptoms on everything that depends (transitively) on the broken services.
    roots: service -> depth at which its dependents start."""
    rng, w = b.rng, b.w
    seen = dict(roots)
    frontier = [(name, d) for name, d in roots.items()]
    while frontier:
        nxt = []
        for name, d in frontier:
            for up in w.dependents.get(name, []):
                if up in seen:
                    continue
                seen[up] = d + 1
                nxt.append((up, d + 1))
                p = probs[min(d, len(probs) - 1)]
                if rng.random() >= p:
                    continue
                arch = w.services[up].arch
                cands = list(DEPENDENT.get(arch, DEPENDENT["http"]))
                if w.services[name].arch in DB_ARCH and arch == "http":
                    cands += ["DBConnectionPoolExhausted"] * 2
                if w.services[name].arch == "kafka" and arch == "worker" and "kafka" in w.services[up].deps:
                    cands += ["ConsumerLagHigh"] * 2
                if w.services[up].tier == "edge":
                    cands += ["ProbeFailed"]
                k = rng.choices([1, 2, 3], [55, 32, 13])[0]
                picks = []
                for _ in range(k):
                    r = rng.choice(cands)
                    if r not in picks:
                        picks.append(r)
                for r in picks:
                    win = _symptom_window(rng, t, fend, d + 1, r)
                    if not win:
                        continue
                    tg = _svc_targets(b, up, r, dep=name)
                    n_inst = len(tg) if RULES[r].scope != "inst" else rng.randint(1, len(tg))
                    for tgt in tg[:n_inst]:
                        s, e = win
                        jitter = rng.randint(0, 60)
                        b.make(r, tgt, min(s + jitter, t + 600), e + jitter, gid, flap=True)
        frontier = nxt


def _service_fault(b: Builder, gid, svc, t, fend):
    rng, w = b.rng, b.w
    s = w.services[svc]
    sub = rng.choice(list(SERVICE_FAULTS))
    effects, p_dep = SERVICE_FAULTS[sub]
    rules = []
    for eff in effects:
        rules += b.pick_rule(eff, s.arch)
    rules = list(dict.fromkeys(rules))
    if s.tier == "edge":
        rules.append("ProbeFailed")
    # the primary cause alert always carries the service label; others follow the rule style
    _add_causes(b, gid, lambda r: _svc_targets(b, svc, r), rules, t, fend, primary_force=True)
    probs = tuple(p * p_dep for p in (0.85, 0.55, 0.35, 0.25))
    _spread(b, gid, {svc: 0}, t, fend, probs)


def _host_fault(b: Builder, gid, host, t, fend):
    rng, w = b.rng, b.w
    sub = rng.choice(list(HOST_FAULTS))
    host_rules, effect, p_svc = HOST_FAULTS[sub]
    extra = None
    if sub == "disk-full":
        extra = rng.choice(["/", "/var/lib/docker", "/var/lib/postgresql", "/data", "/var/log"])
    elif sub in ("nic",):
        extra = rng.choice(["eth0", "ens5", "bond0"])
    elif sub == "io":
        extra = rng.choice(["nvme0n1", "sda", "xvdb"])
    _add_causes(b, gid, lambda r: [("host", host, extra)], host_rules, t, fend)
    roots = {}
    for s in w.services.values():
        if host not in s.hosts:
            continue
        if rng.random() >= p_svc:
            continue
        roots[s.name] = 0
        rules = b.pick_rule(effect, s.arch)
        for r in rng.sample(rules, rng.randint(1, min(2, len(rules)))):
            win = _symptom_window(rng, t, fend, 0, r)
            if not win:
                continue
            if RULES[r].scope == "inst":
                tg = [("svc", s.name, host, None)]
            else:
                tg = [("svc", s.name, host, None)]
                if rng.random() < 0.5:
                    continue   # a service-wide alert needs more than one instance failing
            for tgt in tg:
                b.make(r, tgt, win[0], win[1], gid, flap=True)
    if roots:
        _spread(b, gid, roots, t, fend, (0.55, 0.35, 0.2))


def _cluster_fault(b: Builder, gid, cluster, t, fend):
    rng, w = b.rng, b.w
    sub = rng.choice(list(CLUSTER_FAULTS))
    c_rules, effect = CLUSTER_FAULTS[sub]
    _add_causes(b, gid, lambda r: [("cluster", cluster)], c_rules, t, fend)
    members = [s for s in w.services.values() if s.cluster == cluster]
    hit = [s for s in members if rng.random() < 0.85]
    if len(hit) < min(2, len(members)):
        hit = rng.sample(members, min(2, len(members)))
    roots = {}
    for s in hit:
        roots[s.name] = 0
        rules = b.pick_rule(effect, s.arch)
        got = 0
        for r in rng.sample(rules, len(rules)):
            if got >= rng.randint(1, 2):
                break
            win = _symptom_window(rng, t, fend, 0, r)
            if not win:
                continue
            deps = list(s.deps)
            rng.shuffle(deps)
            if RULES[r].extra and RULES[r].extra[0] != "consumergroup" and not deps:
                continue
            tg = _svc_targets(b, s.name, r, dep=deps[0] if deps else None)
            n = len(tg) if RULES[r].scope != "inst" else rng.randint(1, len(tg))
            for tgt in tg[:n]:
                jitter = rng.randint(0, 90)
                got += b.make(r, tgt, min(win[0] + jitter, t + 600), win[1] + jitter, gid, flap=True) > 0
    # services elsewhere that need something in the cluster
    outside = {n: 0 for n in roots}
    _spread(b, gid, outside, t, fend, (0.4, 0.2))


def _on_cause(labels: dict, kind: str, cause: str) -> bool:
    if kind == "service":
        return labels.get("service") == cause
    if kind == "cluster":
        return labels.get("cluster") == cause and "job" not in labels
    inst = labels.get("instance", "")
    return cause in (labels.get("host"), labels.get("node"), inst, inst.rsplit(":", 1)[0])


def _top_up(b: Builder, gid, kind, cause, t, fend, need, on_cause=False):
    """A fault needs two alerts at least, one of them on its cause: add more on the cause."""
    rng, w = b.rng, b.w
    for _ in range(60):
        if need <= 0:
            return
        s = t + rng.randint(0, 600)
        e = max(fend + rng.randint(0, 240), s + MIN_OCC + 60)
        if kind == "service":
            sv = w.services[cause]
            r = rng.choice([r2 for x in ("errors", "latency", "resource", "down")
                            for r2 in b.pick_rule(x, sv.arch)])
            tgt = rng.choice(_svc_targets(b, cause, r))
        elif kind == "host":
            r = rng.choice(["NodeDown", "HostUnreachable", "KubeNodeNotReady", "HostHighCpuLoad",
                            "HostOutOfMemory", "HostDiskIOSaturated", "NodeNetworkReceiveErrs"])
            tgt = ("host", cause, None)
            if rng.random() < 0.5 and not on_cause:
                on = [sv for sv in w.services.values() if cause in sv.hosts]
                if on:
                    sv = rng.choice(on)
                    r = rng.choice(EFFECTS["down"].get(sv.arch, ["TargetDown"]))
                    tgt = ("svc", sv.name, cause, None)
        else:
            r = rng.choice(["ClusterDNSResolutionFailures", "ClusterDNSLatencyHigh",
                            "ClusterNetworkPacketLoss", "ClusterEgressDegraded"])
            tgt = ("cluster", cause)
            if rng.random() < 0.6 and not on_cause:
                on = [sv for sv in w.services.values() if sv.cluster == cause]
                if on:
                    sv = rng.choice(on)
                    r = rng.choice(EFFECTS["network"].get(sv.arch, ["TargetDown"]))
                    tgt = rng.choice(_svc_targets(b, sv.name, r))
        need -= b.make(r, tgt, s, e, gid, force_service=(kind == "service"))


NOISE_KINDS = [
    # kind, weight
    ("cpu_spike", 14), ("fs_filling", 6), ("clock", 3), ("cert", 4), ("cron", 12),
    ("slow_db", 8), ("evictions", 5), ("gc", 9), ("latency_blip", 10), ("restart", 10),
    ("4xx", 5), ("backup", 3), ("rollout", 7), ("errors_blip", 6),
]


def _noise(b: Builder, rng: random.Random, n_fault_occ: int, horizon: int):
    w = b.w
    target = round(n_fault_occ * 0.5 * rng.uniform(0.92, 1.08))
    hosts = sorted(w.host_cluster) + sorted(w.extra_hosts)
    svcs = list(w.services)
    apps = [s for s in svcs if w.services[s].tier != "data"]
    dbs = [s for s in svcs if w.services[s].arch in DB_ARCH]
    redis = [s for s in svcs if w.services[s].arch == "redis"]
    http = [s for s in svcs if w.services[s].arch == "http"]
    edge = [s for s in svcs if w.services[s].tier == "edge"]
    crons = []
    for s in apps + dbs:
        if rng.random() < 0.5:
            crons.append((s, f"{s}-{rng.choice(['nightly-report', 'cleanup', 'reindex', 'export', 'compaction', 'sync'])}"))
    if not crons:
        crons.append((apps[0], f"{apps[0]}-cleanup"))
    seq = [0]
    last = horizon - 300
    added = 0

    def group():
        seq[0] += 1
        return f"noise-pending-{seq[0]}"

    # the heartbeat every Prometheus setup has, firing all along
    if rng.random() < 0.6:
        added += b.make("Watchdog", ("meta",), -rng.randint(86400, 864000), horizon + 10 ** 7, group())
    kinds, weights = zip(*NOISE_KINDS, strict=True)
    attempts = 0
    while added < target and attempts < target * 20:
        attempts += 1
        kind = rng.choices(kinds, weights)[0]
        s = rng.randint(0, last)
        if kind == "cpu_spike":
            added += b.make("HostHighCpuLoad", ("host", rng.choice(hosts), None), s, s + rng.randint(MIN_OCC, 540), group())
        elif kind == "fs_filling":
            mnt = rng.choice(["/", "/var/log", "/var/lib/docker", "/data"])
            if rng.random() < 0.4:
                s = -rng.randint(3600, 86400 * 2)
            added += b.make("NodeFilesystemSpaceFillingUp", ("host", rng.choice(hosts), mnt), s, s + rng.randint(1800, 14400), group())
        elif kind == "clock":
            added += b.make("NodeClockNotSynchronising", ("host", rng.choice(hosts), None), s, s + rng.randint(600, 3600), group())
        elif kind == "cert":
            s = -rng.randint(3600, 86400 * 3) if rng.random() < 0.6 else s
            added += b.make("SSLCertExpiringSoon", ("cert", rng.choice(CERT_DOMAINS)), s, s + rng.randint(86400, 86400 * 5), group())
        elif kind == "cron":
            svc, cron = rng.choice(crons)
            # flaky batch job: fails, gets fixed by the next run, fails again hours later
            cur = s
            for _ in range(rng.randint(1, 3)):
                if cur > last:
                    break
                added += b.make("CronJobFailed", ("cron", svc, cron), cur, cur + rng.randint(600, 3600), group())
                cur += rng.randint(5400, 4 * 3600)
        elif kind == "slow_db" and dbs:
            sv = rng.choice(dbs)
            r = "PostgresqlSlowQueries" if w.services[sv].arch == "postgres" else "MysqlSlowQueries"
            added += b.make(r, ("svc", sv, rng.choice(w.services[sv].hosts), None), s, s + rng.randint(MIN_OCC, 900), group())
        elif kind == "evictions" and redis:
            sv = rng.choice(redis)
            added += b.make("RedisTooManyEvictions", ("svc", sv, rng.choice(w.services[sv].hosts), None), s, s + rng.randint(MIN_OCC, 1200), group())
        elif kind == "gc" and http:
            sv = rng.choice(http)
            added += b.make("JvmGcPauseHigh", ("svc", sv, rng.choice(w.services[sv].hosts), None), s, s + rng.randint(MIN_OCC, 600), group())
        elif kind == "latency_blip" and http:
            sv = rng.choice(http)
            added += b.make("HighRequestLatency", ("svc", sv, w.services[sv].hosts[0], None), s, s + rng.randint(MIN_OCC, 480), group())
        elif kind == "errors_blip" and http:
            sv = rng.choice(http)
            r = rng.choice(["HTTP5xxErrorsHigh", "HighErrorRate"])
            added += b.make(r, ("svc", sv, rng.choice(w.services[sv].hosts), None), s, s + rng.randint(MIN_OCC, 420), group())
        elif kind == "restart":
            sv = rng.choice(apps)
            added += b.make("ContainerRestarting", ("svc", sv, rng.choice(w.services[sv].hosts), None), s, s + rng.randint(MIN_OCC, 600), group())
        elif kind == "4xx" and edge:
            sv = rng.choice(edge)
            added += b.make("HTTP4xxRateHigh", ("svc", sv, w.services[sv].hosts[0], None), s, s + rng.randint(300, 2400), group())
        elif kind == "backup" and dbs:
            sv = rng.choice(dbs)
            if w.services[sv].arch == "postgres":
                added += b.make("PostgresqlBackupTooOld", ("svc", sv, w.services[sv].hosts[0], None), s, s + rng.randint(1800, 7200), group())
        elif kind == "rollout":
            sv = rng.choice(apps)
            added += b.make("KubeDeploymentReplicasMismatch", ("svc", sv, w.services[sv].hosts[0], None), s, s + rng.randint(MIN_OCC, 900), group())


# --------------------------------------------------------------------------------------------
# The sender: every 60-120 s, every firing alert, in sender-side batches
# --------------------------------------------------------------------------------------------
def _send(b: Builder, specs: list, rng: random.Random, horizon: int) -> list:
    per_relay: dict[int, list[Occ]] = {i: [] for i in range(len(specs))}
    for o in b.reg.all:
        # a resolved notice for about half of the alerts that stop; some are repeated
        o.resolve = rng.choices([1, 2, 3], [70, 25, 5])[0] if rng.random() < 0.5 else 0
        per_relay[o.relay].append(o)
    out = []   # (at, relay, seq, payload)
    for ri, spec in enumerate(specs):
        occs = sorted(per_relay[ri], key=lambda o: (o.start, o.fp))
        if not occs:
            continue
        prng = random.Random(f"{b.w.seed}/relay/{spec['name']}")
        tick = prng.randint(0, 120)
        idx = 0
        active: list[Occ] = []
        resolving: list[list] = []   # [occ, remaining]
        batch_no = 0
        while tick <= horizon:
            while idx < len(occs) and occs[idx].start <= tick:
                active.append(occs[idx])
                idx += 1
            firing = []
            still = []
            for o in active:
                if o.end <= tick:
                    if o.resolve and o.delivered:
                        resolving.append([o, o.resolve])
                else:
                    firing.append(o)
                    still.append(o)
            active = still
            firing_fps = {o.fp for o in firing}
            entries = []
            for o in firing:
                o.delivered = True
                entries.append(("firing", o))
            keep = []
            for item in resolving:
                o, left = item
                if o.fp in firing_fps:     # the label set fires again: the relay only knows the new one
                    continue
                entries.append(("resolved", o))
                o.resolved_sent = True
                if left > 1:
                    keep.append([o, left - 1])
            resolving = keep
            if entries:
                if spec["order"] == "shuffle":
                    prng.shuffle(entries)
                elif spec["order"] == "fingerprint":
                    entries.sort(key=lambda e: e[1].fp)
                size = spec["batch"]
                for k in range(0, len(entries), size):
                    chunk = entries[k:k + size]
                    batch_no += 1
                    payload = _payload(spec, chunk, tick, batch_no)
                    out.append((tick, ri, batch_no, 0, payload))
                    if prng.random() < spec["dup"]:
                        # the same POST again: a duplicated batch, or a retry after a timeout
                        d = prng.randint(0, 2) if prng.random() < 0.5 else prng.randint(10, 30)
                        out.append((tick + d, ri, batch_no, 1, copy.deepcopy(payload)))
            tick += prng.randint(60, 120)
    out.sort(key=lambda x: (x[0], x[1], x[2], x[3]))
    return [{"at": ts(at), "payload": p} for at, _, _, _, p in out]


def _payload(spec: dict, chunk: list, tick: int, batch_no: int) -> dict:
    alerts = []
    for status, o in chunk:
        alerts.append({
            "status": status,
            "labels": dict(o.labels),
            "annotations": dict(o.ann),
            "startsAt": ts(o.start),
            "endsAt": ts(tick + spec["lease"]) if status == "firing" else ts(o.end),
            "generatorURL": o.url,
            "fingerprint": o.fp,
        })
    common = dict(alerts[0]["labels"])
    common_ann = dict(alerts[0]["annotations"])
    for a in alerts[1:]:
        common = {k: v for k, v in common.items() if a["labels"].get(k) == v}
        common_ann = {k: v for k, v in common_ann.items() if a["annotations"].get(k) == v}
    if spec["groupkey"] == "static":
        group_labels, key = {}, "{}:{}"
    elif spec["groupkey"] == "batch":
        group_labels, key = {}, f"{spec['name']}/{ts(tick)}/{batch_no}"
    else:
        group_labels = {k: common[k] for k in ("cluster",) if k in common}
        inner = ", ".join(f'{k}="{v}"' for k, v in sorted(group_labels.items()))
        key = f'{{}}/{{relay="{spec["name"]}"}}:{{{inner}}}'
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {
        "receiver": spec["receiver"],
        "status": status,
        "alerts": alerts,
        "groupLabels": group_labels,
        "commonLabels": common,
        "commonAnnotations": common_ann,
        "externalURL": spec["url"],
        "version": "4",
        "groupKey": key,
        "truncatedAlerts": 0,
    }


# --------------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------------
NAME_RE = re.compile(r"^[a-z0-9-]+$")
CLUSTER_RE = re.compile(r"^[A-Za-z0-9_-]+$")
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


def check(doc: dict) -> tuple[list[str], list[str]]:
    errs: list[str] = []
    pol = doc.get("policy", {})
    hosts = pol.get("hosts", {})
    services = pol.get("services", {})
    for h, v in hosts.items():
        if not NAME_RE.match(h):
            errs.append(f"policy host name {h!r}")
        if not isinstance(v, dict) or v.get("env") not in ("prod", "staging", "dev"):
            errs.append(f"policy host {h} env {v!r}")
    for n, s in services.items():
        if not NAME_RE.match(n):
            errs.append(f"policy service name {n!r}")
        for h in s.get("hosts", []):
            if h not in hosts:
                errs.append(f"service {n} host {h} not in policy hosts")
        for d in s.get("depends_on", []):
            if d not in services or d == n:
                errs.append(f"service {n} depends on unknown {d}")
        if "cluster" in s and not CLUSTER_RE.match(s["cluster"]):
            errs.append(f"service {n} cluster {s['cluster']!r}")
    state = {}

    def visit(n):
        if state.get(n) == 1:
            errs.append(f"dependency cycle through {n}")
            return
        if state.get(n) == 2:
            return
        state[n] = 1
        for d in services.get(n, {}).get("depends_on", []):
            if d in services:
                visit(d)
        state[n] = 2
    for n in services:
        visit(n)

    truth = doc["truth"]
    t_alerts = truth["alerts"]
    t_keys = {}
    for a in t_alerts:
        k = (a["fingerprint"], a["startsAt"])
        if k in t_keys:
            errs.append(f"truth occurrence twice {k}")
        t_keys[k] = a
        if fingerprint(a["labels"]) != a["fingerprint"]:
            errs.append(f"truth fingerprint mismatch {k}")
        if a["endsAt"] is not None and parse_ts(a["endsAt"]) < parse_ts(a["startsAt"]):
            errs.append(f"truth endsAt before startsAt {k}")
    seen = set()
    prev = None
    resolved_seen = set()
    n_dup = 0
    last_payload = {}
    req = ("receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations",
           "externalURL", "version", "groupKey", "truncatedAlerts")
    areq = ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint")
    for i, d in enumerate(doc["deliveries"]):
        at = parse_ts(d["at"])
        if not TS_RE.match(d["at"]):
            errs.append(f"delivery {i} at {d['at']!r}")
        if prev is not None and at < prev:
            errs.append(f"delivery {i} out of order")
        prev = at
        p = d["payload"]
        for f in req:
            if f not in p:
                errs.append(f"delivery {i} lacks {f}")
        if p.get("version") != "4":
            errs.append(f"delivery {i} version {p.get('version')!r}")
        if not isinstance(p.get("truncatedAlerts"), int):
            errs.append(f"delivery {i} truncatedAlerts")
        if not p.get("alerts"):
            errs.append(f"delivery {i} without alerts")
            continue
        sig = json.dumps(p, sort_keys=True)
        if last_payload.get(p["externalURL"]) == sig:
            n_dup += 1
        last_payload[p["externalURL"]] = sig
        any_firing = False
        for a in p["alerts"]:
            for f in areq:
                if f not in a:
                    errs.append(f"delivery {i} alert lacks {f}")
            if a["status"] not in ("firing", "resolved"):
                errs.append(f"delivery {i} alert status {a['status']!r}")
            any_firing |= a["status"] == "firing"
            for f in ("startsAt", "endsAt"):
                if not TS_RE.match(a[f]):
                    errs.append(f"delivery {i} {f} {a[f]!r}")
            if fingerprint(a["labels"]) != a["fingerprint"]:
                errs.append(f"delivery {i} fingerprint mismatch {a['fingerprint']}")
            sa, ea = parse_ts(a["startsAt"]), parse_ts(a["endsAt"])
            if sa > at:
                errs.append(f"delivery {i} carries an alert starting later ({a['startsAt']})")
            if a["status"] == "resolved":
                if ea < sa:
                    errs.append(f"delivery {i} resolved alert ends before it starts")
                if ea > at:
                    errs.append(f"delivery {i} resolved alert ends in the future")
            elif ea <= at:
                errs.append(f"delivery {i} firing alert with an endsAt already past")
            k = (a["fingerprint"], a["startsAt"])
            seen.add(k)
            if a["status"] == "resolved":
                resolved_seen.add(k)
            ta = t_keys.get(k)
            if ta is None:
                errs.append(f"delivery {i} occurrence {k} missing from truth")
            else:
                if ta["labels"] != a["labels"]:
                    errs.append(f"delivery {i} labels differ from truth for {k}")
                if a["status"] == "resolved" and ta["endsAt"] != a["endsAt"]:
                    errs.append(f"delivery {i} resolved endsAt differs from truth for {k}")
        want = "firing" if any_firing else "resolved"
        if p["status"] != want:
            errs.append(f"delivery {i} status {p['status']} should be {want}")
        cl = p["commonLabels"]
        if any(a["labels"].get(k2) != v for a in p["alerts"] for k2, v in cl.items()):
            errs.append(f"delivery {i} commonLabels not common")
    for k in t_keys:
        if k not in seen:
            errs.append(f"truth occurrence {k} never delivered")

    # faults
    faults = truth["faults"]
    by_group: dict[str, list] = {}
    for a in t_alerts:
        by_group.setdefault(a["group"], []).append(a)
    for g, lst in by_group.items():
        if g.startswith("noise-"):
            if len(lst) != 1:
                errs.append(f"noise group {g} has {len(lst)} occurrences")
        elif g not in faults:
            errs.append(f"group {g} is not a fault")

    def host_of(lbl):
        out = set()
        for k2 in ("host", "node"):
            if k2 in lbl:
                out.add(lbl[k2])
        if "instance" in lbl and "://" not in lbl["instance"]:
            out.add(lbl["instance"].rsplit(":", 1)[0] if ":" in lbl["instance"] else lbl["instance"])
        return out
    kinds = {}
    for fid, f in faults.items():
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
        lst = by_group.get(fid, [])
        if len(lst) < 2:
            errs.append(f"{fid} has {len(lst)} occurrences")
        cause = f["cause"]
        if f["kind"] == "service":
            ok = any(a["labels"].get("service") == cause for a in lst)
        elif f["kind"] == "host":
            ok = any(cause in host_of(a["labels"]) for a in lst)
        elif f["kind"] == "cluster":
            ok = any(a["labels"].get("cluster") == cause and not ({"service", "instance", "host", "node", "job"} & set(a["labels"])) for a in lst)
        else:
            ok = False
            errs.append(f"{fid} kind {f['kind']!r}")
        if not ok:
            errs.append(f"{fid} has no alert on its cause {cause}")
        if not TS_RE.match(f["at"]):
            errs.append(f"{fid} at {f['at']!r}")

    # summary
    n_occ = len(t_alerts)
    n_noise = sum(1 for a in t_alerts if a["group"].startswith("noise-"))
    fps = {}
    refires = 0
    refire_no_resolve = 0
    for a in sorted(t_alerts, key=lambda a: a["startsAt"]):
        if a["fingerprint"] in fps:
            refires += 1
            prev_k = fps[a["fingerprint"]]
            if prev_k not in resolved_seen:
                refire_no_resolve += 1
        fps[a["fingerprint"]] = (a["fingerprint"], a["startsAt"])
    ended = [a for a in t_alerts if a["endsAt"] is not None]
    no_resolve = sum(1 for a in ended if (a["fingerprint"], a["startsAt"]) not in resolved_seen)
    summary = [
        f"alerts (label sets) {len(fps)}, occurrences {n_occ}, deliveries {len(doc['deliveries'])} "
        f"(repeated payloads {n_dup})",
        "faults " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) + f" (total {len(faults)})",
        f"noise share {n_noise / max(1, n_occ):.2f} ({n_noise} occurrences)",
        f"re-fires {refires} (of which {refire_no_resolve} without a resolved notice in between)",
        f"ended occurrences without any resolved notice {no_resolve} of {len(ended)}; "
        f"still firing at the end {n_occ - len(ended)}",
    ]
    return errs, summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faults", type=int, default=40)
    ap.add_argument("--every", type=float, default=8.0)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    doc = generate(a.seed, a.faults, a.every)
    elapsed = time.perf_counter() - t0
    if not a.check:
        sys.stdout.write(json.dumps(doc))
        sys.stdout.write("\n")
        return 0
    errs, summary = check(doc)
    print(f"{FAMILY} seed={a.seed} faults={a.faults} every={a.every:g}: generated in {elapsed:.2f}s")
    for line in summary:
        print("  " + line)
    if errs:
        print(f"  {len(errs)} VIOLATIONS:")
        for e in errs[:30]:
            print("   - " + e)
        return 1
    print("  all invariants hold")
    return 0


if __name__ == "__main__":
    sys.exit(main())
