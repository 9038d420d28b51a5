#!/usr/bin/env python3
"""kube_stack: an alert-storm generator in the style of kube-prometheus.

The world: one team runs 12 services on two production Kubernetes clusters (6-8 worker
nodes between them, sometimes plus a small staging cluster that only makes noise).  A
service is a Deployment (APIs, queue workers) or a StatefulSet (PostgreSQL, Redis,
RabbitMQ, Kafka); its pods are pinned one per node on 2-3 nodes, so every node hosts
several services.  Services call each other (a DAG) and the policy lists exactly that.

Each cluster runs a Prometheus with the kube-prometheus rule set (kubernetes-mixin,
node-exporter-mixin, general.rules, coredns/etcd mixins, postgres-exporter, redis, kafka
and rabbitmq mixins) plus the team's own service rules (error-rate, latency and
error-budget alerts, a consumer-error alert).  Alert names, label sets, severities,
expressions and annotations follow those mixins; `for:` durations are the mixins' except
where the team shortened them (noted in RULE_FOR).  Prometheus adds its external labels
(`cluster`, `prometheus`) to every alert, sends `startsAt` = the evaluation at which the
alert started firing (`FiredAt`), keeps resending firing alerts with `endsAt` a few
evaluation intervals ahead, and after resolution resends them with `endsAt` = the
resolving evaluation for 15 minutes.

Both clusters send to one Alertmanager.  Its route tree (root group_by [cluster,
alertname] or [namespace, alertname], group_wait 30s, group_interval 5m, repeat 3-12h;
a critical sub-route with the other group_by; an info/none sub-route whose receiver has
send_resolved false) is simulated the way Alertmanager's dispatcher and notification
pipeline do it: aggregation groups created on the first alert (flush after group_wait,
or at once if the alert started more than group_wait ago), flushed every group_interval,
removed by the 30s maintenance once empty; the DedupStage decision from the
notification log (new firing alerts, all resolved, newly resolved if send_resolved,
repeat_interval); resolved alerts dropped from the group after each flush and
re-inserted by Prometheus' resends; firing alerts shown with endsAt
0001-01-01T00:00:00Z; alerts in a payload ordered by job, instance, then label set.
Fingerprints are prometheus/common's labelSetToFingerprint (FNV-1a 64, 0xff separators).

Faults: services (bad rollouts, error bursts, slow code, hard down, stuck consumers,
database connection exhaustion / slow queries / crashes, broker trouble), hosts (node
down, disk full, memory pressure, NIC errors, disk IO saturation) and clusters (CoreDNS,
control plane / etcd, kube-proxy).  Symptoms reach the services with pods on a faulty
node, every caller (transitively) of a faulty service, and services of a faulty
cluster, each with some probability, 0-10 minutes after the fault, and clear some
minutes after repair (error-budget burns linger).  Some causes alert last (a `for: 10m`
or longer rule).  About a third of the occurrences are noise (failed CronJobs,
certificate expiry warnings, CPU throttling, clock skew, HPA at max, short error blips,
Watchdog ...), on any service or node.  Some label sets fire again hours later, some
flap within minutes; with group_interval 5m and the send_resolved=false receiver many of
those re-fires reach the receiver without a resolved notice in between.

Everything is drawn from random.Random(seed); the output is a pure function of the
arguments.
"""
# ruff: noqa: E501  -- rule expressions and annotations are kept as the mixins write them
from __future__ import annotations

import argparse
import functools
import itertools
import json
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from urllib.parse import quote_plus

FAMILY = "kube_stack"

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
EVAL = 30 * SEC                 # kube-prometheus evaluationInterval
RESEND = 90 * SEC               # resend_delay 1m on a 30s evaluation grid -> every 90s
RETENTION = 15 * MIN            # Prometheus resends resolved alerts for 15 minutes
GROUP_WAIT = 30 * SEC
GROUP_INTERVAL = 5 * MIN
MAINTENANCE = 30 * SEC
ZERO_TIME = "0001-01-01T00:00:00Z"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SAFE = "bcdfghjklmnpqrstvwxz2456789"     # Kubernetes' rand.SafeEncodeString alphabet
HEX = "0123456789abcdef"
NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
CLUSTER_RE = re.compile(r"^[A-Za-z0-9_-]+$")
INF = float("inf")


# --------------------------------------------------------------------------- basics

def fmt(ms: int) -> str:
    """RFC 3339 in UTC with Go's RFC3339Nano trimming of the fraction."""
    dt = EPOCH + timedelta(milliseconds=ms)
    s = dt.strftime("%Y-%m-%dT%H:%M:%S")
    frac = ms % 1000
    if frac:
        s += ("." + f"{frac:03d}").rstrip("0")
    return s + "Z"


def parse(s: str) -> int:
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return round((dt - EPOCH).total_seconds() * 1000)


_M64 = (1 << 64) - 1


def fingerprint(labels: dict) -> str:
    """prometheus/common model.LabelSet.Fingerprint: FNV-1a 64 over sorted name/value pairs."""
    h = 14695981039346656037
    for name in sorted(labels):
        for b in name.encode() + b"\xff" + labels[name].encode() + b"\xff":
            h ^= b
            h = (h * 1099511628211) & _M64
    return f"{h:016x}"


def go_quote(v: str) -> str:
    return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def labelset_str(labels: dict) -> str:
    """model.LabelSet.String(): {a="b", c="d"} sorted by name."""
    return "{" + ", ".join(f"{k}={go_quote(labels[k])}" for k in sorted(labels)) + "}"


def labels_before(a: dict, b: dict) -> bool:
    """model.LabelSet.Before."""
    if len(a) != len(b):
        return len(a) < len(b)
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


def alertslice_cmp(x: Occ, y: Occ) -> int:
    """types.AlertSlice.Less: labels job, then instance, then LabelSet.Before."""
    for key in ("job", "instance"):
        xv, yv = x.labels.get(key), y.labels.get(key)
        if xv is None and yv is None:
            continue
        if xv is None:
            return 1
        if yv is None:
            return -1
        if xv != yv:
            return -1 if xv < yv else 1
    if labels_before(x.labels, y.labels):
        return -1
    if labels_before(y.labels, x.labels):
        return 1
    return 0


def rstr(rng: random.Random, n: int, alphabet: str = SAFE) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def uid(rng: random.Random) -> str:
    return "-".join(rstr(rng, n, HEX) for n in (8, 4, 4, 4, 12))


def minutes(rng: random.Random, lo: float, hi: float) -> int:
    return int(rng.uniform(lo, hi) * MIN)


# --------------------------------------------------------------------------- world

class Node:
    def __init__(self, name, ip, cluster, env, idx):
        self.name, self.ip, self.cluster, self.env, self.idx = name, ip, cluster, env, idx
        self.ne_pod = ""
        self.pods = []          # (service, pod)


class Pod:
    def __init__(self, name, node, ip, uid_, ordinal):
        self.name, self.node, self.ip, self.uid, self.ordinal = name, node, ip, uid_, ordinal


class Svc:
    def __init__(self, name, kind, ns):
        self.name, self.kind, self.ns = name, kind, ns
        self.cluster = ""
        self.hosts = []
        self.deps = []
        self.pods = []
        self.rs = ""
        self.routes = []
        self.topic = ""
        self.workload = "statefulset" if kind in ("postgres", "redis", "rabbitmq", "kafka") else "deployment"
        self.port = {"api": 8080, "worker": 8081, "postgres": 9187, "redis": 9121,
                     "rabbitmq": 15692, "kafka": 9404}[kind]
        self.container = {"postgres": "postgres", "redis": "redis", "rabbitmq": "rabbitmq",
                          "kafka": "kafka"}.get(kind, name)
        self.datname = ""


class Cluster:
    def __init__(self, name, env):
        self.name, self.env = name, env
        self.nodes = []
        self.ksm = ""
        self.cp = []
        self.prom_url = ""
        self.offsets = {}


EDGE = [("storefront", "web"), ("api-gateway", "edge"), ("mobile-bff", "edge"), ("admin-portal", "backoffice")]
MID = [("checkout", "shop"), ("cart", "shop"), ("catalog", "catalog"), ("search", "catalog"),
       ("accounts", "identity"), ("payments", "payments"), ("shipping", "fulfilment"),
       ("inventory", "fulfilment"), ("pricing", "catalog"), ("recommendations", "catalog"),
       ("notifications", "messaging"), ("reviews", "catalog"), ("fraud-check", "payments"),
       ("loyalty", "shop")]
WORKERS = [("order-worker", "shop"), ("email-sender", "messaging"), ("invoice-worker", "payments"),
           ("search-indexer", "catalog")]
PG = [("orders-db", "data"), ("accounts-db", "identity"), ("catalog-db", "data"), ("payments-db", "payments")]
REDIS = [("session-cache", "data"), ("cart-redis", "shop")]
BROKERS = [("events-mq", "rabbitmq", "messaging"), ("event-bus", "kafka", "messaging")]
ROUTES = {
    "storefront": ["/", "/product/:id", "/cart"], "api-gateway": ["/v1/*", "/graphql"],
    "mobile-bff": ["/m/v2/home", "/m/v2/orders"], "admin-portal": ["/admin/orders", "/admin/reports"],
    "checkout": ["/api/v1/checkout", "/api/v1/checkout/confirm"], "cart": ["/api/v1/cart", "/api/v1/cart/items"],
    "catalog": ["/api/v1/products", "/api/v1/products/:id"], "search": ["/api/v1/search", "/api/v1/suggest"],
    "accounts": ["/api/v1/login", "/api/v1/users/:id"], "payments": ["/api/v1/payments", "/api/v1/refunds"],
    "shipping": ["/api/v1/quotes", "/api/v1/shipments"], "inventory": ["/api/v1/stock", "/api/v1/reservations"],
    "pricing": ["/api/v1/prices"], "recommendations": ["/api/v1/recs"], "notifications": ["/api/v1/notify"],
    "reviews": ["/api/v1/reviews"], "fraud-check": ["/api/v1/score"], "loyalty": ["/api/v1/points"],
}
EGROUPS = ["kubernetes-apps", "kubernetes-resources", "kubernetes-storage", "kubernetes-system",
           "kubernetes-system-kubelet", "kubernetes-system-apiserver", "kube-apiserver-slos",
           "node-exporter", "general.rules", "coredns", "etcd", "PostgreSQL", "redis",
           "RabbitMQClusterAlerts", "kafka-kafka-alerts", "cert-manager", "team-slos",
           "team-services", "team-queues", "kube-proxy"]


class World:
    pass


def node_namer(rng, style, cluster_name):
    if style == "gke":
        pool = rng.choice(["default-pool", "apps-pool", "general-n2"])
        grp = rstr(rng, 8, HEX)
        return lambda i: f"gke-{cluster_name}-{pool}-{grp}-{rstr(rng, 4, 'abcdefghijklmnopqrstuvwxyz0123456789')}"
    if style == "aks":
        pool = rng.choice(["nodepool1", "apps", "system2"])
        num = "".join(rng.choice("0123456789") for _ in range(8))
        return lambda i: f"aks-{pool}-{num}-vmss{i:06d}"
    site = rng.choice(["fra", "ams", "dub", "iad", "lon", "par"])
    start = rng.randint(1, 4)
    return lambda i: f"k8s-{site}-w{start + i:02d}"


def build_world(rng: random.Random) -> World:
    w = World()
    w.domain = rng.choice(["acme-shop.io", "corp.example.net", "shopfront.example.com", "internal.example.org"])
    w.am_url = f"https://alertmanager.{w.domain}"
    regions = rng.sample(["eu1", "eu2", "us1", "use1", "ap1", "euw3", "usw2"], 2)
    names = [f"prod-{regions[0]}", f"prod-{regions[1]}"]
    n_a = rng.randint(4, 5)
    n_b = rng.randint(2, 3)
    w.clusters = []
    w.nodes = {}
    specs = [(names[0], "prod", n_a), (names[1], "prod", n_b)]
    if rng.random() < 0.5:
        specs.append((f"staging-{regions[0]}", "staging", rng.randint(1, 2)))
    for ci, (cname, env, n) in enumerate(specs):
        cl = Cluster(cname, env)
        cl.prom_url = f"https://prometheus-{cname}.{w.domain}"
        namer = node_namer(rng, rng.choice(["gke", "aks", "metal"]), cname)
        subnet = rng.randint(0, 60)
        used = set()
        for i in range(n):
            name = namer(i)
            while name in w.nodes:
                name = namer(i + 10)
            host = rng.randint(4, 250)
            while host in used:
                host = rng.randint(4, 250)
            used.add(host)
            nd = Node(name, f"10.{10 + ci * 10}.{subnet}.{host}", cname, env, i)
            nd.ne_pod = f"node-exporter-{rstr(rng, 5)}"
            cl.nodes.append(nd)
            w.nodes[name] = nd
        cl.pod_net = 64 + ci * 16
        ksm_node = rng.randrange(n)
        cl.ksm = f"10.{cl.pod_net}.{ksm_node}.{rng.randint(2, 250)}"
        cl.cp = [f"172.{16 + ci}.0.{10 + k}" for k in range(3)]
        for g in EGROUPS:
            cl.offsets[g] = rng.randrange(EVAL)
        w.clusters.append(cl)
    w.cluster = {c.name: c for c in w.clusters}
    prod = [c for c in w.clusters if c.env == "prod"]

    # ---- services and their calls (a DAG: edge -> workers -> mids -> data)
    edges = rng.sample(EDGE, rng.randint(1, 2))
    workers = rng.sample(WORKERS, rng.randint(1, 2))
    brokers = [rng.choice(BROKERS)]
    if rng.random() < 0.25:
        brokers = list(BROKERS)
    pgs = rng.sample(PG, rng.randint(1, 2))
    redis_ = rng.sample(REDIS, rng.randint(0, 1))
    n_mid = 12 - len(edges) - len(workers) - len(brokers) - len(pgs) - len(redis_)
    mids = rng.sample(MID, n_mid)
    svcs = ([Svc(n, "api", ns) for n, ns in edges] + [Svc(n, "worker", ns) for n, ns in workers]
            + [Svc(n, "api", ns) for n, ns in mids] + [Svc(n, "postgres", ns) for n, ns in pgs]
            + [Svc(n, "redis", ns) for n, ns in redis_] + [Svc(n, k, ns) for n, k, ns in brokers])
    by = {s.name: s for s in svcs}
    e_s = svcs[:len(edges)]
    w_s = svcs[len(edges):len(edges) + len(workers)]
    m_s = svcs[len(edges) + len(workers):len(edges) + len(workers) + len(mids)]
    stores = [s for s in svcs if s.kind in ("postgres", "redis")]
    pg_s = [s for s in svcs if s.kind == "postgres"]
    br_s = [s for s in svcs if s.kind in ("rabbitmq", "kafka")]
    for s in e_s:
        s.deps = [m.name for m in rng.sample(m_s, min(len(m_s), rng.randint(2, 4)))]
    for s in w_s:
        s.deps = [rng.choice(br_s).name, rng.choice(pg_s).name]
        if rng.random() < 0.4:
            s.deps.append(rng.choice(m_s).name)
    for i, s in enumerate(m_s):
        later = m_s[i + 1:]
        if later:
            s.deps += [m.name for m in rng.sample(later, min(len(later), rng.choice([0, 0, 1, 1, 2])))]
        s.deps += [d.name for d in rng.sample(stores, min(len(stores), rng.randint(1, 2)))]
        if rng.random() < 0.35:
            s.deps.append(rng.choice(br_s).name)

    def callers(name):
        return [x for x in svcs if name in x.deps]
    for s in m_s:
        if not callers(s.name):
            rng.choice(e_s).deps.append(s.name)
    for s in stores:
        if not callers(s.name):
            rng.choice(m_s).deps.append(s.name)
    for s in br_s:
        if not [c for c in callers(s.name) if c.kind == "api"]:
            rng.choice(m_s).deps.append(s.name)
    for s in svcs:
        s.deps = sorted(set(s.deps), key=lambda d: [x.name for x in svcs].index(d))
        s.routes = ROUTES.get(s.name, ["/api/v1/" + s.name])
    for s in w_s:
        br = next(by[d] for d in s.deps if by[d].kind in ("rabbitmq", "kafka"))
        s.broker = br.name
        s.topic = (f"{s.name.split('-')[0]}-events" if br.kind == "kafka" else f"{s.name}.jobs")
    for s in pg_s:
        s.datname = s.name.replace("-db", "").replace("-", "_")

    # ---- clusters and placement (one pod per host)
    a, b = prod[0], prod[1]
    k_b = rng.randint(3, 5)
    b_set = set(x.name for x in rng.sample(svcs, k_b))
    for s in svcs:
        cl = b if s.name in b_set else a
        s.cluster = cl.name
        k = min(len(cl.nodes), rng.choice([2, 2, 3]))
        s.hosts = [n.name for n in rng.sample(cl.nodes, k)]
    for cl in (a, b):
        for nd in cl.nodes:
            mine = [s for s in svcs if s.cluster == cl.name]
            if not any(nd.name in s.hosts for s in mine):
                s = rng.choice([x for x in mine if len(x.hosts) < 3] or mine)
                if len(s.hosts) < 3:
                    s.hosts.append(nd.name)
                else:
                    s.hosts[rng.randrange(len(s.hosts))] = nd.name
    used_ip = set()
    for s in svcs:
        s.rs = rstr(rng, rng.choice([9, 10]))
        s.hosts = sorted(set(s.hosts), key=lambda h: w.nodes[h].idx)
        cl = w.cluster[s.cluster]
        for o, h in enumerate(s.hosts):
            nd = w.nodes[h]
            if s.workload == "deployment":
                pname = f"{s.name}-{s.rs}-{rstr(rng, 5)}"
            else:
                pname = f"{s.name}-{o}"
            ip = f"10.{cl.pod_net}.{nd.idx}.{rng.randint(2, 250)}"
            while ip in used_ip:
                ip = f"10.{cl.pod_net}.{nd.idx}.{rng.randint(2, 250)}"
            used_ip.add(ip)
            p = Pod(pname, h, ip, uid(rng), o)
            s.pods.append(p)
            nd.pods.append((s, p))
    w.svcs = svcs
    w.svc = by
    w.callers = {s.name: [x.name for x in svcs if s.name in x.deps] for s in svcs}
    return w


def policy_of(w: World) -> dict:
    hosts = {}
    for cl in w.clusters:
        for nd in cl.nodes:
            hosts[nd.name] = {"env": nd.env}
    services = {}
    for s in w.svcs:
        services[s.name] = {"hosts": list(s.hosts), "depends_on": list(s.deps), "cluster": s.cluster}
    return {"hosts": hosts, "services": services}


# --------------------------------------------------------------------------- alert rules

MIXIN_RB = "https://runbooks.prometheus-operator.dev/runbooks"

# `for:` durations (seconds).  Mixin defaults unless marked "team".
RULE_FOR = {
    "KubePodCrashLooping": 300,              # team (mixin 15m)
    "KubePodNotReady": 300,                  # team (mixin 15m)
    "KubeDeploymentReplicasMismatch": 900,
    "KubeDeploymentRolloutStuck": 900,
    "KubeStatefulSetReplicasMismatch": 900,
    "KubeContainerWaiting": 3600,
    "KubeJobFailed": 900,
    "KubeHpaMaxedOut": 900,
    "KubeQuotaAlmostFull": 900,
    "CPUThrottlingHigh": 900,
    "KubePersistentVolumeFillingUp": 3600,
    "KubeNodeNotReady": 600,                 # team (mixin 15m)
    "KubeNodeUnreachable": 900,
    "KubeNodePressure": 600,
    "KubeNodeEviction": 0,
    "KubeletServerCertificateExpiration": 0,
    "KubeClientCertificateExpiration": 300,
    "KubeAPIErrorBudgetBurn": 120,
    "KubeAPIErrorBudgetBurnSlow": 10800,
    "KubeAPITerminatedRequests": 300,
    "KubeProxyDown": 600,                    # team (mixin 15m)
    "TargetDown": 300,                       # team (kube-prometheus 10m)
    "Watchdog": 0,
    "NodeFilesystemAlmostOutOfSpace": 600,   # team (mixin 30m)
    "NodeFilesystemSpaceFillingUp": 3600,
    "NodeMemoryHighUtilization": 300,        # team (mixin 15m)
    "NodeNetworkReceiveErrs": 600,           # team (mixin 1h)
    "NodeNetworkTransmitErrs": 600,          # team (mixin 1h)
    "NodeDiskIOSaturation": 600,             # team (mixin 30m)
    "NodeSystemSaturation": 600,             # team (mixin 15m)
    "NodeCPUHighUsage": 900,
    "NodeClockSkewDetected": 600,
    "NodeHighNumberConntrackEntriesUsed": 0,
    "CoreDNSErrorsHigh": 600,
    "CoreDNSLatencyHigh": 600,
    "etcdHighNumberOfFailedGRPCRequests": 300,
    "PostgreSQLDown": 60,
    "PostgreSQLMaxConnectionsReached": 60,
    "PostgreSQLHighConnections": 600,
    "PostgreSQLSlowQueries": 120,
    "PostgresHasHighDeadLocks": 300,
    "PostgreSQLCacheHitRatio": 300,
    "PostgresTablesNotVaccumed": 1800,
    "RedisDown": 300,
    "RedisOutOfMemory": 300,
    "RedisTooManyConnections": 300,
    "RabbitMQMemoryHigh": 300,
    "RabbitMQNodeNotDistributed": 300,
    "RabbitMQFileDescriptorsUsage": 300,
    "RabbitMQUnroutableMessages": 300,
    "RabbitMQQueueBacklogGrowing": 300,      # team
    "KafkaUnderReplicatedPartitionCount": 300,
    "KafkaISRShrinkRate": 300,
    "KafkaOfflinePartitionCount": 300,
    "KafkaNoActiveController": 300,
    "KafkaLagKeepsIncreasing": 300,          # team (mixin 15m)
    "KafkaLagIsTooHigh": 600,                # team (mixin 15m)
    "HighErrorRate": 120,                    # team (critical); warning variant 5m
    "HighRequestLatency": 300,               # team
    "ErrorBudgetBurn": 120,                  # team (pyrra-style 1h/5m window)
    "JobProcessingErrorsHigh": 300,          # team
    "CertManagerCertExpirySoon": 3600,
}
KEEP_FIRING = {"KafkaLagKeepsIncreasing": 600, "KafkaLagIsTooHigh": 300,
               "KafkaUnderReplicatedPartitionCount": 300, "KafkaOfflinePartitionCount": 300}

EXPR = {
    "KubePodCrashLooping": 'max_over_time(kube_pod_container_status_waiting_reason{reason="CrashLoopBackOff", job="kube-state-metrics"}[5m]) * on(namespace, pod) group_left(node) max by(namespace, pod, node) (kube_pod_info) >= 1',
    "KubePodNotReady": 'sum by(namespace, pod, cluster) (max by(namespace, pod, cluster) (kube_pod_status_phase{job="kube-state-metrics", phase=~"Pending|Unknown|Failed"}) * on(namespace, pod, cluster) group_left(owner_kind) topk by(namespace, pod, cluster) (1, max by(namespace, pod, owner_kind, cluster) (kube_pod_owner{owner_kind!="Job"}))) > 0',
    "KubeDeploymentReplicasMismatch": '(kube_deployment_spec_replicas{job="kube-state-metrics"} > kube_deployment_status_replicas_available{job="kube-state-metrics"}) and (changes(kube_deployment_status_replicas_updated{job="kube-state-metrics"}[10m]) == 0)',
    "KubeDeploymentRolloutStuck": 'kube_deployment_status_condition{condition="Progressing", status="false",job="kube-state-metrics"} != 0',
    "KubeStatefulSetReplicasMismatch": '(kube_statefulset_status_replicas_ready{job="kube-state-metrics"} != kube_statefulset_replicas{job="kube-state-metrics"}) and (changes(kube_statefulset_status_replicas_updated{job="kube-state-metrics"}[10m]) == 0)',
    "KubeContainerWaiting": 'kube_pod_container_status_waiting_reason{reason!="CrashLoopBackOff", job="kube-state-metrics"} > 0',
    "KubeJobFailed": 'kube_job_failed{job="kube-state-metrics"} > 0',
    "KubeHpaMaxedOut": 'kube_horizontalpodautoscaler_status_current_replicas{job="kube-state-metrics"} == kube_horizontalpodautoscaler_spec_max_replicas{job="kube-state-metrics"}',
    "KubeQuotaAlmostFull": 'kube_resourcequota{job="kube-state-metrics", type="used"} / ignoring(instance, job, type) (kube_resourcequota{job="kube-state-metrics", type="hard"} > 0) > 0.9 < 1',
    "CPUThrottlingHigh": 'sum without (id, metrics_path, name, image, endpoint, job, node) (increase(container_cpu_cfs_throttled_periods_total{container!="", job="kubelet", metrics_path="/metrics/cadvisor"}[5m])) / sum without (id, metrics_path, name, image, endpoint, job, node) (increase(container_cpu_cfs_periods_total{job="kubelet", metrics_path="/metrics/cadvisor"}[5m])) > (25 / 100)',
    "KubePersistentVolumeFillingUp": '(kubelet_volume_stats_available_bytes{job="kubelet"} / kubelet_volume_stats_capacity_bytes{job="kubelet"}) < 0.15 and kubelet_volume_stats_used_bytes{job="kubelet"} > 0 and predict_linear(kubelet_volume_stats_available_bytes{job="kubelet"}[6h], 4 * 24 * 3600) < 0',
    "KubeNodeNotReady": 'kube_node_status_condition{job="kube-state-metrics",condition="Ready",status="true"} == 0 and on (cluster, node) kube_node_spec_unschedulable{job="kube-state-metrics"} == 0',
    "KubeNodeUnreachable": '(kube_node_spec_taint{job="kube-state-metrics",key="node.kubernetes.io/unreachable",effect="NoSchedule"} unless ignoring(key,value) kube_node_spec_taint{job="kube-state-metrics",key=~"ToBeDeletedByClusterAutoscaler|cloud.google.com/impending-node-termination|aws-node-termination-handler/spot-itn"}) == 1',
    "KubeNodePressure": 'kube_node_status_condition{job="kube-state-metrics",condition=~"(MemoryPressure|DiskPressure|PIDPressure)",status="true"} == 1 and on (cluster, node) kube_node_spec_unschedulable{job="kube-state-metrics"} == 0',
    "KubeNodeEviction": 'sum(rate(kubelet_evictions{job="kubelet", metrics_path="/metrics"}[15m])) by(cluster, eviction_signal, instance) * on (cluster, instance) group_left(node) max by (cluster, instance, node) (kubelet_node_name{job="kubelet", metrics_path="/metrics"}) > 0',
    "KubeletServerCertificateExpiration": 'kubelet_certificate_manager_server_ttl_seconds < 604800',
    "KubeClientCertificateExpiration": 'histogram_quantile(0.01, sum without (namespace, service, endpoint) (rate(apiserver_client_certificate_expiration_seconds_bucket{job="apiserver"}[5m]))) < 604800 and on(job, cluster, instance) apiserver_client_certificate_expiration_seconds_count{job="apiserver"} > 0',
    "KubeAPIErrorBudgetBurn": 'sum by(cluster) (apiserver_request:burnrate1h) > (14.40 * 0.01000) and on(cluster) sum by(cluster) (apiserver_request:burnrate5m) > (14.40 * 0.01000)',
    "KubeAPIErrorBudgetBurnSlow": 'sum by(cluster) (apiserver_request:burnrate3d) > (1.00 * 0.01000) and on(cluster) sum by(cluster) (apiserver_request:burnrate6h) > (1.00 * 0.01000)',
    "KubeAPITerminatedRequests": 'sum by(cluster) (rate(apiserver_request_terminations_total{job="apiserver"}[10m])) / ( sum by(cluster) (rate(apiserver_request_total{job="apiserver"}[10m])) + sum by(cluster) (rate(apiserver_request_terminations_total{job="apiserver"}[10m])) ) > 0.20',
    "KubeProxyDown": 'absent(up{job="kube-proxy"} == 1)',
    "TargetDown": '100 * (count(up == 0) BY (cluster, job, namespace, service) / count(up) BY (cluster, job, namespace, service)) > 10',
    "Watchdog": 'vector(1)',
    "NodeFilesystemAlmostOutOfSpace": '(node_filesystem_avail_bytes{job="node-exporter",fstype!="",mountpoint!=""} / node_filesystem_size_bytes{job="node-exporter",fstype!="",mountpoint!=""} * 100 < 5 and node_filesystem_readonly{job="node-exporter",fstype!="",mountpoint!=""} == 0)',
    "NodeFilesystemSpaceFillingUp": '(node_filesystem_avail_bytes{job="node-exporter",fstype!="",mountpoint!=""} / node_filesystem_size_bytes{job="node-exporter",fstype!="",mountpoint!=""} * 100 < 40 and predict_linear(node_filesystem_avail_bytes{job="node-exporter",fstype!="",mountpoint!=""}[6h], 24*60*60) < 0 and node_filesystem_readonly{job="node-exporter",fstype!="",mountpoint!=""} == 0)',
    "NodeMemoryHighUtilization": '100 - (node_memory_MemAvailable_bytes{job="node-exporter"} / node_memory_MemTotal_bytes{job="node-exporter"} * 100) > 90',
    "NodeNetworkReceiveErrs": 'rate(node_network_receive_errs_total{job="node-exporter"}[2m]) / rate(node_network_receive_packets_total{job="node-exporter"}[2m]) > 0.01',
    "NodeNetworkTransmitErrs": 'rate(node_network_transmit_errs_total{job="node-exporter"}[2m]) / rate(node_network_transmit_packets_total{job="node-exporter"}[2m]) > 0.01',
    "NodeDiskIOSaturation": 'rate(node_disk_io_time_weighted_seconds_total{job="node-exporter", device=~"(/dev/)?(mmcblk.p.+|nvme.+|rbd.+|sd.+|vd.+|xvd.+|dm-.+|md.+|dasd.+)"}[5m]) > 10',
    "NodeSystemSaturation": 'node_load1{job="node-exporter"} / count without (cpu, mode) (node_cpu_seconds_total{job="node-exporter", mode="idle"}) > 2',
    "NodeCPUHighUsage": 'sum without(mode) (avg without (cpu) (rate(node_cpu_seconds_total{job="node-exporter", mode!="idle"}[2m]))) * 100 > 90',
    "NodeClockSkewDetected": '(node_timex_offset_seconds{job="node-exporter"} > 0.05 and deriv(node_timex_offset_seconds{job="node-exporter"}[5m]) >= 0) or (node_timex_offset_seconds{job="node-exporter"} < -0.05 and deriv(node_timex_offset_seconds{job="node-exporter"}[5m]) <= 0)',
    "NodeHighNumberConntrackEntriesUsed": '(node_nf_conntrack_entries{job="node-exporter"} / node_nf_conntrack_entries_limit) > 0.75',
    "CoreDNSErrorsHigh": 'sum(rate(coredns_dns_responses_total{job="coredns",rcode="SERVFAIL"}[5m])) / sum(rate(coredns_dns_responses_total{job="coredns"}[5m])) > 0.03',
    "CoreDNSLatencyHigh": 'histogram_quantile(0.99, sum(rate(coredns_dns_request_duration_seconds_bucket{job="coredns"}[5m])) by(server, zone, le)) > 4',
    "etcdHighNumberOfFailedGRPCRequests": '100 * sum(rate(grpc_server_handled_total{job=~".*etcd.*", grpc_code=~"Unknown|FailedPrecondition|ResourceExhausted|Internal|Unavailable|DataLoss|DeadlineExceeded"}[5m])) without (grpc_type, grpc_code) / sum(rate(grpc_server_handled_total{job=~".*etcd.*"}[5m])) without (grpc_type, grpc_code) > 5',
    "PostgreSQLDown": 'pg_up != 1',
    "PostgreSQLMaxConnectionsReached": 'sum by (job, instance, server) (pg_stat_activity_count) >= sum by (job, instance, server) (pg_settings_max_connections) - sum by (job, instance, server) (pg_settings_superuser_reserved_connections)',
    "PostgreSQLHighConnections": 'sum by (job, instance, server) (pg_stat_activity_count) > (sum by (job, instance, server) (pg_settings_max_connections) - sum by (job, instance, server) (pg_settings_superuser_reserved_connections)) * 0.8',
    "PostgreSQLSlowQueries": 'avg by (datname, job, instance, server) (rate(pg_stat_activity_max_tx_duration{datname!~"template.*"}[2m])) > 2 * 60',
    "PostgresHasHighDeadLocks": 'max without(pod, instance) (rate(pg_stat_database_deadlocks{datname!~"template.*"}[5m]) * 60) > 5',
    "PostgreSQLCacheHitRatio": 'avg by (datname, job, instance, server) (rate(pg_stat_database_blks_hit{datname!~"template.*"}[5m]) / (rate(pg_stat_database_blks_hit{datname!~"template.*"}[5m]) + rate(pg_stat_database_blks_read{datname!~"template.*"}[5m]))) < 0.98',
    "PostgresTablesNotVaccumed": 'group without(pod, instance)(timestamp(pg_stat_user_tables_n_dead_tup > pg_stat_user_tables_n_live_tup * on(job, instance, server) group_left pg_settings_autovacuum_vacuum_scale_factor + on(job, instance, server) group_left pg_settings_autovacuum_vacuum_threshold) < time() - 36000)',
    "RedisDown": 'redis_up == 0',
    "RedisOutOfMemory": 'redis_memory_used_bytes / redis_memory_max_bytes * 100 > 90',
    "RedisTooManyConnections": 'redis_connected_clients > 500',
    "RabbitMQMemoryHigh": 'rabbitmq_process_resident_memory_bytes / rabbitmq_resident_memory_limit_bytes * 100 > 90',
    "RabbitMQNodeNotDistributed": 'erlang_vm_dist_node_state{rabbitmq_cluster!=""} < 3',
    "RabbitMQFileDescriptorsUsage": 'rabbitmq_process_open_fds / rabbitmq_process_max_fds * 100 > 90',
    "RabbitMQUnroutableMessages": 'increase(rabbitmq_channel_messages_unroutable_returned_total[1m]) > 0 or increase(rabbitmq_channel_messages_unroutable_dropped_total[1m]) > 0',
    "RabbitMQQueueBacklogGrowing": 'sum by (rabbitmq_cluster, vhost, queue) (rabbitmq_detailed_queue_messages_ready) > 5000 and sum by (rabbitmq_cluster, vhost, queue) (deriv(rabbitmq_detailed_queue_messages_ready[10m])) > 0',
    "KafkaUnderReplicatedPartitionCount": 'sum by (job,kafka_cluster,instance) (kafka_cluster_partition_underreplicated{job!=""}) > 0',
    "KafkaISRShrinkRate": 'sum by (job,kafka_cluster,instance) (kafka_server_replicamanager_isrshrinkspersec) != 0',
    "KafkaOfflinePartitionCount": 'sum by (job,kafka_cluster) (kafka_controller_kafkacontroller_offlinepartitionscount) > 0',
    "KafkaNoActiveController": 'sum by(job,kafka_cluster) (kafka_controller_kafkacontroller_activecontrollercount) != 1',
    "KafkaLagKeepsIncreasing": 'sum by (job,kafka_cluster, topic, consumergroup) (delta(kafka_consumergroup_uncommitted_offsets{topic!="__consumer_offsets",consumergroup!=""}[5m])) > 0',
    "KafkaLagIsTooHigh": 'sum by (job,kafka_cluster, topic, consumergroup) (kafka_consumergroup_uncommitted_offsets{topic!="__consumer_offsets",consumergroup!=""}) > 5000',
    "HighErrorRate": 'sum by (namespace, service, job) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (namespace, service, job) (rate(http_requests_total[5m])) > 0.05',
    "HighErrorRateWarn": 'sum by (namespace, service, job) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (namespace, service, job) (rate(http_requests_total[5m])) > 0.01',
    "HighRequestLatency": 'histogram_quantile(0.99, sum by (le, namespace, service, job, route) (rate(http_request_duration_seconds_bucket[5m]))) > 1',
    "ErrorBudgetBurn": 'http_requests:burnrate5m{slo=~".+-availability"} > (14 * (1-0.999)) and http_requests:burnrate1h{slo=~".+-availability"} > (14 * (1-0.999))',
    "JobProcessingErrorsHigh": 'sum by (namespace, service, job, queue) (rate(jobs_processed_total{outcome="error"}[5m])) / sum by (namespace, service, job, queue) (rate(jobs_processed_total[5m])) > 0.1',
    "CertManagerCertExpirySoon": 'avg by (exported_namespace, namespace, name) (certmanager_certificate_expiration_timestamp_seconds - time()) < (21 * 24 * 3600)',
}
EGROUP = {
    "KubePodCrashLooping": "kubernetes-apps", "KubePodNotReady": "kubernetes-apps",
    "KubeDeploymentReplicasMismatch": "kubernetes-apps", "KubeDeploymentRolloutStuck": "kubernetes-apps",
    "KubeStatefulSetReplicasMismatch": "kubernetes-apps", "KubeContainerWaiting": "kubernetes-apps",
    "KubeJobFailed": "kubernetes-apps", "KubeHpaMaxedOut": "kubernetes-apps",
    "KubeQuotaAlmostFull": "kubernetes-resources", "CPUThrottlingHigh": "kubernetes-resources",
    "KubePersistentVolumeFillingUp": "kubernetes-storage", "KubeNodeNotReady": "kubernetes-system-kubelet",
    "KubeNodeUnreachable": "kubernetes-system-kubelet", "KubeNodePressure": "kubernetes-system-kubelet",
    "KubeNodeEviction": "kubernetes-system-kubelet", "KubeletServerCertificateExpiration": "kubernetes-system-kubelet",
    "KubeClientCertificateExpiration": "kubernetes-system-apiserver", "KubeAPIErrorBudgetBurn": "kube-apiserver-slos",
    "KubeAPIErrorBudgetBurnSlow": "kube-apiserver-slos", "KubeAPITerminatedRequests": "kubernetes-system-apiserver",
    "KubeProxyDown": "kube-proxy", "TargetDown": "general.rules", "Watchdog": "general.rules",
    "CoreDNSErrorsHigh": "coredns", "CoreDNSLatencyHigh": "coredns", "etcdHighNumberOfFailedGRPCRequests": "etcd",
    "CertManagerCertExpirySoon": "cert-manager", "HighErrorRate": "team-slos", "HighErrorRateWarn": "team-slos",
    "HighRequestLatency": "team-slos", "ErrorBudgetBurn": "team-slos", "JobProcessingErrorsHigh": "team-queues",
    "RabbitMQQueueBacklogGrowing": "team-queues",
}


def egroup_of(rule: str) -> str:
    if rule in EGROUP:
        return EGROUP[rule]
    if rule.startswith("Node"):
        return "node-exporter"
    if rule.startswith("Postgre"):
        return "PostgreSQL"
    if rule.startswith("Redis"):
        return "redis"
    if rule.startswith("RabbitMQ"):
        return "RabbitMQClusterAlerts"
    if rule.startswith("Kafka"):
        return "kafka-kafka-alerts"
    return "team-services"


class Spec:
    """One alert instance as an alerting rule produces it (labels before external labels)."""
    __slots__ = ("ann", "cluster", "for_ms", "keep_ms", "labels", "rule")

    def __init__(self, rule, cluster, labels, ann):
        self.rule = rule
        self.cluster = cluster
        self.labels = labels
        self.ann = ann
        self.for_ms = RULE_FOR.get(rule, RULE_FOR.get(labels["alertname"], 0)) * SEC
        self.keep_ms = KEEP_FIRING.get(rule, 0) * SEC


def mixin_rb(area, name):
    return f"{MIXIN_RB}/{area}/{name.lower()}"


class Rules:
    """Alert label sets and annotations, as the rule files above render them."""

    def __init__(self, w: World, rng: random.Random):
        self.w, self.rng = w, rng

    # ---- helpers
    def _ksm(self, cl):
        return f"{self.w.cluster[cl].ksm}:8443"

    def _team_rb(self, svc, slug):
        return f"https://runbooks.{self.w.domain}/services/{svc}#{slug}"

    def _ne(self, node: Node, extra: dict) -> dict:
        d = {"container": "node-exporter", "endpoint": "http-metrics", "instance": f"{node.ip}:9100",
             "job": "node-exporter", "namespace": "monitoring", "pod": node.ne_pod,
             "service": "node-exporter", "node": node.name}
        d.update(extra)
        return d

    def _kubelet(self, node: Node, extra: dict) -> dict:
        d = {"endpoint": "https-metrics", "instance": f"{node.ip}:10250", "job": "kubelet",
             "metrics_path": "/metrics", "namespace": "kube-system", "node": node.name, "service": "kubelet"}
        d.update(extra)
        return d

    def _exporter(self, s: Svc, pod: Pod, container: str, endpoint: str) -> dict:
        return {"container": container, "endpoint": endpoint, "instance": f"{pod.ip}:{s.port}",
                "job": s.name, "namespace": s.ns, "pod": pod.name, "service": s.name}

    # ---- kube-state-metrics (kubernetes-mixin)
    def crashloop(self, s: Svc, pod: Pod, reason_note="") -> Spec:
        lab = {"alertname": "KubePodCrashLooping", "severity": "warning", "namespace": s.ns, "pod": pod.name,
               "container": s.container, "reason": "CrashLoopBackOff", "uid": pod.uid, "node": pod.node,
               "job": "kube-state-metrics", "instance": self._ksm(s.cluster)}
        ann = {"description": f'Pod {s.ns}/{pod.name} ({s.container}) is in waiting state (reason: "CrashLoopBackOff").{reason_note}',
               "runbook_url": mixin_rb("kubernetes", "KubePodCrashLooping"), "summary": "Pod is crash looping."}
        return Spec("KubePodCrashLooping", s.cluster, lab, ann)

    def pod_not_ready(self, s: Svc, pod: Pod) -> Spec:
        lab = {"alertname": "KubePodNotReady", "severity": "warning", "namespace": s.ns, "pod": pod.name}
        ann = {"description": f"Pod {s.ns}/{pod.name} has been in a non-ready state for longer than 5 minutes.",
               "runbook_url": mixin_rb("kubernetes", "KubePodNotReady"),
               "summary": "Pod has been in a non-ready state for more than 5 minutes."}
        return Spec("KubePodNotReady", s.cluster, lab, ann)

    def replicas_mismatch(self, s: Svc) -> Spec:
        if s.workload == "statefulset":
            lab = {"alertname": "KubeStatefulSetReplicasMismatch", "severity": "warning", "namespace": s.ns,
                   "statefulset": s.name, "job": "kube-state-metrics", "instance": self._ksm(s.cluster)}
            ann = {"description": f"StatefulSet {s.ns}/{s.name} has not matched the expected number of replicas for longer than 15 minutes.",
                   "runbook_url": mixin_rb("kubernetes", "KubeStatefulSetReplicasMismatch"),
                   "summary": "StatefulSet has not matched the expected number of replicas."}
            return Spec("KubeStatefulSetReplicasMismatch", s.cluster, lab, ann)
        lab = {"alertname": "KubeDeploymentReplicasMismatch", "severity": "warning", "namespace": s.ns,
               "deployment": s.name, "job": "kube-state-metrics", "instance": self._ksm(s.cluster)}
        ann = {"description": f"Deployment {s.ns}/{s.name} has not matched the expected number of replicas for longer than 15 minutes.",
               "runbook_url": mixin_rb("kubernetes", "KubeDeploymentReplicasMismatch"),
               "summary": "Deployment has not matched the expected number of replicas."}
        return Spec("KubeDeploymentReplicasMismatch", s.cluster, lab, ann)

    def rollout_stuck(self, s: Svc) -> Spec:
        lab = {"alertname": "KubeDeploymentRolloutStuck", "severity": "warning", "namespace": s.ns,
               "deployment": s.name, "condition": "Progressing", "status": "false",
               "job": "kube-state-metrics", "instance": self._ksm(s.cluster)}
        ann = {"description": f"Rollout of deployment {s.ns}/{s.name} is not progressing for longer than 15 minutes.",
               "runbook_url": mixin_rb("kubernetes", "KubeDeploymentRolloutStuck"),
               "summary": "Deployment rollout is not progressing."}
        return Spec("KubeDeploymentRolloutStuck", s.cluster, lab, ann)

    def container_waiting(self, s: Svc, pod: Pod, reason: str) -> Spec:
        lab = {"alertname": "KubeContainerWaiting", "severity": "warning", "namespace": s.ns, "pod": pod.name,
               "container": s.container, "reason": reason, "uid": pod.uid,
               "job": "kube-state-metrics", "instance": self._ksm(s.cluster)}
        ann = {"description": f'pod/{pod.name} in namespace {s.ns} on container {s.container} has been in waiting state for longer than 1 hour. (reason: "{reason}").',
               "runbook_url": mixin_rb("kubernetes", "KubeContainerWaiting"),
               "summary": "Pod container waiting longer than 1 hour"}
        return Spec("KubeContainerWaiting", s.cluster, lab, ann)

    def job_failed(self, cl: str, ns: str, job_name: str) -> Spec:
        lab = {"alertname": "KubeJobFailed", "severity": "warning", "namespace": ns, "job_name": job_name,
               "condition": "true", "job": "kube-state-metrics", "instance": self._ksm(cl)}
        ann = {"description": f"Job {ns}/{job_name} failed to complete. Removing failed job after investigation should clear this alert.",
               "runbook_url": mixin_rb("kubernetes", "KubeJobFailed"), "summary": "Job failed to complete."}
        return Spec("KubeJobFailed", cl, lab, ann)

    def hpa_maxed(self, s: Svc) -> Spec:
        lab = {"alertname": "KubeHpaMaxedOut", "severity": "warning", "namespace": s.ns,
               "horizontalpodautoscaler": s.name, "job": "kube-state-metrics", "instance": self._ksm(s.cluster)}
        ann = {"description": f"HPA {s.ns}/{s.name} has been running at max replicas for longer than 15 minutes.",
               "runbook_url": mixin_rb("kubernetes", "KubeHpaMaxedOut"), "summary": "HPA is running at max replicas"}
        return Spec("KubeHpaMaxedOut", s.cluster, lab, ann)

    def quota_almost_full(self, cl: str, ns: str, resource: str) -> Spec:
        v = self.rng.uniform(90.2, 99.4)
        lab = {"alertname": "KubeQuotaAlmostFull", "severity": "info", "namespace": ns, "resource": resource,
               "resourcequota": f"{ns}-quota", "job": "kube-state-metrics", "instance": self._ksm(cl)}
        ann = {"description": f"Namespace {ns} is using {v:.4g}% of its {resource} quota.",
               "runbook_url": mixin_rb("kubernetes", "KubeQuotaAlmostFull"), "summary": "Namespace quota is going to be full."}
        return Spec("KubeQuotaAlmostFull", cl, lab, ann)

    def cpu_throttling(self, s: Svc, pod: Pod) -> Spec:
        node = self.w.nodes[pod.node]
        v = self.rng.uniform(25.5, 71.0)
        lab = {"alertname": "CPUThrottlingHigh", "severity": "info", "namespace": s.ns, "pod": pod.name,
               "container": s.container, "instance": f"{node.ip}:10250", "service": "kubelet"}
        ann = {"description": f"{v:.4g}% throttling of CPU in namespace {s.ns} for container {s.container} in pod {pod.name}.",
               "runbook_url": mixin_rb("kubernetes", "CPUThrottlingHigh"),
               "summary": "Processes experience elevated CPU throttling."}
        return Spec("CPUThrottlingHigh", s.cluster, lab, ann)

    def pv_filling(self, s: Svc, pod: Pod) -> Spec:
        node = self.w.nodes[pod.node]
        pvc = f"data-{pod.name}"
        v = self.rng.uniform(6.0, 14.8)
        lab = self._kubelet(node, {"alertname": "KubePersistentVolumeFillingUp", "severity": "warning",
                                   "namespace": s.ns, "persistentvolumeclaim": pvc})
        ann = {"description": f"Based on recent sampling, the PersistentVolume claimed by {pvc} in Namespace {s.ns} on Cluster {s.cluster} is expected to fill up within four days. Currently {v:.4g}% is available.",
               "runbook_url": mixin_rb("kubernetes", "KubePersistentVolumeFillingUp"),
               "summary": "PersistentVolume is filling up."}
        return Spec("KubePersistentVolumeFillingUp", s.cluster, lab, ann)

    def node_not_ready(self, node: Node) -> Spec:
        lab = {"alertname": "KubeNodeNotReady", "severity": "warning", "node": node.name, "condition": "Ready",
               "status": "true", "job": "kube-state-metrics", "instance": self._ksm(node.cluster)}
        ann = {"description": f"{node.name} has been unready for more than 10 minutes.",
               "runbook_url": mixin_rb("kubernetes", "KubeNodeNotReady"), "summary": "Node is not ready."}
        return Spec("KubeNodeNotReady", node.cluster, lab, ann)

    def node_unreachable(self, node: Node) -> Spec:
        lab = {"alertname": "KubeNodeUnreachable", "severity": "warning", "node": node.name,
               "key": "node.kubernetes.io/unreachable", "effect": "NoSchedule",
               "job": "kube-state-metrics", "instance": self._ksm(node.cluster)}
        ann = {"description": f"{node.name} is unreachable and some workloads may be rescheduled.",
               "runbook_url": mixin_rb("kubernetes", "KubeNodeUnreachable"), "summary": "Node is unreachable."}
        return Spec("KubeNodeUnreachable", node.cluster, lab, ann)

    def node_pressure(self, node: Node, condition: str) -> Spec:
        lab = {"alertname": "KubeNodePressure", "severity": "info", "node": node.name, "condition": condition,
               "status": "true", "job": "kube-state-metrics", "instance": self._ksm(node.cluster)}
        ann = {"description": f"{node.name} has active Condition {condition}. This is caused by resource usage exceeding eviction thresholds.",
               "runbook_url": mixin_rb("kubernetes", "KubeNodePressure"), "summary": "Node has as active Condition."}
        return Spec("KubeNodePressure", node.cluster, lab, ann)

    def node_eviction(self, node: Node, signal: str) -> Spec:
        lab = {"alertname": "KubeNodeEviction", "severity": "info", "eviction_signal": signal,
               "instance": f"{node.ip}:10250", "node": node.name}
        ann = {"description": f"Node {node.name} is evicting Pods due to {signal}.  Eviction occurs when eviction thresholds are crossed, typically caused by Pods exceeding RAM/ephemeral-storage limits.",
               "runbook_url": mixin_rb("kubernetes", "KubeNodeEviction"), "summary": "Node is evicting pods."}
        return Spec("KubeNodeEviction", node.cluster, lab, ann)

    def kubelet_cert(self, node: Node) -> Spec:
        d = self.rng.randint(2, 6)
        lab = self._kubelet(node, {"alertname": "KubeletServerCertificateExpiration", "severity": "warning"})
        ann = {"description": f"Server certificate for Kubelet on node {node.name} expires in {d}d {self.rng.randint(0, 23)}h {self.rng.randint(0, 59)}m.",
               "runbook_url": mixin_rb("kubernetes", "KubeletServerCertificateExpiration"),
               "summary": "Kubelet server certificate is about to expire."}
        return Spec("KubeletServerCertificateExpiration", node.cluster, lab, ann)

    def client_cert(self, cl: str) -> Spec:
        c = self.w.cluster[cl]
        lab = {"alertname": "KubeClientCertificateExpiration", "severity": "warning", "job": "apiserver",
               "instance": f"{self.rng.choice(c.cp)}:6443"}
        ann = {"description": "A client certificate used to authenticate to kubernetes apiserver is expiring in less than 7.0 days.",
               "runbook_url": mixin_rb("kubernetes", "KubeClientCertificateExpiration"),
               "summary": "Client certificate is about to expire."}
        return Spec("KubeClientCertificateExpiration", cl, lab, ann)

    # ---- general / control plane
    def target_down(self, s: Svc, down: int) -> Spec:
        pct = 100.0 * down / max(1, len(s.pods))
        lab = {"alertname": "TargetDown", "severity": "warning", "job": s.name, "namespace": s.ns, "service": s.name}
        ann = {"description": f"{pct:.4g}% of the {s.name}/{s.name} targets in {s.ns} namespace are down.",
               "runbook_url": mixin_rb("general", "TargetDown"), "summary": "One or more targets are unreachable."}
        return Spec("TargetDown", s.cluster, lab, ann)

    def target_down_infra(self, cl: str, job: str, ns: str, service: str, pct: float) -> Spec:
        lab = {"alertname": "TargetDown", "severity": "warning", "job": job, "namespace": ns, "service": service}
        ann = {"description": f"{pct:.4g}% of the {job}/{service} targets in {ns} namespace are down.",
               "runbook_url": mixin_rb("general", "TargetDown"), "summary": "One or more targets are unreachable."}
        return Spec("TargetDown", cl, lab, ann)

    def watchdog(self, cl: str) -> Spec:
        lab = {"alertname": "Watchdog", "severity": "none"}
        ann = {"description": "This is an alert meant to ensure that the entire alerting pipeline is functional.\nThis alert is always firing, therefore it should always be firing in Alertmanager\nand always fire against a receiver. There are integrations with various notification\nmechanisms that send a notification when this alert is not firing. For example the\n\"DeadMansSnitch\" integration in PagerDuty.\n",
               "runbook_url": mixin_rb("general", "Watchdog"),
               "summary": "An alert that should always be firing to certify that Alertmanager is working properly."}
        return Spec("Watchdog", cl, lab, ann)

    def api_burn(self, cl: str, slow=False) -> Spec:
        if slow:
            lab = {"alertname": "KubeAPIErrorBudgetBurn", "severity": "warning", "long": "3d", "short": "6h"}
        else:
            lab = {"alertname": "KubeAPIErrorBudgetBurn", "severity": "critical", "long": "1h", "short": "5m"}
        ann = {"description": "The API server is burning too much error budget.",
               "runbook_url": mixin_rb("kubernetes", "KubeAPIErrorBudgetBurn"),
               "summary": "The API server is burning too much error budget."}
        return Spec("KubeAPIErrorBudgetBurnSlow" if slow else "KubeAPIErrorBudgetBurn", cl, lab, ann)

    def api_terminated(self, cl: str) -> Spec:
        v = self.rng.uniform(21, 48)
        lab = {"alertname": "KubeAPITerminatedRequests", "severity": "warning"}
        ann = {"description": f"The kubernetes apiserver has terminated {v:.4g}% of its incoming requests.",
               "runbook_url": mixin_rb("kubernetes", "KubeAPITerminatedRequests"),
               "summary": f"The kubernetes apiserver has terminated {v:.4g}% of its incoming requests."}
        return Spec("KubeAPITerminatedRequests", cl, lab, ann)

    def etcd_grpc(self, cl: str) -> Spec:
        c = self.w.cluster[cl]
        inst = self.rng.choice(c.cp)
        method = self.rng.choice(["Range", "Txn", "LeaseGrant", "Watch"])
        svc = "etcdserverpb.Lease" if method == "LeaseGrant" else "etcdserverpb.KV"
        v = self.rng.uniform(5.2, 38)
        lab = {"alertname": "etcdHighNumberOfFailedGRPCRequests", "severity": "critical", "job": "kube-etcd",
               "namespace": "kube-system", "instance": f"{inst}:2379", "grpc_method": method, "grpc_service": svc}
        ann = {"description": f'etcd cluster "kube-etcd": {v:.4g}% of requests for {method} failed on etcd instance {inst}:2379.',
               "runbook_url": mixin_rb("etcd", "etcdHighNumberOfFailedGRPCRequests"),
               "summary": "etcd cluster has high number of failed grpc requests."}
        return Spec("etcdHighNumberOfFailedGRPCRequests", cl, lab, ann)

    def coredns_errors(self, cl: str) -> Spec:
        v = self.rng.uniform(3.5, 62)
        lab = {"alertname": "CoreDNSErrorsHigh", "severity": "critical"}
        ann = {"message": f"CoreDNS is returning SERVFAIL for {v:.4g}% of requests.",
               "runbook_url": "https://github.com/povilasv/coredns-mixin/tree/master/runbook.md#alert-name-corednserrorshigh"}
        return Spec("CoreDNSErrorsHigh", cl, lab, ann)

    def coredns_latency(self, cl: str) -> Spec:
        v = self.rng.uniform(4.1, 9.5)
        lab = {"alertname": "CoreDNSLatencyHigh", "severity": "critical", "server": "dns://:53", "zone": "."}
        ann = {"message": f"CoreDNS has 99th percentile latency of {v:.4g} seconds for server dns://:53 zone . .",
               "runbook_url": "https://github.com/povilasv/coredns-mixin/tree/master/runbook.md#alert-name-corednslatencyhigh"}
        return Spec("CoreDNSLatencyHigh", cl, lab, ann)

    def kube_proxy_down(self, cl: str) -> Spec:
        lab = {"alertname": "KubeProxyDown", "severity": "critical", "job": "kube-proxy"}
        ann = {"description": "KubeProxy has disappeared from Prometheus target discovery.",
               "runbook_url": mixin_rb("kubernetes", "KubeProxyDown"),
               "summary": "Target disappeared from Prometheus target discovery."}
        return Spec("KubeProxyDown", cl, lab, ann)

    def cert_expiry(self, s: Svc) -> Spec:
        d = self.rng.randint(9, 20)
        name = f"{s.name}-tls"
        lab = {"alertname": "CertManagerCertExpirySoon", "severity": "warning", "exported_namespace": s.ns,
               "namespace": "cert-manager", "name": name}
        ann = {"dashboard_url": f"https://grafana.{self.w.domain}/d/TvuRo2iMk/cert-manager",
               "description": f"The domain that this cert covers will be unavailable after {d}d {self.rng.randint(0, 23)}h. Clients using endpoints that this cert protects will start to fail in {d}d.",
               "runbook_url": "https://gitlab.com/uneeq-oss/cert-manager-mixin/-/blob/master/RUNBOOK.md#CertManagerCertExpirySoon",
               "summary": f"The cert `{name}` is {d}d from expiry, it should have renewed over a week ago."}
        return Spec("CertManagerCertExpirySoon", s.cluster, lab, ann)

    # ---- node-exporter-mixin
    def fs_almost_full(self, node: Node) -> Spec:
        mp, dev, fstype = self.rng.choice([("/", "/dev/nvme0n1p1", "ext4"), ("/var/lib/containerd", "/dev/nvme1n1", "xfs"),
                                           ("/var/lib/kubelet", "/dev/sdb1", "ext4")])
        v = self.rng.uniform(0.4, 4.9)
        lab = self._ne(node, {"alertname": "NodeFilesystemAlmostOutOfSpace", "severity": "warning",
                              "device": dev, "fstype": fstype, "mountpoint": mp})
        ann = {"description": f"Filesystem on {dev}, mounted on {mp}, at {node.ip}:9100 has only {v:.2f}% available space left.",
               "runbook_url": mixin_rb("node", "NodeFilesystemAlmostOutOfSpace"),
               "summary": "Filesystem has less than 5% space left."}
        return Spec("NodeFilesystemAlmostOutOfSpace", node.cluster, lab, ann)

    def fs_filling(self, node: Node) -> Spec:
        v = self.rng.uniform(21, 39)
        lab = self._ne(node, {"alertname": "NodeFilesystemSpaceFillingUp", "severity": "warning",
                              "device": "/dev/nvme0n1p1", "fstype": "ext4", "mountpoint": "/"})
        ann = {"description": f"Filesystem on /dev/nvme0n1p1, mounted on /, at {node.ip}:9100 has only {v:.2f}% available space left and is filling up.",
               "runbook_url": mixin_rb("node", "NodeFilesystemSpaceFillingUp"),
               "summary": "Filesystem is predicted to run out of space within the next 24 hours."}
        return Spec("NodeFilesystemSpaceFillingUp", node.cluster, lab, ann)

    def mem_high(self, node: Node) -> Spec:
        v = self.rng.uniform(90.5, 99.2)
        lab = self._ne(node, {"alertname": "NodeMemoryHighUtilization", "severity": "warning"})
        ann = {"description": f"Memory is filling up at {node.ip}:9100, has been above 90% for the last 5 minutes, is currently at {v:.2f}%.\n",
               "runbook_url": mixin_rb("node", "NodeMemoryHighUtilization"), "summary": "Host is running out of memory."}
        return Spec("NodeMemoryHighUtilization", node.cluster, lab, ann)

    def net_errs(self, node: Node, direction: str) -> Spec:
        dev = self.rng.choice(["eth0", "ens5"])
        name = "NodeNetworkReceiveErrs" if direction == "rx" else "NodeNetworkTransmitErrs"
        word = "receive" if direction == "rx" else "transmit"
        lab = self._ne(node, {"alertname": name, "severity": "warning", "device": dev})
        ann = {"description": f"{node.ip}:9100 interface {dev} has encountered {self.rng.randint(120, 9000)} {word} errors in the last two minutes.",
               "runbook_url": mixin_rb("node", name), "summary": f"Network interface is reporting many {word} errors."}
        return Spec(name, node.cluster, lab, ann)

    def disk_io(self, node: Node) -> Spec:
        dev = self.rng.choice(["nvme0n1", "nvme1n1", "sdb"])
        v = self.rng.uniform(10.5, 42)
        lab = self._ne(node, {"alertname": "NodeDiskIOSaturation", "severity": "warning", "device": dev})
        ann = {"description": f"Disk IO queue (aqu-sq) is high on {dev} at {node.ip}:9100, has been above 10 for the last 10 minutes, is currently at {v:.2f}.\nThis symptom might indicate disk saturation.\n",
               "runbook_url": mixin_rb("node", "NodeDiskIOSaturation"), "summary": "Disk IO queue is high."}
        return Spec("NodeDiskIOSaturation", node.cluster, lab, ann)

    def load_high(self, node: Node) -> Spec:
        v = self.rng.uniform(2.1, 6.5)
        lab = self._ne(node, {"alertname": "NodeSystemSaturation", "severity": "warning"})
        ann = {"description": f"System load per core at {node.ip}:9100 has been above 2 for the last 10 minutes, is currently at {v:.2f}.\nThis might indicate this instance resources saturation and can cause it becoming unresponsive.\n",
               "runbook_url": mixin_rb("node", "NodeSystemSaturation"),
               "summary": "System saturated, load per core is very high."}
        return Spec("NodeSystemSaturation", node.cluster, lab, ann)

    def cpu_high(self, node: Node) -> Spec:
        v = self.rng.uniform(90.2, 99.8)
        lab = self._ne(node, {"alertname": "NodeCPUHighUsage", "severity": "info"})
        ann = {"description": f"CPU usage at {node.ip}:9100 has been above 90% for the last 15 minutes, is currently at {v:.2f}%.\n",
               "runbook_url": mixin_rb("node", "NodeCPUHighUsage"), "summary": "High CPU usage."}
        return Spec("NodeCPUHighUsage", node.cluster, lab, ann)

    def clock_skew(self, node: Node) -> Spec:
        lab = self._ne(node, {"alertname": "NodeClockSkewDetected", "severity": "warning"})
        ann = {"description": f"Clock at {node.ip}:9100 is out of sync by more than 0.05s. Ensure NTP is configured correctly on this host.",
               "runbook_url": mixin_rb("node", "NodeClockSkewDetected"), "summary": "Clock skew detected."}
        return Spec("NodeClockSkewDetected", node.cluster, lab, ann)

    def conntrack(self, node: Node) -> Spec:
        v = self.rng.uniform(75.5, 93)
        lab = self._ne(node, {"alertname": "NodeHighNumberConntrackEntriesUsed", "severity": "warning"})
        ann = {"description": f"{v:.4g}% of conntrack entries are used.",
               "runbook_url": mixin_rb("node", "NodeHighNumberConntrackEntriesUsed"),
               "summary": "Number of conntrack are getting close to the limit."}
        return Spec("NodeHighNumberConntrackEntriesUsed", node.cluster, lab, ann)

    # ---- team service rules
    def error_rate(self, s: Svc, critical=True) -> Spec:
        v = self.rng.uniform(5.3, 64) if critical else self.rng.uniform(1.1, 4.9)
        lab = {"alertname": "HighErrorRate", "severity": "critical" if critical else "warning",
               "namespace": s.ns, "service": s.name, "job": s.name}
        ann = {"description": f"{s.name} in {s.ns} is answering {v:.2f}% of requests with 5xx over the last 5 minutes (threshold {'5' if critical else '1'}%).",
               "runbook_url": self._team_rb(s.name, "higherrorrate"),
               "summary": f"{s.name}: high 5xx error rate"}
        sp = Spec("HighErrorRate" if critical else "HighErrorRateWarn", s.cluster, lab, ann)
        if not critical:
            sp.for_ms = 300 * SEC
        return sp

    def latency(self, s: Svc, route: str) -> Spec:
        v = self.rng.uniform(1.05, 12.0)
        lab = {"alertname": "HighRequestLatency", "severity": "warning", "namespace": s.ns, "service": s.name,
               "job": s.name, "route": route}
        ann = {"description": f"p99 latency of {s.name} {route} is {v:.3g}s (SLO 1s).",
               "runbook_url": self._team_rb(s.name, "highrequestlatency"),
               "summary": f"{s.name}: slow responses on {route}"}
        return Spec("HighRequestLatency", s.cluster, lab, ann)

    def budget_burn(self, s: Svc) -> Spec:
        lab = {"alertname": "ErrorBudgetBurn", "severity": "critical", "slo": f"{s.name}-availability",
               "long": "1h", "short": "5m", "exhaustion": "2d", "namespace": s.ns, "job": s.name}
        ann = {"description": f"The SLO {s.name}-availability (99.9% over 30d) is burning its error budget 14 times too fast.",
               "runbook_url": self._team_rb(s.name, "errorbudgetburn"),
               "summary": f"{s.name}-availability is burning its error budget fast"}
        return Spec("ErrorBudgetBurn", s.cluster, lab, ann)

    def job_errors(self, s: Svc) -> Spec:
        v = self.rng.uniform(10.5, 100)
        lab = {"alertname": "JobProcessingErrorsHigh", "severity": "warning", "namespace": s.ns,
               "service": s.name, "job": s.name, "queue": s.topic}
        ann = {"description": f"{s.name} fails {v:.3g}% of the messages it takes from {s.topic}.",
               "runbook_url": self._team_rb(s.name, "jobprocessingerrorshigh"),
               "summary": f"{s.name} is failing to process messages"}
        return Spec("JobProcessingErrorsHigh", s.cluster, lab, ann)

    def consumer_lag(self, s: Svc, hard=False) -> Spec:
        br = self.w.svc[s.broker]
        if br.kind == "kafka":
            name = "KafkaLagIsTooHigh" if hard else "KafkaLagKeepsIncreasing"
            lab = {"alertname": name, "severity": "critical" if hard else "warning", "job": "kafka-exporter",
                   "kafka_cluster": br.name, "topic": s.topic, "consumergroup": s.name}
            if hard:
                ann = {"description": f"Total kafka lag across all partitions is too high ({self.rng.randint(5200, 480000)}) for consumer group: {s.name}, topic: {s.topic}.",
                       "summary": "Kafka lag is too high."}
            else:
                ann = {"description": f"Kafka lag keeps increasing over the last 15 minutes for consumer group: {s.name}, topic: {s.topic}.",
                       "summary": "Kafka lag keeps increasing."}
            return Spec(name, br.cluster, lab, ann)
        lab = {"alertname": "RabbitMQQueueBacklogGrowing", "severity": "warning", "rabbitmq_cluster": br.name,
               "vhost": "/", "queue": s.topic}
        ann = {"description": f"Queue {s.topic} on {br.name} has {self.rng.randint(5100, 250000)} ready messages and keeps growing; its consumers are not keeping up.",
               "runbook_url": self._team_rb(s.name, "queue-backlog"),
               "summary": "RabbitMQ queue backlog is growing."}
        return Spec("RabbitMQQueueBacklogGrowing", br.cluster, lab, ann)

    # ---- postgres-exporter mixin
    def pg_server(self, s):
        return f"{s.name}.{s.ns}.svc:5432"

    def pg_down(self, s: Svc, pod: Pod) -> Spec:
        lab = self._exporter(s, pod, "postgres-exporter", "metrics")
        lab.update({"alertname": "PostgreSQLDown", "severity": "warning"})
        ann = {"description": f"{pod.ip}:{s.port} is rejecting query requests from the exporter, and thus probably not allowing DNS requests to work either. User services should not be effected provided at least 1 node is still alive.",
               "summary": "PostgreSQL is not processing queries."}
        return Spec("PostgreSQLDown", s.cluster, lab, ann)

    def pg_conns(self, s: Svc, pod: Pod, maxed: bool) -> Spec:
        name = "PostgreSQLMaxConnectionsReached" if maxed else "PostgreSQLHighConnections"
        lab = {"alertname": name, "severity": "warning", "job": s.name, "instance": f"{pod.ip}:{s.port}",
               "server": self.pg_server(s)}
        v = self.rng.randint(397, 500) if maxed else self.rng.randint(322, 396)
        if maxed:
            ann = {"description": f"{pod.ip}:{s.port} is exceeding the currently configured maximum Postgres connection limit (current value: {v}s). Services may be degraded - please take immediate action (you probably need to increase max_connections in the Docker image and re-deploy).",
                   "summary": "Postgres connections count is over the maximum amount."}
        else:
            ann = {"description": f"{pod.ip}:{s.port} is exceeding 80% of the currently configured maximum Postgres connection limit (current value: {v}s). Please check utilization graphs and confirm if this is normal service growth, abuse or an otherwise temporary condition or if new resources need to be provisioned (or the limits increased, which is mostly likely).",
                   "summary": "Postgres connections count is over 80% of maximum amount."}
        return Spec(name, s.cluster, lab, ann)

    def pg_slow(self, s: Svc, pod: Pod) -> Spec:
        lab = {"alertname": "PostgreSQLSlowQueries", "severity": "warning", "datname": s.datname, "job": s.name,
               "instance": f"{pod.ip}:{s.port}", "server": self.pg_server(s)}
        ann = {"description": f"PostgreSQL high number of slow queries {s.cluster} for database {s.datname} with a value of {self.rng.uniform(121, 900):.4g} ",
               "summary": "PostgreSQL high number of slow queries."}
        return Spec("PostgreSQLSlowQueries", s.cluster, lab, ann)

    def pg_deadlocks(self, s: Svc) -> Spec:
        lab = {"alertname": "PostgresHasHighDeadLocks", "severity": "warning", "datname": s.datname,
               "job": s.name, "namespace": s.ns, "service": s.name, "server": self.pg_server(s),
               "container": "postgres-exporter", "endpoint": "metrics"}
        ann = {"description": f"PostgreSQL has too high deadlocks on {s.cluster} for database {s.datname} with a value of {self.rng.uniform(5.2, 40):.4g}",
               "summary": "PostgreSQL has high number of deadlocks."}
        return Spec("PostgresHasHighDeadLocks", s.cluster, lab, ann)

    def pg_cache(self, s: Svc, pod: Pod) -> Spec:
        lab = {"alertname": "PostgreSQLCacheHitRatio", "severity": "warning", "datname": s.datname, "job": s.name,
               "instance": f"{pod.ip}:{s.port}", "server": self.pg_server(s)}
        ann = {"description": f"PostgreSQL low on cache hit rate on {s.cluster} for database {s.datname} with a value of {self.rng.uniform(0.88, 0.979):.4g}",
               "summary": "PostgreSQL low cache hit rate."}
        return Spec("PostgreSQLCacheHitRatio", s.cluster, lab, ann)

    def pg_vacuum(self, s: Svc) -> Spec:
        rel = self.rng.choice(["events", "audit_log", "line_items", "sessions", "outbox"])
        lab = {"alertname": "PostgresTablesNotVaccumed", "severity": "critical", "datname": s.datname,
               "schemaname": "public", "relname": rel, "job": s.name, "namespace": s.ns, "service": s.name,
               "server": self.pg_server(s), "container": "postgres-exporter", "endpoint": "metrics"}
        ann = {"description": f"{self.pg_server(s)} tables have not been vacuumed recently within the last hour, which may lead to performance degradation.",
               "summary": "PostgreSQL tables not vacuumed."}
        return Spec("PostgresTablesNotVaccumed", s.cluster, lab, ann)

    # ---- redis / rabbitmq / kafka mixins
    def redis(self, s: Svc, pod: Pod, name: str) -> Spec:
        lab = self._exporter(s, pod, "redis-exporter", "http-metrics")
        sev = "critical" if name == "RedisDown" else "warning"
        lab.update({"alertname": name, "severity": sev})
        inst = lab["instance"]
        text = {"RedisDown": ("Redis down (instance {i})", "Redis instance is down"),
                "RedisOutOfMemory": ("Redis out of memory (instance {i})", "Redis is running out of memory (> 90%)"),
                "RedisTooManyConnections": ("Redis too many connections (instance {i})", "Redis instance has too many connections")}[name]
        val = {"RedisDown": "0", "RedisOutOfMemory": f"{self.rng.uniform(90.1, 99.9):.4g}",
               "RedisTooManyConnections": str(self.rng.randint(501, 4000))}[name]
        ann = {"description": f"{text[1]}\n  VALUE = {val}\n  LABELS: map[instance:{inst} job:{s.name} namespace:{s.ns} pod:{pod.name} service:{s.name}]",
               "summary": text[0].format(i=inst)}
        return Spec(name, s.cluster, lab, ann)

    def rabbit(self, s: Svc, pod: Pod, name: str, peer: Pod | None = None) -> Spec:
        lab = self._exporter(s, pod, "rabbitmq", "prometheus")
        lab.update({"alertname": name, "rabbitmq_cluster": s.name,
                    "severity": "critical" if name == "RabbitMQNodeNotDistributed" else "warning"})
        inst = lab["instance"]
        if name == "RabbitMQNodeNotDistributed":
            lab["peer"] = f"rabbit@{peer.name}.{s.name}-nodes.{s.ns}"
            ann = {"description": f"Distribution link state is not 'up' on {inst}, current value is {self.rng.choice([1, 2])}. \nNote: The state is represented as a numerical value where pending=1, up_pending=2 and up=3.",
                   "summary": "RabbitMQ node not distributed, link state is down."}
        elif name == "RabbitMQMemoryHigh":
            ann = {"description": f"A node {inst} is using more than 90% of allocated RAM.", "summary": "RabbitMQ memory usage is high."}
        elif name == "RabbitMQFileDescriptorsUsage":
            ann = {"description": f"A node {inst} is using more than 90% of file descriptors.",
                   "summary": "RabbitMQ file descriptors usage is high."}
        else:
            ann = {"description": f"A queue has unroutable messages on {inst}.", "summary": "A RabbitMQ queue has unroutable messages."}
        return Spec(name, s.cluster, lab, ann)

    def kafka(self, s: Svc, name: str, pod: Pod | None = None) -> Spec:
        lab = {"alertname": name, "job": s.name, "kafka_cluster": s.name}
        if pod is not None:
            lab["instance"] = f"{pod.ip}:{s.port}"
        lab["severity"] = "warning" if name == "KafkaISRShrinkRate" else "critical"
        inst = lab.get("instance", "")
        n = self.rng.randint(1, 60)
        ann = {
            "KafkaUnderReplicatedPartitionCount": {"description": f"Kafka broker {inst} in cluster {s.name} has {n} under-replicated partitions.",
                                                   "summary": "Kafka has under-replicated partitions."},
            "KafkaISRShrinkRate": {"description": f"Kafka broker {inst} in cluster {s.name} has In-Sync Replica (ISR) shrinking at {self.rng.uniform(0.1, 4):.2f} per second.",
                                   "summary": "Kafka ISR shrinkage detected."},
            "KafkaOfflinePartitionCount": {"description": f"Kafka cluster {s.name} has {n} offline partitions.",
                                           "summary": "Kafka has offline partitions."},
            "KafkaNoActiveController": {"description": f"Kafka cluster {s.name} has 0 broker(s) reporting as the active controller. Expected exactly 1 active controller.",
                                        "summary": "Kafka has no active controller."},
        }[name]
        return Spec(name, s.cluster, lab, ann)


# --------------------------------------------------------------------------- occurrences

class Occ:
    __slots__ = ("_j", "ann", "arrive", "cluster", "end", "fp", "group", "known_end", "labels", "role",
                 "seq", "start", "url")

    def __init__(self):
        self._j = {}


class Registry:
    """All alert occurrences, one label set never firing twice at once."""

    def __init__(self):
        self.by_fp = {}
        self.all = []
        self.seq = 0

    def free(self, fp, start, end):
        for o in self.by_fp.get(fp, ()):
            oe = INF if o.end is None else o.end
            ne = INF if end is None else end
            if start <= oe + EVAL and ne >= o.start - EVAL:
                return False
        return True

    def add(self, o: Occ):
        self.seq += 1
        o.seq = self.seq
        self.by_fp.setdefault(o.fp, []).append(o)
        self.all.append(o)

    def conflicts(self, fp, start, end):
        out = []
        for o in self.by_fp.get(fp, ()):
            oe = INF if o.end is None else o.end
            ne = INF if end is None else end
            if start <= oe + EVAL and ne >= o.start - EVAL:
                out.append(o)
        return out

    def remove(self, o):
        self.all.remove(o)
        self.by_fp[o.fp].remove(o)

    def remove_group(self, group):
        keep = [o for o in self.all if o.group != group]
        self.all = keep
        self.by_fp = {}
        for o in keep:
            self.by_fp.setdefault(o.fp, []).append(o)


class Planner:
    def __init__(self, w: World, rng: random.Random, reg: Registry, t0: int):
        self.w, self.rng, self.reg, self.t0 = w, rng, reg, t0
        self.R = Rules(w, rng)

    def _tick(self, t, cl, egroup):
        off = self.w.cluster[cl].offsets[egroup]
        k = -((off - t) // EVAL)        # ceil((t - off) / EVAL)
        return off + k * EVAL

    def occ(self, sp: Spec, cond_start: int, cond_end, group: str, role: str):
        """Plan one occurrence; cond_* are when the rule's expression turns true / false."""
        eg = egroup_of(sp.rule)
        active = self._tick(cond_start, sp.cluster, eg)
        fired = active + -(-sp.for_ms // EVAL) * EVAL
        end = None
        if cond_end is not None:
            end = self._tick(cond_end + sp.keep_ms, sp.cluster, eg)
            if end <= fired:
                return None
        labels = dict(sp.labels)
        labels.setdefault("cluster", sp.cluster)
        labels.setdefault("prometheus", "monitoring/k8s")
        fp = fingerprint(labels)
        if not self.reg.free(fp, fired, end):
            clash = self.reg.conflicts(fp, fired, end)
            if role != "cause" or any(c.role == "cause" for c in clash):
                return None
            for c in clash:          # a fault's own alert wins over someone else's symptom
                self.reg.remove(c)
        o = Occ()
        o.labels = labels
        o.ann = sp.ann
        o.fp = fp
        o.start = fired
        o.end = end
        lat = self.rng.randint(8, 900)
        o.arrive = max(fired + lat, self.t0 + self.rng.randint(100, 400))
        o.known_end = None if end is None else max(end + self.rng.randint(8, 900), o.arrive + 1)
        expr = EXPR.get(sp.rule) or EXPR[labels["alertname"]]
        o.url = f"{self.w.cluster[sp.cluster].prom_url}/graph?g0.expr={quote_plus(expr, safe='')}&g0.tab=1"
        o.group = group
        o.role = role
        o.cluster = sp.cluster
        self.reg.add(o)
        return o

    def cause(self, sp, at, repair, group, lag=(0.05, 1.2), out=None):
        cs = at + minutes(self.rng, *lag)
        ce = repair + minutes(self.rng, 0.2, 3.0)
        o = self.occ(sp, cs, ce, group, "cause")
        if o is not None and out is not None:
            out.append(o)
        return o

    def symptom(self, sp, at, repair, depth, group, out=None, linger=0):
        """A symptom fires 0-10 minutes after the fault, its `for:` included: the trouble takes
        a little longer to reach services further up the call chain."""
        rng = self.rng
        d = max(1, depth)
        cs = at + minutes(rng, 0.05 + 0.6 * (d - 1), 1.8 + 1.3 * (d - 1))
        latest = at + 10 * MIN - EVAL - sp.for_ms
        if latest < at + 5 * SEC:
            return None
        if cs > latest:
            cs = max(at + 5 * SEC, latest - rng.randint(0, 90) * SEC)
        ce = repair + minutes(rng, 0.3, 4.0) + depth * minutes(rng, 0, 1.5) + linger
        if ce <= cs + sp.for_ms + MIN:
            ce = cs + sp.for_ms + minutes(rng, 2, 6)
        made = []
        if rng.random() < 0.14 and ce - cs - sp.for_ms > 14 * MIN:
            # flapping: clears for a couple of minutes and comes back (new startsAt)
            mid = cs + sp.for_ms + minutes(rng, 3, (ce - cs - sp.for_ms) / MIN - 8)
            gap = minutes(rng, 1.0, 3.5)
            a = self.occ(sp, cs, mid, group, "symptom")
            b = self.occ(sp, mid + gap, ce, group, "symptom") if a is not None else None
            made = [x for x in (a, b) if x is not None]
        else:
            o = self.occ(sp, cs, ce, group, "symptom")
            made = [o] if o is not None else []
        if out is not None:
            out.extend(made)
        return made


# --------------------------------------------------------------------------- faults

SERVICE_VARIANTS = {
    "api": [("error_burst", 4), ("bad_rollout", 3), ("latency", 2), ("hard_down", 2)],
    "worker": [("bad_rollout", 3), ("stuck_consumer", 4), ("hard_down", 2)],
    "postgres": [("conn_exhaustion", 3), ("slow_queries", 3), ("down", 2)],
    "redis": [("down", 2), ("oom", 2)],
    "rabbitmq": [("memory_alarm", 3), ("partition", 2)],
    "kafka": [("broker_failure", 3), ("controller", 1)],
}
HOST_VARIANTS = [("node_down", 4), ("disk_full", 2), ("mem_pressure", 2), ("net_errors", 2), ("io_saturation", 2)]
CLUSTER_VARIANTS = [("dns", 3), ("control_plane", 2), ("kube_proxy", 1)]


def wchoice(rng, items):
    tot = sum(w for _, w in items)
    x = rng.uniform(0, tot)
    for v, w in items:
        x -= w
        if x <= 0:
            return v
    return items[-1][0]


class FaultPlanner:
    def __init__(self, pl: Planner):
        self.pl = pl
        self.w = pl.w
        self.rng = pl.rng
        self.R = pl.R

    # symptoms of a service that calls something broken (or is hit by a cluster fault)
    def dep_symptoms(self, s: Svc, at, repair, depth, g, out, strength=1.0, dns=False):
        rng, R, pl = self.rng, self.R, self.pl
        if s.kind == "api":
            opts = [("err", 3.0), ("errw", 2.0), ("burn", 1.6), ("lat", 2.0 if not dns else 0.6),
                    ("notready", 0.5), ("crash", 0.35)]
        elif s.kind == "worker":
            opts = [("joberr", 3.0), ("lag", 2.0), ("crash", 0.7)]
        elif s.kind == "postgres":
            opts = [("pgconn", 1.0), ("pgslow", 1.0)]
        elif s.kind == "redis":
            opts = [("redisconn", 1.0)]
        elif s.kind == "rabbitmq":
            opts = [("unroutable", 1.0)]
        else:
            opts = [("isr", 1.0)]
        n = 1 if rng.random() < 0.55 else 2
        if strength > 1.2 and rng.random() < 0.4:
            n += 1
        chosen = []
        pool = list(opts)
        while pool and len(chosen) < n:
            c = wchoice(rng, pool)
            chosen.append(c)
            pool = [p for p in pool if p[0] != c]
        for c in chosen:
            linger = 0
            if c == "err":
                sp = R.error_rate(s, True)
            elif c == "errw":
                sp = R.error_rate(s, False)
            elif c == "burn":
                sp = R.budget_burn(s)
                if rng.random() < 0.5:
                    linger = minutes(rng, 10, 70)   # the 1h window keeps burning after recovery
            elif c == "lat":
                sp = R.latency(s, rng.choice(s.routes))
            elif c == "notready":
                sp = R.pod_not_ready(s, rng.choice(s.pods))
            elif c == "crash":
                sp = R.crashloop(s, rng.choice(s.pods))
            elif c == "joberr":
                sp = R.job_errors(s)
            elif c == "lag":
                sp = R.consumer_lag(s)
            elif c == "pgconn":
                sp = R.pg_conns(s, s.pods[0], True)
            elif c == "pgslow":
                sp = R.pg_slow(s, s.pods[0])
            elif c == "redisconn":
                sp = R.redis(s, s.pods[0], "RedisTooManyConnections")
            elif c == "unroutable":
                sp = R.rabbit(s, rng.choice(s.pods), "RabbitMQUnroutableMessages")
            else:
                sp = R.kafka(s, "KafkaISRShrinkRate", rng.choice(s.pods))
            pl.symptom(sp, at, repair, depth, g, out, linger=linger)

    def propagate(self, seeds, at, repair, g, out, probs, exclude=()):
        """Callers of the seed services, transitively, each alerting with a probability by depth."""
        seen = set(seeds) | set(exclude)
        frontier = [(s, 1) for s in seeds]
        order = []
        while frontier:
            nxt = []
            for name, d in frontier:
                for c in self.w.callers[name]:
                    if c not in seen:
                        seen.add(c)
                        order.append((c, d))
                        nxt.append((c, d + 1))
            frontier = nxt
        for name, d in order:
            p = probs[min(d, len(probs)) - 1]
            if self.rng.random() < p:
                self.dep_symptoms(self.w.svc[name], at, repair, d, g, out)

    def plan_causes(self, f: dict):
        out = []
        {"service": self.service_causes, "host": self.host_causes, "cluster": self.cluster_causes}[f["kind"]](f, out)
        return out

    def plan_symptoms(self, f: dict):
        out = []
        {"service": self.service_symptoms, "host": self.host_symptoms, "cluster": self.cluster_symptoms}[f["kind"]](f, out)
        return out

    def _fill(self, f, causes, fallbacks):
        """At least two cause alerts: add the variant's secondary alerts until there are."""
        at, repair, g = f["at"], f["at"] + f["dur"], f["id"]
        for make in fallbacks:
            if len(causes) >= 2:
                break
            self.pl.cause(make(), at, repair, g, (0.3, 2.0), causes)

    def service_causes(self, f, out):
        rng, R, pl = self.rng, self.R, self.pl
        s = self.w.svc[f["cause"]]
        at, repair, g, v = f["at"], f["at"] + f["dur"], f["id"], f["variant"]
        causes = []
        probs = [0.85, 0.55, 0.35]
        if v == "bad_rollout":
            s.rs_fault = rstr(rng, len(s.rs))
            n = rng.randint(1, min(2, len(s.pods)))
            for p in rng.sample(s.pods, n):
                np_ = Pod(f"{s.name}-{s.rs_fault}-{rstr(rng, 5)}", p.node, p.ip, uid(rng), p.ordinal)
                pl.cause(R.crashloop(s, np_), at, repair, g, (0.5, 2.0), causes)
            pl.cause(R.rollout_stuck(s), at, repair, g, (0.1, 0.6), causes)
            if rng.random() < 0.5:
                pl.cause(R.error_rate(s, False), at, repair, g, (0.2, 2), causes)
            probs = [0.35, 0.2, 0.1]
        elif v == "error_burst":
            pl.cause(R.error_rate(s, True), at, repair, g, (0.05, 0.8), causes)
            if rng.random() < 0.7:
                pl.cause(R.budget_burn(s), at, repair, g, (0.3, 1.5), causes)
            if rng.random() < 0.5:
                pl.cause(R.error_rate(s, False), at, repair, g, (0.0, 0.5), causes)
        elif v == "latency":
            for r in rng.sample(s.routes, rng.randint(1, len(s.routes))):
                pl.cause(R.latency(s, r), at, repair, g, (0.05, 1.0), causes)
            if rng.random() < 0.4:
                pl.cause(R.hpa_maxed(s), at, repair, g, (0.5, 2), causes)
            if rng.random() < 0.4:
                pl.cause(R.cpu_throttling(s, rng.choice(s.pods)), at, repair, g, (0.1, 1), causes)
            if rng.random() < 0.5:
                pl.cause(R.error_rate(s, False), at, repair, g, (1, 3), causes)
            probs = [0.7, 0.45, 0.25]
        elif v == "hard_down":
            for p in s.pods:
                pl.cause(R.crashloop(s, p), at, repair, g, (0.3, 1.5), causes)
            pl.cause(R.target_down(s, len(s.pods)), at, repair, g, (0.1, 0.6), causes)
            pl.cause(R.replicas_mismatch(s), at, repair, g, (0.1, 0.5), causes)
            probs = [0.95, 0.6, 0.4]
        elif v == "stuck_consumer":
            pl.cause(R.consumer_lag(s, False), at, repair, g, (0.2, 1.5), causes)
            pl.cause(R.job_errors(s), at, repair, g, (0.05, 1.0), causes)
            if rng.random() < 0.5:
                pl.cause(R.consumer_lag(s, True), at, repair, g, (1, 3), causes)
            probs = [0.5, 0.3, 0.2]
        elif v == "conn_exhaustion":
            p = s.pods[0]
            pl.cause(R.pg_conns(s, p, True), at, repair, g, (0.05, 1.0), causes)
            pl.cause(R.pg_conns(s, p, False), at, repair, g, (0.0, 0.5), causes)
            probs = [0.9, 0.6, 0.35]
        elif v == "slow_queries":
            p = s.pods[0]
            pl.cause(R.pg_slow(s, p), at, repair, g, (0.05, 1.0), causes)
            if rng.random() < 0.6:
                pl.cause(R.pg_deadlocks(s), at, repair, g, (0.2, 1.5), causes)
            pl.cause(R.pg_conns(s, p, False), at, repair, g, (0.5, 2), causes)
            probs = [0.8, 0.5, 0.3]
        elif v == "down":
            p = s.pods[0]
            if s.kind == "postgres":
                pl.cause(R.pg_down(s, p), at, repair, g, (0.05, 0.6), causes)
            else:
                pl.cause(R.redis(s, p, "RedisDown"), at, repair, g, (0.05, 0.6), causes)
            if rng.random() < 0.6:
                pl.cause(R.crashloop(s, p), at, repair, g, (0.3, 1.5), causes)
            pl.cause(R.replicas_mismatch(s), at, repair, g, (0.1, 0.5), causes)
            probs = [0.9, 0.6, 0.35]
        elif v == "oom":
            p = rng.choice(s.pods)
            pl.cause(R.redis(s, p, "RedisOutOfMemory"), at, repair, g, (0.05, 1.0), causes)
            pl.cause(R.redis(s, p, "RedisTooManyConnections"), at, repair, g, (0.2, 2.0), causes)
            if rng.random() < 0.5:
                pl.cause(R.crashloop(s, p), at, repair, g, (1, 3), causes)
            probs = [0.75, 0.45, 0.25]
        elif v == "memory_alarm":
            p = rng.choice(s.pods)
            pl.cause(R.rabbit(s, p, "RabbitMQMemoryHigh"), at, repair, g, (0.05, 1.0), causes)
            if rng.random() < 0.4:
                pl.cause(R.rabbit(s, p, "RabbitMQFileDescriptorsUsage"), at, repair, g, (0.2, 2), causes)
            pl.cause(R.rabbit(s, p, "RabbitMQUnroutableMessages"), at, repair, g, (0.5, 2), causes)
            probs = [0.8, 0.5, 0.3]
        elif v == "partition":
            bad = rng.choice(s.pods)
            for p in s.pods:
                if p is not bad:
                    pl.cause(R.rabbit(s, p, "RabbitMQNodeNotDistributed", bad), at, repair, g, (0.05, 1.0), causes)
            pl.cause(R.rabbit(s, bad, "RabbitMQNodeNotDistributed", rng.choice([p for p in s.pods if p is not bad])),
                     at, repair, g, (0.05, 1.0), causes)
            probs = [0.7, 0.4, 0.2]
        elif v == "broker_failure":
            bad = rng.choice(s.pods)
            for p in s.pods:
                if p is not bad:
                    pl.cause(R.kafka(s, "KafkaUnderReplicatedPartitionCount", p), at, repair, g, (0.05, 1.0), causes)
                    if rng.random() < 0.6:
                        pl.cause(R.kafka(s, "KafkaISRShrinkRate", p), at, repair, g, (0.0, 0.6), causes)
            if rng.random() < 0.4:
                pl.cause(R.kafka(s, "KafkaOfflinePartitionCount"), at, repair, g, (0.1, 1), causes)
            probs = [0.6, 0.35, 0.2]
        elif v == "controller":
            pl.cause(R.kafka(s, "KafkaNoActiveController"), at, repair, g, (0.05, 1.0), causes)
            pl.cause(R.kafka(s, "KafkaOfflinePartitionCount"), at, repair, g, (0.1, 1.0), causes)
            probs = [0.85, 0.5, 0.3]
        p0 = s.pods[0]

        def pick():
            return rng.choice(s.pods)
        fallbacks = {
            "api": [lambda: R.error_rate(s, False), lambda: R.error_rate(s, True), lambda: R.budget_burn(s),
                    lambda: R.latency(s, rng.choice(s.routes)), lambda: R.pod_not_ready(s, pick()),
                    lambda: R.target_down(s, 1)],
            "worker": [lambda: R.job_errors(s), lambda: R.pod_not_ready(s, pick()), lambda: R.target_down(s, 1),
                       lambda: R.crashloop(s, pick())],
            "postgres": [lambda: R.pg_conns(s, p0, False), lambda: R.pg_slow(s, p0), lambda: R.pg_deadlocks(s),
                         lambda: R.target_down(s, 1)],
            "redis": [lambda: R.redis(s, p0, "RedisTooManyConnections"), lambda: R.redis(s, pick(), "RedisOutOfMemory"),
                      lambda: R.target_down(s, 1)],
            "rabbitmq": [lambda: R.rabbit(s, pick(), "RabbitMQUnroutableMessages"),
                         lambda: R.rabbit(s, pick(), "RabbitMQFileDescriptorsUsage"), lambda: R.target_down(s, 1)],
            "kafka": [lambda: R.kafka(s, "KafkaISRShrinkRate", pick()), lambda: R.kafka(s, "KafkaOfflinePartitionCount"),
                      lambda: R.kafka(s, "KafkaUnderReplicatedPartitionCount", pick()), lambda: R.target_down(s, 1)],
        }[s.kind]
        self._fill(f, causes, fallbacks)
        f["probs"] = probs
        out.extend(causes)

    def service_symptoms(self, f, out):
        # everything that calls the faulty service, directly or not, may suffer
        at, repair, g = f["at"], f["at"] + f["dur"], f["id"]
        self.propagate([f["cause"]], at, repair, g, out, f["probs"])

    def host_causes(self, f, out):
        rng, R, pl, w = self.rng, self.R, self.pl, self.w
        nd = w.nodes[f["cause"]]
        at, repair, g, v = f["at"], f["at"] + f["dur"], f["id"], f["variant"]
        causes = []
        if v == "node_down":
            pl.cause(R.node_not_ready(nd), at, repair, g, (0.6, 0.9), causes)    # grace period 40s
            pl.cause(R.node_unreachable(nd), at, repair, g, (0.7, 1.0), causes)
        elif v == "disk_full":
            pl.cause(R.fs_almost_full(nd), at, repair, g, (0.0, 0.3), causes)
            pl.cause(R.node_pressure(nd, "DiskPressure"), at, repair, g, (0.3, 1.0), causes)
            pl.cause(R.node_eviction(nd, "nodefs.available"), at, repair, g, (0.5, 2.0), causes)
        elif v == "mem_pressure":
            pl.cause(R.mem_high(nd), at, repair, g, (0.0, 0.5), causes)
            pl.cause(R.node_pressure(nd, "MemoryPressure"), at, repair, g, (0.3, 1.0), causes)
            if rng.random() < 0.7:
                pl.cause(R.node_eviction(nd, "memory.available"), at, repair, g, (0.5, 2.0), causes)
        elif v == "net_errors":
            pl.cause(R.net_errs(nd, "rx"), at, repair, g, (0.0, 0.5), causes)
            if rng.random() < 0.7:
                pl.cause(R.net_errs(nd, "tx"), at, repair, g, (0.0, 0.5), causes)
            if rng.random() < 0.4:
                pl.cause(R.conntrack(nd), at, repair, g, (0.2, 1.5), causes)
        else:   # io_saturation
            pl.cause(R.disk_io(nd), at, repair, g, (0.0, 0.5), causes)
            pl.cause(R.load_high(nd), at, repair, g, (0.2, 1.0), causes)
        self._fill(f, causes, {
            "node_down": [lambda: R.node_pressure(nd, "PIDPressure")],
            "disk_full": [lambda: R.fs_filling(nd), lambda: R.node_eviction(nd, "imagefs.available")],
            "mem_pressure": [lambda: R.node_eviction(nd, "memory.available"), lambda: R.load_high(nd)],
            "net_errors": [lambda: R.net_errs(nd, "tx"), lambda: R.conntrack(nd)],
            "io_saturation": [lambda: R.cpu_high(nd)],
        }[v])
        out.extend(causes)

    def host_symptoms(self, f, out):
        rng, R, pl, w = self.rng, self.R, self.pl, self.w
        nd = w.nodes[f["cause"]]
        at, repair, g, v = f["at"], f["at"] + f["dur"], f["id"], f["variant"]
        hit = []
        if v == "node_down" and rng.random() < 0.75:
            cl = w.cluster[nd.cluster]
            sp = R.target_down_infra(nd.cluster, "node-exporter", "monitoring", "node-exporter",
                                     100.0 / len(cl.nodes))
            pl.symptom(sp, at, repair, 1, g, out)
        for s, p in nd.pods:
            strong = False
            if v == "node_down":
                if s.kind in ("api", "worker"):
                    if rng.random() < 0.7:
                        pl.symptom(R.pod_not_ready(s, p), at, repair, 1, g, out)
                    if rng.random() < 0.6:
                        pl.symptom(R.target_down(s, 1), at, repair, 1, g, out)
                    if s.kind == "api" and rng.random() < 0.35:
                        pl.symptom(R.error_rate(s, False), at, repair, 1, g, out)
                elif s.kind in ("postgres", "redis"):
                    if rng.random() < 0.8:
                        pl.symptom(R.target_down(s, 1), at, repair, 1, g, out)
                    if rng.random() < 0.5:
                        pl.symptom(R.pod_not_ready(s, p), at, repair, 1, g, out)
                    strong = p.ordinal == 0
                elif s.kind == "rabbitmq":
                    for q in s.pods:
                        if q is not p and rng.random() < 0.8:
                            pl.symptom(R.rabbit(s, q, "RabbitMQNodeNotDistributed", p), at, repair, 1, g, out)
                    if rng.random() < 0.5:
                        pl.symptom(R.target_down(s, 1), at, repair, 1, g, out)
                else:
                    for q in s.pods:
                        if q is not p and rng.random() < 0.8:
                            pl.symptom(R.kafka(s, "KafkaUnderReplicatedPartitionCount", q), at, repair, 1, g, out)
                    if rng.random() < 0.5:
                        pl.symptom(R.target_down(s, 1), at, repair, 1, g, out)
            elif v == "disk_full":
                if s.kind == "postgres" and p.ordinal == 0:
                    if rng.random() < 0.85:
                        pl.symptom(R.pg_down(s, p), at, repair, 1, g, out)
                    strong = True
                elif rng.random() < 0.45:
                    pl.symptom(R.pod_not_ready(s, p), at, repair, 1, g, out)
                if s.kind == "api" and rng.random() < 0.3:
                    pl.symptom(R.error_rate(s, False), at, repair, 1, g, out)
            elif v == "mem_pressure":
                if s.kind == "redis" and rng.random() < 0.7:
                    pl.symptom(R.redis(s, p, "RedisOutOfMemory"), at, repair, 1, g, out)
                    strong = True
                elif rng.random() < 0.55:
                    pl.symptom(R.crashloop(s, p), at, repair, 1, g, out)     # OOMKilled restarts
                if s.kind == "api" and rng.random() < 0.3:
                    pl.symptom(R.error_rate(s, False), at, repair, 1, g, out)
            elif v == "net_errors":
                if s.kind == "api":
                    if rng.random() < 0.5:
                        pl.symptom(R.error_rate(s, rng.random() < 0.4), at, repair, 1, g, out)
                    if rng.random() < 0.45:
                        pl.symptom(R.latency(s, rng.choice(s.routes)), at, repair, 1, g, out)
                elif s.kind == "rabbitmq":
                    q = rng.choice([x for x in s.pods if x is not p])
                    pl.symptom(R.rabbit(s, q, "RabbitMQNodeNotDistributed", p), at, repair, 1, g, out)
                elif s.kind == "kafka":
                    pl.symptom(R.kafka(s, "KafkaISRShrinkRate", p), at, repair, 1, g, out)
                elif s.kind == "worker" and rng.random() < 0.5:
                    pl.symptom(R.job_errors(s), at, repair, 1, g, out)
            else:   # io_saturation
                if s.kind == "postgres" and p.ordinal == 0 and rng.random() < 0.85:
                    pl.symptom(R.pg_slow(s, p), at, repair, 1, g, out)
                    strong = True
                elif s.kind == "api" and rng.random() < 0.5:
                    pl.symptom(R.latency(s, rng.choice(s.routes)), at, repair, 1, g, out)
                elif s.kind == "kafka" and rng.random() < 0.6:
                    pl.symptom(R.kafka(s, "KafkaISRShrinkRate", p), at, repair, 1, g, out)
            hit.append((s.name, strong))
        strong = [n for n, st in hit if st]
        weak = [n for n, st in hit if not st]
        self.propagate(strong, at, repair, g, out, [0.8, 0.5, 0.3])
        self.propagate(weak, at, repair, g, out, [0.35, 0.2, 0.1], exclude=strong)

    def cluster_causes(self, f, out):
        rng, R, pl = self.rng, self.R, self.pl
        cl = f["cause"]
        at, repair, g, v = f["at"], f["at"] + f["dur"], f["id"], f["variant"]
        causes = []
        if v == "dns":
            pl.cause(R.coredns_errors(cl), at, repair, g, (0.0, 0.4), causes)
            if rng.random() < 0.6:
                pl.cause(R.coredns_latency(cl), at, repair, g, (0.0, 0.8), causes)
        elif v == "control_plane":
            pl.cause(R.api_burn(cl), at, repair, g, (0.0, 0.8), causes)
            pl.cause(R.etcd_grpc(cl), at, repair, g, (0.0, 0.8), causes)
            if rng.random() < 0.6:
                pl.cause(R.api_terminated(cl), at, repair, g, (0.1, 1.0), causes)
        else:
            pl.cause(R.kube_proxy_down(cl), at, repair, g, (0.2, 0.8), causes)
            if rng.random() < 0.5:
                pl.cause(R.coredns_errors(cl), at, repair, g, (0.5, 2.0), causes)   # DNS to kube-dns VIP fails
        self._fill(f, causes, {
            "dns": [lambda: R.coredns_latency(cl), lambda: R.etcd_grpc(cl)],
            "control_plane": [lambda: R.api_terminated(cl), lambda: R.etcd_grpc(cl)],
            "kube_proxy": [lambda: R.coredns_errors(cl), lambda: R.coredns_latency(cl)],
        }[v])
        out.extend(causes)

    def cluster_symptoms(self, f, out):
        rng, R, pl, w = self.rng, self.R, self.pl, self.w
        cl = f["cause"]
        at, repair, g, v = f["at"], f["at"] + f["dur"], f["id"], f["variant"]
        mine = [s for s in w.svcs if s.cluster == cl]
        p = {"dns": 0.6, "control_plane": 0.3, "kube_proxy": 0.5}[v]
        touched = []
        for s in mine:
            if rng.random() >= p:
                continue
            touched.append(s.name)
            if v == "control_plane":
                if s.kind in ("api", "worker") and rng.random() < 0.6:
                    pl.symptom(R.crashloop(s, rng.choice(s.pods)), at, repair, 1, g, out)
                elif s.kind == "api":
                    pl.symptom(R.error_rate(s, False), at, repair, 1, g, out)
                elif s.kind == "worker":
                    pl.symptom(R.job_errors(s), at, repair, 1, g, out)
            else:
                if s.kind in ("api", "worker"):
                    self.dep_symptoms(s, at, repair, 1, g, out, dns=(v == "dns"))
        # callers in the other cluster of the services that broke
        self.propagate(touched, at, repair, g, out, [0.3, 0.15])


# --------------------------------------------------------------------------- noise

class NoisePlanner:
    def __init__(self, pl: Planner, t0: int, t_end: int):
        self.pl, self.t0, self.t_end = pl, t0, t_end
        self.w, self.rng, self.R = pl.w, pl.rng, pl.R
        self.n = 0

    def _g(self):
        self.n += 1
        return f"noise-{self.n}"

    def _emit(self, sp, start, end):
        """Plan a noise occurrence by its firing window (start = FiredAt)."""
        cs = start - sp.for_ms
        o = self.pl.occ(sp, cs, end, self._g(), "noise")
        return 1 if o is not None else 0

    def any_node(self):
        return self.w.nodes[self.rng.choice(list(self.w.nodes))]

    def watchdogs(self):
        k = 0
        for cl in self.w.clusters:
            start = self.t0 - minutes(self.rng, 60 * 24, 60 * 24 * 9)
            k += self._emit(self.R.watchdog(cl.name), start, None)
        return k

    def pick(self, pred=lambda s: True):
        c = [s for s in self.w.svcs if pred(s)]
        return self.rng.choice(c) if c else None

    def blip(self):
        rng, R = self.rng, self.R
        k = wchoice(rng, [("err", 2), ("lat", 1.5), ("crash", 1.4), ("lag", 0.8), ("unroutable", 0.4),
                          ("evict", 0.7), ("cpuhigh", 0.8), ("throttle", 1.2), ("infra_down", 0.6),
                          ("deadlocks", 0.4)])
        s = None
        if k == "err":
            s = self.pick(lambda s: s.kind == "api")
            return s and R.error_rate(s, False)
        if k == "lat":
            s = self.pick(lambda s: s.kind == "api")
            return s and R.latency(s, rng.choice(s.routes))
        if k == "crash":
            s = self.pick()
            return R.crashloop(s, rng.choice(s.pods))
        if k == "lag":
            s = self.pick(lambda s: s.kind == "worker")
            return s and R.consumer_lag(s)
        if k == "unroutable":
            s = self.pick(lambda s: s.kind == "rabbitmq")
            return s and R.rabbit(s, rng.choice(s.pods), "RabbitMQUnroutableMessages")
        if k == "evict":
            return R.node_eviction(self.any_node(), rng.choice(["ephemeral-storage", "memory.available"]))
        if k == "cpuhigh":
            return R.cpu_high(self.any_node())
        if k == "throttle":
            s = self.pick()
            return R.cpu_throttling(s, rng.choice(s.pods))
        if k == "deadlocks":
            s = self.pick(lambda s: s.kind == "postgres")
            return s and R.pg_deadlocks(s)
        cl = rng.choice(self.w.clusters).name
        job, ns_, svc = rng.choice([("blackbox-exporter", "monitoring", "blackbox-exporter"),
                                    ("argocd-metrics", "argocd", "argocd-metrics"),
                                    ("ingress-nginx-controller-metrics", "ingress-nginx", "ingress-nginx-controller-metrics"),
                                    ("cert-manager", "cert-manager", "cert-manager")])
        return R.target_down_infra(cl, job, ns_, svc, rng.choice([33.33, 50, 100]))

    def chronic(self):
        rng, R = self.rng, self.R
        k = wchoice(rng, [("throttle", 2), ("skew", 1), ("hpa", 1.2), ("pgcache", 0.8), ("conntrack", 0.8),
                          ("quota", 0.7), ("cpuhigh", 0.5)])
        if k == "throttle":
            s = self.pick()
            return R.cpu_throttling(s, rng.choice(s.pods))
        if k == "skew":
            return R.clock_skew(self.any_node())
        if k == "hpa":
            s = self.pick(lambda s: s.workload == "deployment")
            return R.hpa_maxed(s)
        if k == "pgcache":
            s = self.pick(lambda s: s.kind == "postgres")
            return R.pg_cache(s, s.pods[0])
        if k == "conntrack":
            return R.conntrack(self.any_node())
        if k == "quota":
            s = self.pick()
            return R.quota_almost_full(s.cluster, s.ns, rng.choice(["requests.memory", "requests.cpu", "count/pods"]))
        return R.cpu_high(self.any_node())

    def long(self):
        rng, R = self.rng, self.R
        k = wchoice(rng, [("cert", 1.2), ("kcert", 0.8), ("ccert", 0.5), ("pv", 0.8), ("fsfill", 0.8),
                          ("vacuum", 0.7), ("waiting", 0.8), ("apislow", 0.4)])
        if k == "cert":
            return R.cert_expiry(self.pick(lambda s: s.kind == "api") or self.pick())
        if k == "kcert":
            return R.kubelet_cert(self.any_node())
        if k == "ccert":
            return R.client_cert(rng.choice(self.w.clusters).name)
        if k == "pv":
            s = self.pick(lambda s: s.workload == "statefulset")
            return R.pv_filling(s, rng.choice(s.pods))
        if k == "vacuum":
            s = self.pick(lambda s: s.kind == "postgres")
            return R.pg_vacuum(s)
        if k == "waiting":
            s = self.pick(lambda s: s.workload == "deployment")
            return R.container_waiting(s, rng.choice(s.pods), rng.choice(["ImagePullBackOff", "CreateContainerConfigError"]))
        if k == "apislow":
            return R.api_burn(rng.choice(self.w.clusters).name, slow=True)
        return R.fs_filling(self.any_node())

    def make(self, target: int):
        rng, R = self.rng, self.R
        made = self.watchdogs()
        span = self.t_end - self.t0
        kinds = [("blip", 5), ("chronic", 2.6), ("long", 2.4), ("job", 1.6)]
        guard = 0
        while made < target and guard < target * 20:
            guard += 1
            k = wchoice(rng, kinds)
            if k == "blip":
                sp = self.blip()
                if sp is None:
                    continue
                start = self.t0 + rng.randint(0, max(1, span - 10 * MIN))
                made += self._emit(sp, start, start + minutes(rng, 4, 22))
            elif k == "chronic":
                sp = self.chronic()
                t = self.t0 + rng.randint(-90 * MIN, max(1, span // 3))
                reps = rng.randint(2, 4)
                for i in range(reps):
                    if t >= self.t_end - 5 * MIN or made >= target:
                        break
                    d = minutes(rng, 8, 100)
                    if rng.random() < 0.12 and i == reps - 1:
                        made += self._emit(sp, t, None)
                        break
                    made += self._emit(sp, t, t + d)
                    if rng.random() < 0.25:
                        t = t + d + minutes(rng, 1.5, 4)          # quick flap
                    else:
                        t = t + d + minutes(rng, 50, 260)         # hours later
            elif k == "long":
                sp = self.long()
                if rng.random() < 0.35:
                    start = self.t0 - minutes(rng, 30, 60 * 30)
                else:
                    start = self.t0 + rng.randint(0, max(1, span - 30 * MIN))
                end = None if rng.random() < 0.35 else max(start + minutes(rng, 60, 600), self.t0 + 20 * MIN)
                made += self._emit(sp, start, end)
                if end is not None and rng.random() < 0.3 and end < self.t_end - 30 * MIN:
                    t2 = end + minutes(rng, 1.5, 180)      # comes back (probe flap / job rerun)
                    made += self._emit(sp, t2, None if rng.random() < 0.5 else t2 + minutes(rng, 20, 240))
            else:
                s = self.pick()
                task = rng.choice(["nightly-export", "report-generator", "db-backup", "cleanup", "sitemap", "reindex"])
                owner = s.name if s.kind in ("api", "worker", "postgres") else s.ns
                job_name = f"{owner}-{task}-{rng.randint(28000000, 29999999)}"
                start = self.t0 + rng.randint(-120 * MIN, max(1, span - 20 * MIN))
                end = None if rng.random() < 0.45 else start + minutes(rng, 30, 480)
                made += self._emit(R.job_failed(s.cluster, s.ns, job_name), start, end)
        return made


# --------------------------------------------------------------------------- Alertmanager

class Route:
    def __init__(self, key, receiver, group_by, repeat, send_resolved, matcher):
        self.key, self.receiver, self.group_by = key, receiver, group_by
        self.repeat, self.send_resolved, self.matcher = repeat, send_resolved, matcher


def build_routes(rng):
    gb = [["cluster", "alertname"], ["namespace", "alertname"]]
    rng.shuffle(gb)
    root_repeat = rng.choice([4, 6, 12]) * HOUR
    crit = Route('{}/{severity="critical"}', "altlas-critical", gb[1], rng.choice([3, 4]) * HOUR, True,
                 lambda lab: lab.get("severity") == "critical")
    low = Route('{}/{severity=~"info|none"}', "altlas-low", gb[0], 12 * HOUR, False,
                lambda lab: lab.get("severity") in ("info", "none"))
    root = Route("{}", "altlas", gb[0], root_repeat, True, lambda lab: True)
    return [crit, low], root


def route_of(children, root, labels):
    for r in children:
        if r.matcher(labels):
            return r
    return root


def simulate(occs, children, root, am_url, t0, t_end, rng):
    """Alertmanager's dispatcher, aggregation groups and notification log, per group."""
    groups = {}
    for o in occs:
        r = route_of(children, root, o.labels)
        gl = {k: o.labels[k] for k in r.group_by if k in o.labels}
        key = r.key + ":" + labelset_str(gl)
        if key not in groups:
            groups[key] = (r, gl, [])
        groups[key][2].append(o)
    maint0 = t0 - rng.randrange(MAINTENANCE)
    deliveries = []
    nflog = {}
    cmp = functools.cmp_to_key(alertslice_cmp)
    for key in sorted(groups):
        r, gl, gocc = groups[key]
        events = []
        for o in gocc:
            events.append((o.arrive, o.seq, 0, o))
            if o.end is not None:
                t = o.known_end + RESEND
                while t < o.end + RETENTION:
                    events.append((t, o.seq, 1, o))
                    t += RESEND
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        latest, store = {}, {}
        alive, next_flush, has_flushed, removal = False, None, False, None
        i = 0
        while True:
            t_ev = events[i][0] if i < len(events) else INF
            if alive:
                if removal is not None and removal <= t_ev and removal <= next_flush:
                    alive, removal, next_flush = False, None, None
                    continue
                if next_flush <= t_ev:
                    t = next_flush
                    if t > t_end:
                        break
                    has_flushed = True
                    next_flush = t + GROUP_INTERVAL
                    if store:
                        snap = sorted(store.values(), key=cmp)
                        firing = [o for o in snap if o.known_end is None or o.known_end > t]
                        resolved = [o for o in snap if not (o.known_end is None or o.known_end > t)]
                        fset = set(o.fp for o in firing)
                        rset = set(o.fp for o in resolved)
                        entry = nflog.get((r.receiver, key))
                        if entry is None:
                            notify = bool(fset)
                        elif not fset <= entry[0]:
                            notify = True
                        elif not fset:
                            notify = bool(entry[0])
                        elif r.send_resolved and not rset <= entry[1]:
                            notify = True
                        else:
                            notify = entry[2] < t - r.repeat
                        if notify:
                            sent = snap if r.send_resolved else firing
                            if sent:
                                deliveries.append((t + rng.randint(3, 90), r, key, gl, sent, t))
                            nflog[(r.receiver, key)] = (fset, rset, t)
                        for o in resolved:
                            if store.get(o.fp) is o:
                                del store[o.fp]
                    if not store:
                        k = -((maint0 - t) // MAINTENANCE)
                        removal = maint0 + k * MAINTENANCE
                        if removal <= t:
                            removal += MAINTENANCE
                    continue
            if t_ev == INF or t_ev > t_end:
                break
            t, _, kind, o = events[i]
            i += 1
            if kind == 0:
                latest[o.fp] = o
                store[o.fp] = o
            elif latest.get(o.fp) is o:
                store[o.fp] = o
            else:
                continue
            removal = None
            if not alive:
                alive, has_flushed = True, False
                next_flush = t + GROUP_WAIT
            if not has_flushed and o.start + GROUP_WAIT < t:
                next_flush = min(next_flush, t)
    deliveries.sort(key=lambda d: (d[0], d[1].receiver, d[2]))
    out = []
    for at, r, key, gl, sent, t in deliveries:
        alerts = []
        for o in sent:
            resolved = not (o.known_end is None or o.known_end > t)
            ck = resolved
            a = o._j.get(ck)
            if a is None:
                a = {"status": "resolved" if resolved else "firing",
                     "labels": {k: o.labels[k] for k in sorted(o.labels)},
                     "annotations": {k: o.ann[k] for k in sorted(o.ann)},
                     "startsAt": fmt(o.start),
                     "endsAt": fmt(o.end) if resolved else ZERO_TIME,
                     "generatorURL": o.url,
                     "fingerprint": o.fp}
                o._j[ck] = a
            alerts.append(a)
        common = dict(alerts[0]["labels"])
        cann = dict(alerts[0]["annotations"])
        for a in alerts[1:]:
            common = {k: v for k, v in common.items() if a["labels"].get(k) == v}
            cann = {k: v for k, v in cann.items() if a["annotations"].get(k) == v}
        payload = {
            "receiver": r.receiver,
            "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
            "alerts": alerts,
            "groupLabels": {k: gl[k] for k in sorted(gl)},
            "commonLabels": common,
            "commonAnnotations": cann,
            "externalURL": am_url,
            "version": "4",
            "groupKey": key,
            "truncatedAlerts": 0,
        }
        out.append({"at": fmt(at), "payload": payload})
    return out


# --------------------------------------------------------------------------- recognition (for --check)

def subjects(labels: dict, policy: dict) -> set:
    """What an alert is about, read from its labels the way an operator would."""
    svcs, hosts = policy["services"], policy["hosts"]
    out = set()
    for key in ("service", "job", "deployment", "statefulset", "container", "consumergroup",
                "horizontalpodautoscaler"):
        v = labels.get(key)
        if v in svcs:
            out.add(("service", v))
    pod = labels.get("pod")
    if pod:
        best = None
        for s in svcs:
            own = re.match(rf"^{re.escape(s)}-(?:[{SAFE}]{{9,10}}-[{SAFE}]{{5}}|\d+)$", pod)
            if own and (best is None or len(s) > len(best)):
                best = s
        if best:
            out.add(("service", best))
    node = labels.get("node")
    if node in hosts:
        out.add(("host", node))
    inst = labels.get("instance", "")
    if inst.split(":")[0] in hosts:
        out.add(("host", inst.split(":")[0]))
    if labels.get("cluster") and not any(k == "service" for k, _ in out):
        out.add(("cluster", labels["cluster"]))
    return out


# --------------------------------------------------------------------------- generate

def _plan_faults(rng, w, faults, every, t0):
    prod_clusters = [c.name for c in w.clusters if c.env == "prod"]
    prod_nodes = [n for c in w.clusters if c.env == "prod" for n in (x.name for x in c.nodes)]
    kinds = []
    for _ in range(faults):
        x = rng.random()
        kinds.append("service" if x < 0.56 else "host" if x < 0.88 else "cluster")
    if faults >= 6:
        for need in ("host", "cluster"):
            if need not in kinds:
                kinds[rng.randrange(faults)] = need
        if kinds.count("service") < faults // 3:
            for i in range(faults):
                if kinds[i] == "host" and kinds.count("service") < faults // 3:
                    kinds[i] = "service"
    out = []
    t = t0 + minutes(rng, 6, 20)
    busy = []     # (cause, until)
    for i, kind in enumerate(kinds):
        if i:
            t += max(20 * SEC, int(rng.expovariate(1.0 / every) * MIN))
        x = rng.random()
        if x < 0.68:
            dur = minutes(rng, 13, 45)
        elif x < 0.9:
            dur = minutes(rng, 45, 120)
        else:
            dur = minutes(rng, 120, 330)
        pools = {"service": [s.name for s in w.svcs], "host": prod_nodes, "cluster": prod_clusters}
        free = []
        for k in [kind] + [x for x in ("service", "host", "cluster") if x != kind]:
            free = [c for c in pools[k] if not any(b == c and u > t for b, u in busy)]
            if free:
                kind = k
                break
        if not free:
            # every possible cause is already broken: this fault waits for one to be repaired
            until = {}
            for b, u in busy:
                until[b] = max(until.get(b, 0), u)
            first = min((u, c) for c, u in until.items() if c in pools[kind])
            t = first[0] + rng.randint(10, 300) * SEC
            free = [first[1]]
        cause = rng.choice(free)
        if kind == "host" or kind == "cluster":
            dur = max(dur, minutes(rng, 17, 22))
        if kind == "service":
            variant = wchoice(rng, SERVICE_VARIANTS[w.svc[cause].kind])
        elif kind == "host":
            variant = wchoice(rng, HOST_VARIANTS)
        else:
            variant = wchoice(rng, CLUSTER_VARIANTS)
        busy.append((cause, t + dur + 10 * MIN))
        out.append({"id": f"fault-{i + 1}", "kind": kind, "cause": cause, "variant": variant, "at": t, "dur": dur})
    return out


def _fault_ok(f, delivered, policy):
    occ = [o for o in delivered if o.group == f["id"]]
    if len(occ) < 2:
        return False
    want = (f["kind"], f["cause"])
    return any(want in subjects(o.labels, policy) for o in occ)


def generate(seed: int, faults: int, every_minutes: float) -> dict:
    rng = random.Random(seed)
    every = float(every_minutes)
    w = build_world(rng)
    policy = policy_of(w)
    day = datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 23))
    t0 = int((day - EPOCH).total_seconds() * 1000)
    children, root = build_routes(rng)
    reg = Registry()
    pl = Planner(w, rng, reg, t0)
    fp_ = FaultPlanner(pl)
    fl = _plan_faults(rng, w, faults, every, t0)
    for f in fl:                 # causes first: a symptom never hides a fault's own alerts
        fp_.plan_causes(f)
    for f in fl:
        fp_.plan_symptoms(f)
    t_end = max(f["at"] + f["dur"] for f in fl) + minutes(rng, 35, 55) if fl else t0 + 3 * HOUR
    t_end = max(t_end, t0 + 2 * HOUR)
    n_fault = len(reg.all)
    noise = NoisePlanner(pl, t0, t_end)
    noise.make(max(3, round(n_fault * 0.5 * rng.uniform(0.92, 1.08))))

    for _attempt in range(12):
        deliveries = simulate(reg.all, children, root, w.am_url, t0, t_end, rng)
        seen = set()
        for d in deliveries:
            for a in d["payload"]["alerts"]:
                seen.add((a["fingerprint"], a["startsAt"]))
        delivered = [o for o in reg.all if (o.fp, fmt(o.start)) in seen]
        bad = [f for f in fl if not _fault_ok(f, delivered, policy)]
        if not bad:
            break
        for f in bad:
            reg.remove_group(f["id"])
            kind_variants = (SERVICE_VARIANTS[w.svc[f["cause"]].kind] if f["kind"] == "service"
                             else HOST_VARIANTS if f["kind"] == "host" else CLUSTER_VARIANTS)
            f["variant"] = wchoice(rng, kind_variants)
            f["dur"] = max(f["dur"], minutes(rng, 16, 40))
            fp_.plan_causes(f)
            fp_.plan_symptoms(f)
    else:
        raise RuntimeError("could not place every fault's cause alerts")

    truth_alerts = []
    for o in sorted(delivered, key=lambda o: (o.start, o.seq)):
        truth_alerts.append({
            "fingerprint": o.fp,
            "startsAt": fmt(o.start),
            "endsAt": None if (o.end is None or o.end > t_end) else fmt(o.end),
            "labels": {k: o.labels[k] for k in sorted(o.labels)},
            "annotations": {k: o.ann[k] for k in sorted(o.ann)},
            "group": o.group,
        })
    truth_faults = {f["id"]: {"cause": f["cause"], "kind": f["kind"], "at": fmt(f["at"])} for f in fl}
    return {
        "storm": 1,
        "family": FAMILY,
        "seed": seed,
        "faults": faults,
        "every_minutes": every,
        "policy": policy,
        "deliveries": deliveries,
        "truth": {"alerts": truth_alerts, "faults": truth_faults},
    }


# --------------------------------------------------------------------------- check

def check(doc: dict) -> tuple[list, dict]:
    errs = []
    pol = doc["policy"]
    hosts, svcs = pol.get("hosts", {}), pol.get("services", {})
    for h, v in hosts.items():
        if not NAME_RE.match(h):
            errs.append(f"host name {h!r}")
        if v.get("env") not in ("prod", "staging", "dev"):
            errs.append(f"host {h} env {v.get('env')!r}")
    for s, v in svcs.items():
        if not NAME_RE.match(s):
            errs.append(f"service name {s!r}")
        for h in v.get("hosts", []):
            if h not in hosts:
                errs.append(f"service {s} host {h} not in policy")
        for d in v.get("depends_on", []):
            if d not in svcs:
                errs.append(f"service {s} depends on unknown {d}")
        c = v.get("cluster")
        if c is not None and not CLUSTER_RE.match(c):
            errs.append(f"service {s} cluster {c!r}")
    state = {}

    def cyc(n):
        if state.get(n) == 1:
            return True
        if state.get(n) == 2:
            return False
        state[n] = 1
        r = any(cyc(d) for d in svcs[n].get("depends_on", []) if d in svcs)
        state[n] = 2
        return r
    if any(cyc(s) for s in svcs):
        errs.append("depends_on has a cycle")

    truth = doc["truth"]
    tkeys = {}
    for a in truth["alerts"]:
        k = (a["fingerprint"], a["startsAt"])
        if k in tkeys:
            errs.append(f"truth occurrence twice: {k}")
        tkeys[k] = a
        if fingerprint(a["labels"]) != a["fingerprint"]:
            errs.append(f"truth fingerprint mismatch {k}")
        if a["endsAt"] is not None and parse(a["endsAt"]) < parse(a["startsAt"]):
            errs.append(f"truth endsAt before startsAt {k}")
        g = a["group"]
        if not (g.startswith("noise-") or g in truth["faults"]):
            errs.append(f"unknown group {g}")
    seen = set()
    last = None
    resolved_seen = {}
    req = ("receiver", "status", "alerts", "groupLabels", "commonLabels", "commonAnnotations",
           "externalURL", "version", "groupKey", "truncatedAlerts")
    areq = ("status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint")
    for i, d in enumerate(doc["deliveries"]):
        at = parse(d["at"])
        if last is not None and at < last:
            errs.append(f"delivery {i} out of order")
        last = at
        p = d["payload"]
        for k in req:
            if k not in p:
                errs.append(f"delivery {i} lacks {k}")
        if p.get("version") != "4":
            errs.append(f"delivery {i} version")
        if p.get("status") not in ("firing", "resolved"):
            errs.append(f"delivery {i} status")
        if not p.get("alerts"):
            errs.append(f"delivery {i} has no alerts")
        if not p["groupKey"].endswith(":" + labelset_str(p["groupLabels"])):
            errs.append(f"delivery {i} groupKey/groupLabels")
        any_firing = False
        for a in p["alerts"]:
            for k in areq:
                if k not in a:
                    errs.append(f"delivery {i} alert lacks {k}")
            if a["status"] not in ("firing", "resolved"):
                errs.append(f"delivery {i} alert status")
            if fingerprint(a["labels"]) != a["fingerprint"]:
                errs.append(f"delivery {i} fingerprint mismatch")
            if parse(a["startsAt"]) > at:
                errs.append(f"delivery {i} alert starts after delivery")
            for k, v in p["commonLabels"].items():
                if a["labels"].get(k) != v:
                    errs.append(f"delivery {i} commonLabels")
            for k, v in p["groupLabels"].items():
                if a["labels"].get(k) != v:
                    errs.append(f"delivery {i} groupLabels")
            key = (a["fingerprint"], a["startsAt"])
            seen.add(key)
            if a["status"] == "firing":
                any_firing = True
                if a["endsAt"] != ZERO_TIME:
                    errs.append(f"delivery {i} firing alert with endsAt")
            else:
                if parse(a["endsAt"]) < parse(a["startsAt"]) or parse(a["endsAt"]) > at:
                    errs.append(f"delivery {i} resolved endsAt")
                resolved_seen[key] = a["endsAt"]
                t = tkeys.get(key)
                if t is not None and t["endsAt"] != a["endsAt"]:
                    errs.append(f"delivery {i} resolved endsAt differs from truth")
        if (p["status"] == "firing") != any_firing:
            errs.append(f"delivery {i} payload status")
    if seen != set(tkeys):
        errs.append(f"deliveries and truth differ: {len(seen - set(tkeys))} undelivered-in-truth, "
                    f"{len(set(tkeys) - seen)} truth-not-delivered")
    byg = {}
    for a in truth["alerts"]:
        byg.setdefault(a["group"], []).append(a)
    for fid, f in truth["faults"].items():
        occ = byg.get(fid, [])
        if len(occ) < 2:
            errs.append(f"{fid} has {len(occ)} occurrences")
        if f["kind"] not in ("service", "host", "cluster"):
            errs.append(f"{fid} kind")
        if f["kind"] == "service" and f["cause"] not in svcs:
            errs.append(f"{fid} cause not a policy service")
        if f["kind"] == "host" and f["cause"] not in hosts:
            errs.append(f"{fid} cause not a policy host")
        if not any((f["kind"], f["cause"]) in subjects(a["labels"], pol) for a in occ):
            errs.append(f"{fid} has no alert on its cause {f['cause']}")
    # summary
    kinds = {}
    for f in truth["faults"].values():
        kinds[f["kind"]] = kinds.get(f["kind"], 0) + 1
    n = len(truth["alerts"])
    noise = sum(1 for a in truth["alerts"] if a["group"].startswith("noise-"))
    byfp = {}
    for a in sorted(truth["alerts"], key=lambda a: parse(a["startsAt"])):
        byfp.setdefault(a["fingerprint"], []).append(a)
    refires = sum(len(v) - 1 for v in byfp.values())
    refire_silent = 0
    for v in byfp.values():
        for prev, _cur in itertools.pairwise(v):
            if (prev["fingerprint"], prev["startsAt"]) not in resolved_seen:
                refire_silent += 1
    ended_silent = sum(1 for k, a in tkeys.items() if a["endsAt"] is not None and k not in resolved_seen)
    summary = {
        "alerts": len(byfp), "occurrences": n, "deliveries": len(doc["deliveries"]),
        "faults": kinds, "noise_share": round(noise / n, 3) if n else 0.0,
        "refires": refires, "refires_without_resolved_notice": refire_silent,
        "ended_without_resolved_notice": ended_silent,
        "span": f"{doc['deliveries'][0]['at']} .. {doc['deliveries'][-1]['at']}" if doc["deliveries"] else "",
    }
    return errs, summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--faults", type=int, default=40)
    ap.add_argument("--every", type=float, default=8.0)
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args(argv)
    doc = generate(a.seed, a.faults, a.every)
    if not a.check:
        json.dump(doc, sys.stdout, separators=(",", ":"))
        sys.stdout.write("\n")
        return 0
    errs, summary = check(doc)
    s = summary
    print(f"{FAMILY} seed={a.seed} faults={a.faults} every={a.every:g}: {s['alerts']} alerts, "
          f"{s['occurrences']} occurrences, {s['deliveries']} deliveries; faults by kind {s['faults']}; "
          f"noise share {s['noise_share']}; re-fires {s['refires']} "
          f"({s['refires_without_resolved_notice']} without a resolved notice in between); "
          f"ended without resolved notice {s['ended_without_resolved_notice']}; span {s['span']}")
    if errs:
        for e in errs[:30]:
            print("VIOLATION:", e)
        print(f"{len(errs)} violation(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
