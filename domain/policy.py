"""Risk policy as data: who and what altlas may touch, and what each risk requires.

The policy arrives as plain data (parsed from YAML by an adapter) and is checked here,
each error naming the path of the offending value so the loader can point at its line. One
module: the policy file's whole schema, checked in one pass so every error has its path.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from domain.commands import Commands, Program, analyse, is_shell, mode_of, rank
from domain.commands.reads import read_reason
from domain.correlation import HOST_ALERTS, MAX_RELATION, Service, Topology
from domain.correlation import Settings as Correlation
from domain.errors import InvalidInputError, NotAllowedError
from domain.plan import PlanStep
from domain.risk import MIN_APPROVALS, RISK_MATRIX, Effect, GateKind, RiskLevel, Tier
from domain.secrets import SECRET_NAME, SENDING_KINDS, SecretScope, step_references
from domain.web import READ_METHODS, WebTarget, WebTargetError, web_target

Path = tuple[str | int, ...]

POLICY_VERSION = 1
LOCALES = ("en", "tr")
# requester: ask for work; approver: vote (where eligible); auditor: audit tools;
# operator: the runner's and scheduler's endpoints; admin: everything.
ROLES = ("requester", "approver", "auditor", "operator", "admin")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_DURATION = re.compile(r"^(\d+)\s*(s|m|h)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$")
_CHANNEL = re.compile(r"^[A-Za-z0-9]{1,40}$")
CHAT_FRONTS = ("slack", "discord")
_IDENTITY = re.compile(r"^(slack|discord|api):[A-Za-z0-9._-]+$")
# How each kind of step runs its action: local steps exec an argument vector, ssh steps send
# one re-quoted to the host's shell, manual steps are pasted into a shell by a person.


@dataclass(frozen=True)
class Environment:
    name: str
    tier: Tier
    approver_groups: tuple[str, ...]
    approvals: Mapping[RiskLevel, int]
    oncall_group: str | None
    prometheus: str | None = None  # the Prometheus that answers for this environment
    # where each chat front tells the on-call people what concerns them all (a kind of plan
    # that fails often): a Slack channel id, a Discord channel id
    oncall_channels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AlertSender:
    """How Alertmanager proves a webhook is its own; nothing configured accepts nothing."""

    bearer_sha256: str | None = None
    username: str | None = None
    password_sha256: str | None = None

    @property
    def configured(self) -> bool:
        return self.bearer_sha256 is not None or self.username is not None

    def accepts(self, authorization: str | None) -> bool:
        scheme, _, value = (authorization or "").partition(" ")
        if scheme.lower() == "bearer" and self.bearer_sha256 is not None:
            return hmac.compare_digest(_digest(value.strip()), self.bearer_sha256)
        if scheme.lower() == "basic" and self.username is not None:
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode(
                    ).partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return (hmac.compare_digest(user, self.username) and self.password_sha256 is not None
                    and hmac.compare_digest(_digest(password), self.password_sha256))
        return False


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Host:
    name: str
    environment: str
    description: str = ""
    address: str | None = None  # how to reach it; the name itself when unset
    port: int | None = None  # SSH port
    user: str | None = None  # SSH user
    allow: tuple[re.Pattern[str], ...] = ()  # if set, the only commands this host accepts
    http: frozenset[int] = frozenset()  # ports http steps may reach on an internal address

    @property
    def reach(self) -> str:
        return self.address or self.name


@dataclass(frozen=True)
class Person:
    name: str
    identities: tuple[str, ...]
    locale: str | None  # None: follow the chat profile's language
    roles: frozenset[str] = frozenset({"requester"})


@dataclass(frozen=True)
class CommandRule:
    pattern: re.Pattern[str]
    effect: Effect


@dataclass(frozen=True)
class Classification:
    """The deterministic verdict for one step: its level, and why."""

    risk: RiskLevel
    effect: Effect
    environment: str
    target: str
    reason: str


@dataclass(frozen=True)
class Gate:
    kind: GateKind
    required: int
    eligible: frozenset[str]
    expires_in: timedelta
    reason: str


@dataclass(frozen=True)
class Learning:
    """When a kind of plan counts as failing too often (PatternSuccessLow)."""

    low_success: float = 0.6  # a success rate below this ...
    min_runs: int = 5  # ... over at least this many runs


@dataclass(frozen=True)
class Policy:
    environments: Mapping[str, Environment]
    hosts: Mapping[str, Host]
    people: Mapping[str, Person]
    groups: Mapping[str, frozenset[str]]
    expiry: timedelta
    deny: tuple[re.Pattern[str], ...]
    rules: tuple[CommandRule, ...]
    local_allow: tuple[re.Pattern[str], ...]
    local_host: str
    api_tokens: Mapping[str, str] = field(default_factory=dict)  # sha256 of token → person
    learning: Learning = field(default_factory=lambda: Learning())
    services: Mapping[str, Service] = field(default_factory=dict)  # the topology of the alerts
    alertmanager: AlertSender = field(default_factory=lambda: AlertSender())
    incidents: Correlation = field(default_factory=lambda: Correlation())
    secrets: Mapping[str, SecretScope] = field(default_factory=dict)  # where each may go
    # a trigger's schedule may not fire more often than this (triggers.min_interval)
    min_trigger_interval: timedelta = timedelta(minutes=1)
    # each webhook trigger's own credential, by its name (triggers.webhooks)
    webhooks: Mapping[str, AlertSender] = field(default_factory=dict)
    # how many tasks deep a runbook's task step may request work (triggers.task_depth): a
    # task requested by a step may itself request one only below this depth, so none loops
    task_depth: int = 1

    def topology(self) -> Topology:
        return Topology(self.services.values(), self.hosts)

    def queries_of(self, service: str) -> tuple[str, ...]:
        found = self.services.get(service)
        return found.queries if found else ()

    # -- classification ---------------------------------------------------------------

    def classify(self, step: PlanStep) -> Classification:
        """Which level a step has, from the rules alone; a declared level may only raise it."""
        if step.kind == "local":
            target = step.target or self.local_host
            if target != self.local_host:
                raise StepRefusedError(
                    f"step {step.id}: local steps run on {self.local_host} only, not {target!r}"
                )
            commands = self._commands(step)
            self._check_local_allowed(step, commands)
            effect, why = self._command_effect(commands)
        elif step.kind in ("ssh", "manual"):
            if not step.target:
                raise StepRefusedError(f"step {step.id}: {step.kind} steps need a target host")
            target = step.target
            commands = self._commands(step)
            effect, why = self._command_effect(commands)
            host = self.hosts.get(target)
            if step.kind == "ssh" and host is not None and host.allow:
                self._check_host_allowed(step, host, commands)
        elif step.kind == "http":
            target = step.target or ""
            method = self.web_target(step).method
            effect = Effect.READ if method in READ_METHODS else Effect.CHANGE
            why = f"HTTP {method}"
        elif step.kind == "task":
            if step.target:
                raise StepRefusedError(f"step {step.id}: a task step has no target; the task "
                                       "it requests is planned and gated on its own")
            target, effect = "", Effect.READ
            why = "requests a task, whose steps pass their own gates"
        else:  # promql, llm: reads only
            target = step.target or ""
            effect, why = Effect.READ, f"{step.kind} reads only"
        environment = self._environment_of(step, target)
        tier = self.environments[environment].tier
        risk = RISK_MATRIX[effect][tier]
        reason = f"{effect.value} in {environment} ({why})"
        sent = step_references(step.kind, step.action, step.params)
        if sent and risk is RiskLevel.READ_ONLY:  # whoever receives a secret holds it
            risk = RiskLevel.LOW_RISK
            reason += f"; LOW_RISK at least: it sends secret {', '.join(sent)}"
        if step.risk is not None and step.risk.rank > risk.rank:
            reason += f"; raised to {step.risk.value} by the plan"
            risk = step.risk
        return Classification(risk, effect, environment, target, reason)

    def web_target(self, step: PlanStep) -> WebTarget:
        """Where an http step goes, if its target host may be reached there (domain.web)."""
        host = self.hosts.get(step.target or "")
        if host is None:
            raise StepRefusedError(f"step {step.id}: http steps need a target host of the "
                                   f"inventory, not {step.target!r}")
        try:
            return web_target(step, (host.name, host.reach), host.http)
        except WebTargetError as e:
            raise StepRefusedError(f"step {step.id}: {e}") from None

    def _environment_of(self, step: PlanStep, target: str) -> str:
        if target in self.hosts:
            return self.hosts[target].environment
        if target in self.environments and step.kind in ("promql", "llm"):
            return target
        if not target and step.kind in ("promql", "llm", "task"):
            return self._least_privileged_environment()
        raise UnknownHostError(
            f"step {step.id}: unknown host {target!r}; add it to the policy's hosts first"
        )

    def _least_privileged_environment(self) -> str:
        return min(self.environments.values(), key=lambda e: list(Tier).index(e.tier)).name

    def _commands(self, step: PlanStep) -> Commands:
        """What the step will run (domain.commands); refused when its argument vector does
        not split, or a deny rule matches the text as written or any program's canonical
        line."""
        if step.kind == "local" and is_shell(step.action):
            raise StepRefusedError(
                f"step {step.id}: {step.action!r} is shell code (a pipe, redirection, "
                "variable or pattern): a local step runs one program with its arguments; "
                "make it an ssh step or a manual one")
        try:
            commands = analyse(step.action, mode_of(step.kind, step.action))
        except ValueError as e:
            raise StepRefusedError(f"step {step.id}: cannot parse command: {e}") from None
        for pattern in self.deny:
            for text in (step.action, *(p.line for p in commands.programs)):
                if pattern.search(text):
                    raise StepRefusedError(
                        f"step {step.id}: {text!r} matches deny rule {pattern.pattern!r}")
        return commands

    def _check_local_allowed(self, step: PlanStep, commands: Commands) -> None:
        """A local step runs exactly one program, by itself, whose canonical line is on the
        allow-list: no wrapper, interpreter or quoting can smuggle in another."""
        programs = commands.programs
        if len(programs) != 1 or programs[0].via or not commands.complete:
            raise StepRefusedError(
                f"step {step.id}: {step.action!r} is not on the local allow-list (a local "
                "step runs exactly one program, without wrappers)")
        line = programs[0].line
        if not any(p.search(line) for p in self.local_allow):
            runs = "" if line == step.action else f" (it runs {line!r})"
            raise StepRefusedError(
                f"step {step.id}: {step.action!r} is not on the local allow-list{runs}")

    def _check_host_allowed(self, step: PlanStep, host: Host, commands: Commands) -> None:
        """Every program an ssh step runs must match one of the host's allow rules."""
        if not commands.programs or not commands.complete:
            raise StepRefusedError(
                f"step {step.id}: {step.action!r} is not allowed on {host.name} (altlas "
                "cannot tell everything it runs, and the host has allow rules)")
        for program in commands.programs:
            if not any(p.search(program.line) for p in host.allow):
                raise StepRefusedError(
                    f"step {step.id}: {program.line!r} is not allowed on {host.name} "
                    "(the host's allow rules)")

    def _command_effect(self, commands: Commands) -> tuple[Effect, str]:
        """The highest effect of everything that will run: for each program, its first
        matching rule (a change if none), raised by the built-in floors; code around the
        programs that writes files or cannot be parsed counts too."""
        verdicts = [(f.effect, f.reason) for f in commands.findings]
        verdicts += [self._program_effect(p) for p in commands.programs]
        if not verdicts:
            return Effect.CHANGE, "runs nothing altlas can classify"
        return max(verdicts, key=lambda verdict: rank(verdict[0]))

    def _program_effect(self, program: Program) -> tuple[Effect, str]:
        line = program.line
        shown = line if len(line) <= 60 else line[:57] + "..."
        rule = next((r for r in self.rules if r.pattern.search(line)), None)
        read = read_reason(program.argv) if rule is None else None
        if rule is not None:
            effect, why = rule.effect, f"{shown} matches {rule.pattern.pattern!r}"
        elif read is not None:
            effect, why = Effect.READ, f"{shown}: {read}"
        else:
            effect, why = Effect.CHANGE, f"{shown} matches no rule"
        floor = program.floor  # raises the rule's effect; says more than "matches no rule"
        if floor is not None and (rank(floor.effect) > rank(effect) or (
                rule is None and floor.effect is effect)):
            effect, why = floor.effect, floor.reason
        if program.via:
            why += f" (via {', '.join(program.via)})"
        return effect, why

    # -- gates ------------------------------------------------------------------------

    def gate(self, step: PlanStep, classification: Classification) -> Gate:
        risk = classification.risk
        if risk is RiskLevel.CRITICAL or step.kind == "manual":
            return Gate(GateKind.MANUAL, 0, frozenset(), self.expiry,
                        "altlas never executes it; the steps are posted for a human")
        return self._approval_gate(classification.environment, risk)

    def confirmers(self, environment: str, risk: RiskLevel) -> frozenset[str] | None:
        """Who may say a step left to a person was done: whoever could have approved a
        step of that risk in that environment (a CRITICAL one: its approvers, as for its
        gated changes); None when such a step would run without an approval. Nobody when
        the environment left the policy."""
        if environment not in self.environments:
            return frozenset()
        if risk is RiskLevel.CRITICAL:
            return self.approvers(environment)
        gate = self._approval_gate(environment, risk)
        return gate.eligible if gate.kind is GateKind.APPROVAL else None

    def _approval_gate(self, environment: str, risk: RiskLevel) -> Gate:
        env = self.environments[environment]
        required = env.approvals.get(risk, MIN_APPROVALS[risk])
        if required == 0:
            kind = GateKind.RUN if risk is RiskLevel.READ_ONLY else GateKind.REPORT
            return Gate(kind, 0, frozenset(), self.expiry, "runs at once" + (
                ", reported" if kind is GateKind.REPORT else ""))
        return Gate(
            GateKind.APPROVAL,
            required,
            self.approvers(env.name),
            self.expiry,
            f"needs {required} approval(s) from {', '.join(env.approver_groups)}",
        )

    def approvers(self, environment: str) -> frozenset[str]:
        env = self.environments[environment]
        return frozenset(p for g in env.approver_groups for p in self.groups[g])

    def person_for_identity(self, identity: str) -> str | None:
        for person in self.people.values():
            if identity in person.identities:
                return person.name
        return None

    def alert_sender_ok(self, authorization: str | None) -> bool:
        """Whether a webhook's Authorization header is Alertmanager's, as the policy knows it:
        a bearer token or basic auth (its http_config), compared by sha256 only."""
        return self.alertmanager.accepts(authorization)

    def person_for_token(self, token: str) -> str | None:
        """Who an API bearer token belongs to; only its sha256 is ever kept."""
        return self.api_tokens.get(hashlib.sha256(token.encode()).hexdigest())

    def roles_of(self, person: str) -> frozenset[str]:
        """Explicit roles, plus approver for members of an environment's approver groups."""
        found = self.people.get(person)
        if found is None:
            return frozenset()
        approver = any(person in self.groups[g] for e in self.environments.values()
                       for g in e.approver_groups)
        return found.roles | ({"approver"} if approver else set())

    def locale_of(self, person: str | None, profile: str | None = None) -> str:
        """The policy's setting for the person wins; else the chat profile's language
        (``tr-TR``, ``en_US``) when we speak it; else English."""
        found = self.people.get(person or "")
        if found is not None and found.locale is not None:
            return found.locale
        language = (profile or "").replace("_", "-").split("-")[0].lower()
        return language if language in LOCALES else "en"

    # -- parsing ----------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Any) -> Policy:
        return _Parser().policy(data)


class _Parser:
    """Builds a Policy from plain data; every error names the path of the bad value.

    Each entry (a person, a host, a rule …) is checked on its own, so one bad entry is
    reported and the rest still checked; references to an entry that was bad are not
    reported again. All problems are raised together at the end."""

    def __init__(self) -> None:
        self.problems: list[PolicyError] = []
        self._bad: set[tuple[str, str]] = set()  # (section, name) of entries that were bad

    @contextmanager
    def _entry(self, section: str = "", name: Any = None) -> Iterator[None]:
        try:
            yield
        except PolicyError as e:
            self.problems.append(e)
            self._bad.add((section, str(name)))

    def _known(self, name: Any, names: Mapping[str, Any], section: str) -> bool:
        """Whether a reference resolves, or points at an entry already reported as bad."""
        return isinstance(name, str) and (name in names or (section, name) in self._bad)

    def policy(self, data: Any) -> Policy:
        root = self._mapping(data, (), {"version", "environments", "hosts", "people", "groups",
                                        "approvals", "commands", "local_host", "api_tokens",
                                        "atlas", "services", "alertmanager",
                                        "incidents", "secrets", "triggers"})
        if root.get("version") != POLICY_VERSION:
            self.problems.append(PolicyError(("version",), f"must be {POLICY_VERSION}"))
        people = self._people(root.get("people", {}))
        groups = self._groups(root.get("groups", {}), people)
        environments = self._environments(root.get("environments"), groups)
        hosts = self._hosts(root.get("hosts", {}), environments)
        expiry = timedelta(minutes=15)
        deny: tuple[re.Pattern[str], ...] = ()
        local_allow: tuple[re.Pattern[str], ...] = ()
        rules: tuple[CommandRule, ...] = ()
        with self._entry():
            approvals = self._mapping(root.get("approvals", {}), ("approvals",), {"expiry"})
            expiry = self._duration(approvals.get("expiry", "15m"), ("approvals", "expiry"))
        commands: Mapping[str, Any] = {}
        with self._entry():
            commands = self._mapping(root.get("commands", {}), ("commands",),
                                     {"deny", "rules", "local_allow"})
        with self._entry():
            deny = self._patterns(commands.get("deny", []), ("commands", "deny"))
        with self._entry():
            rules = self._rules(commands.get("rules", []))
        with self._entry():
            local_allow = self._patterns(commands.get("local_allow", []),
                                         ("commands", "local_allow"))
        local_host = root.get("local_host", "localhost")
        if local_allow and not self._known(local_host, hosts, "hosts"):
            self.problems.append(PolicyError(
                ("local_host",), f"{local_host!r} is not in hosts; local steps need it"))
        for env in environments.values():
            pool = {p for g in env.approver_groups for p in groups.get(g, ())}
            for risk, n in env.approvals.items():
                if n > len(pool):
                    self.problems.append(PolicyError(
                        ("environments", env.name, "approvals", risk.value),
                        f"needs {n} approvers but the approver groups have {len(pool)} people",
                    ))
        tokens = self._tokens(root.get("api_tokens", {}), people)
        learning, services = Learning(), {}
        alertmanager, incidents = AlertSender(), Correlation()
        with self._entry():
            learning = self._learning(root.get("atlas", {}))
        with self._entry():
            services = self._services(root.get("services", {}), hosts)
        with self._entry():
            alertmanager = self._alertmanager(root.get("alertmanager", {}))
        with self._entry():
            incidents = self._incidents(root.get("incidents", {}))
        secrets = self._secrets(root.get("secrets", {}), hosts)
        min_interval, webhooks = timedelta(minutes=1), {}
        triggers: Mapping[str, Any] = {}
        with self._entry():
            triggers = self._mapping(root.get("triggers", {}), ("triggers",),
                                     {"min_interval", "webhooks", "task_depth"})
        with self._entry():
            min_interval = self._duration(triggers.get("min_interval", "1m"),
                                          ("triggers", "min_interval"))
        with self._entry():
            webhooks = self._webhooks(triggers.get("webhooks", {}))
        depth = 1
        with self._entry():
            depth = triggers.get("task_depth", 1)
            if isinstance(depth, bool) or not isinstance(depth, int) or not 0 <= depth <= 5:
                raise PolicyError(("triggers", "task_depth"), "must be a whole number from 0 "
                                  "to 5 (how deep tasks requested by runbook steps may go)")
        if self.problems:
            raise PolicyProblems(self.problems)
        return Policy(environments, hosts, people, groups, expiry, deny, rules, local_allow,
                      local_host, tokens, learning, services, alertmanager, incidents, secrets,
                      min_interval, webhooks, depth)

    def _secrets(self, data: Any, hosts: Mapping[str, Host]) -> dict[str, SecretScope]:
        scopes: dict[str, SecretScope] = {}
        for name, spec in self._section(data, "secrets").items():
            with self._entry("secrets", name):
                scopes[name] = self._scope(name, spec, hosts)
        return scopes

    def _scope(self, name: Any, spec: Any, hosts: Mapping[str, Host]) -> SecretScope:
        path: Path = ("secrets", name)
        if not isinstance(name, str) or not SECRET_NAME.match(name):
            raise PolicyError(path, "must be a secret's name: capital letters, digits and _")
        spec = self._mapping(spec, path, {"hosts", "urls", "kinds"})
        named = self._list(spec.get("hosts", []), (*path, "hosts"))
        if not named:
            raise PolicyError((*path, "hosts"), "must name the hosts it may be sent to")
        for i, host in enumerate(named):
            if not self._known(host, hosts, "hosts"):
                raise PolicyError((*path, "hosts", i), f"{host!r} is not in hosts")
        kinds = self._list(spec.get("kinds", list(SENDING_KINDS)), (*path, "kinds"))
        for i, kind in enumerate(kinds):
            if kind not in SENDING_KINDS:
                raise PolicyError((*path, "kinds", i),
                                  f"must be one of {', '.join(SENDING_KINDS)}")
        urls = self._list(spec.get("urls", []), (*path, "urls"))
        for i, url in enumerate(urls):
            try:
                parts = urlsplit(url) if isinstance(url, str) else None
            except ValueError:
                parts = None
            if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
                    or parts.query or parts.fragment or "@" in parts.netloc):
                raise PolicyError((*path, "urls", i), "must be an http(s) URL prefix without "
                                  "user, query or fragment, e.g. https://api-1/v1/")
        return SecretScope(frozenset(named), frozenset(kinds), tuple(urls))

    def _incidents(self, value: Any) -> Correlation:
        spec = self._mapping(value, ("incidents",),
                             {"window", "spread", "threshold", "max_length", "host_alerts"})
        window = self._duration(spec.get("window", "5m"), ("incidents", "window"))
        spread = self._duration(spec.get("spread", "10m"), ("incidents", "spread"))
        longest = self._duration(spec.get("max_length", "2h"), ("incidents", "max_length"))
        if longest < max(window, spread):
            raise PolicyError(("incidents", "max_length"), "must be at least the window and "
                              f"the spread ({int(max(window, spread).total_seconds())}s)")
        threshold = spec.get("threshold", Correlation.threshold)
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) \
                or not 0 < threshold <= MAX_RELATION:
            raise PolicyError(("incidents", "threshold"), "must be a relation score above 0 "
                              f"and at most {MAX_RELATION}, e.g. 0.6")
        host_alerts = self._pattern(spec.get("host_alerts", HOST_ALERTS),
                                    ("incidents", "host_alerts"))
        return Correlation(window, spread, float(threshold), longest, host_alerts.pattern)

    def _learning(self, value: Any) -> Learning:
        atlas = self._mapping(value, ("atlas",), {"low_success", "min_runs"})
        low = atlas.get("low_success", Learning.low_success)
        if isinstance(low, bool) or not isinstance(low, int | float) or not 0 < low <= 1:
            raise PolicyError(("atlas", "low_success"), "must be a success rate above 0 and at "
                              "most 1, e.g. 0.6")
        runs = atlas.get("min_runs", Learning.min_runs)
        if isinstance(runs, bool) or not isinstance(runs, int) or runs < 1:
            raise PolicyError(("atlas", "min_runs"), "must be a whole number of runs, 1 or more")
        return Learning(float(low), runs)

    def _mapping(
        self, value: Any, path: Path, allowed: set[str] | None = None
    ) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise PolicyError(path, "must be a mapping")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    self.problems.append(PolicyError(
                        (*path, str(key)),
                        f"unknown key; expected one of {', '.join(sorted(allowed))}"))
        return value

    def _channels(self, value: Any, path: Path) -> dict[str, str]:
        channels = self._mapping(value, path, set(CHAT_FRONTS))
        for front, channel in channels.items():
            if not isinstance(channel, str) or not _CHANNEL.match(channel):
                raise PolicyError((*path, front), "must be a channel id (letters and digits, as "
                                  "Slack or Discord shows it)")
        return dict(channels)

    def _name(self, value: Any, path: Path) -> str:
        if not isinstance(value, str) or not _NAME.match(value):
            raise PolicyError(path, "must be a name of letters, digits, '.', '_' or '-'")
        return value

    def _list(self, value: Any, path: Path) -> list[Any]:
        if not isinstance(value, list):
            raise PolicyError(path, "must be a list")
        return value

    def _section(self, data: Any, name: str) -> Mapping[str, Any]:
        """A section's entries; a section that is not a mapping is reported and empty."""
        with self._entry():
            return self._mapping(data, (name,))
        return {}

    def _people(self, data: Any) -> dict[str, Person]:
        people: dict[str, Person] = {}
        seen: dict[str, str] = {}
        for name, spec in self._section(data, "people").items():
            with self._entry("people", name):
                people[name] = self._person(name, spec, seen)
        return people

    def _person(self, name: Any, spec: Any, seen: dict[str, str]) -> Person:
        path: Path = ("people", name)
        self._name(name, path)
        spec = self._mapping(spec or {}, path, {"identities", "locale", "roles"})
        identities = []
        raw_identities = self._list(spec.get("identities", []), (*path, "identities"))
        for i, ident in enumerate(raw_identities):
            if not isinstance(ident, str) or not _IDENTITY.match(ident):
                raise PolicyError((*path, "identities", i),
                                  "must look like slack:U123, discord:1234 or api:name")
            if ident in seen:
                raise PolicyError((*path, "identities", i),
                                  f"{ident} already belongs to {seen[ident]}")
            seen[ident] = name
            identities.append(ident)
        locale = spec.get("locale")
        if locale is not None and locale not in LOCALES:
            raise PolicyError((*path, "locale"), f"must be one of {', '.join(LOCALES)}")
        roles = self._list(spec.get("roles", ["requester"]), (*path, "roles"))
        for i, role in enumerate(roles):
            if role not in ROLES:
                raise PolicyError((*path, "roles", i), f"must be one of {', '.join(ROLES)}")
        return Person(name, tuple(identities), locale, frozenset(roles))

    def _tokens(self, data: Any, people: Mapping[str, Person]) -> dict[str, str]:
        tokens: dict[str, str] = {}
        for digest, person in self._section(data, "api_tokens").items():
            with self._entry():
                path: Path = ("api_tokens", str(digest))
                if not _SHA256.match(str(digest)):  # it may be a token itself: never repeated
                    raise PolicyError(path, "must be the sha256 of a token (64 hex digits; "
                                            "`altlas token new` prints one), never the token",
                                      shown="api_tokens (the key on this line)")
                if not self._known(person, people, "people"):
                    raise PolicyError(path, f"{person!r} is not in people")
                tokens[str(digest)] = person
        return tokens

    def _groups(self, data: Any, people: Mapping[str, Person]) -> dict[str, frozenset[str]]:
        groups: dict[str, frozenset[str]] = {}
        for name, members in self._section(data, "groups").items():
            with self._entry("groups", name):
                path: Path = ("groups", name)
                self._name(name, path)
                for i, member in enumerate(self._list(members, path)):
                    if not self._known(member, people, "people"):
                        raise PolicyError((*path, i), f"{member!r} is not in people")
                groups[name] = frozenset(members)
        return groups

    def _environments(
        self, data: Any, groups: Mapping[str, frozenset[str]]
    ) -> dict[str, Environment]:
        if data is None:
            self.problems.append(PolicyError(("environments",), "is required"))
            return {}
        envs: dict[str, Environment] = {}
        specs = self._section(data, "environments")
        for name, spec in specs.items():
            with self._entry("environments", name):
                envs[name] = self._environment(name, spec, groups)
        if not specs:
            self.problems.append(PolicyError(("environments",),
                                             "must name at least one environment"))
        return envs

    def _environment(self, name: Any, spec: Any, groups: Mapping[str, frozenset[str]]
                     ) -> Environment:
        path: Path = ("environments", name)
        self._name(name, path)
        spec = self._mapping(spec, path, {"tier", "approvers", "approvals", "oncall",
                                          "prometheus", "oncall_channels"})
        try:
            tier = Tier(spec.get("tier", ""))
        except ValueError:
            raise PolicyError((*path, "tier"),
                              f"must be one of {', '.join(t.value for t in Tier)}") from None
        approvers = self._list(spec.get("approvers", []), (*path, "approvers"))
        for i, g in enumerate(approvers):
            if not self._known(g, groups, "groups"):
                raise PolicyError((*path, "approvers", i), f"{g!r} is not in groups")
        oncall = spec.get("oncall")
        if oncall is not None and not self._known(oncall, groups, "groups"):
            raise PolicyError((*path, "oncall"), f"{oncall!r} is not in groups")
        approvals: dict[RiskLevel, int] = {}
        for key, n in self._mapping(spec.get("approvals", {}), (*path, "approvals")).items():
            rpath: Path = (*path, "approvals", str(key))
            if key not in MIN_APPROVALS:
                raise PolicyError(rpath, "must be READ_ONLY, LOW_RISK, MEDIUM_RISK or "
                                         "HIGH_RISK (CRITICAL is never approved)")
            risk = RiskLevel(key)
            if isinstance(n, bool) or not isinstance(n, int) or n < MIN_APPROVALS[risk]:
                raise PolicyError(rpath, f"must be an integer of at least "
                                         f"{MIN_APPROVALS[risk]} for {risk.value}")
            approvals[risk] = n
        for risk, least in MIN_APPROVALS.items():
            approvals.setdefault(risk, least)
        if any(approvals.values()) and not approvers:
            raise PolicyError((*path, "approvers"),
                              "is required: this environment has gates that need approvals")
        prometheus = spec.get("prometheus")
        if prometheus is not None and not (isinstance(prometheus, str) and
                                           prometheus.startswith(("http://", "https://"))):
            raise PolicyError((*path, "prometheus"), "must be an http(s) URL")
        return Environment(name, tier, tuple(approvers), approvals, oncall, prometheus,
                           self._channels(spec.get("oncall_channels", {}),
                                          (*path, "oncall_channels")))

    def _alertmanager(self, data: Any) -> AlertSender:
        return self._sender(data, ("alertmanager",))

    def _sender(self, data: Any, at: Path) -> AlertSender:
        """A webhook's own credential: the sha256 of a bearer token, or basic auth."""
        spec = self._mapping(data, at, {"bearer_sha256", "basic_auth"})
        bearer = spec.get("bearer_sha256")
        if bearer is not None and not _SHA256.match(str(bearer)):
            raise PolicyError((*at, "bearer_sha256"), "must be the sha256 of the "
                              "token (64 hex digits: printf %s TOKEN | sha256sum), never the "
                              "token")
        basic = self._mapping(spec.get("basic_auth", {}), (*at, "basic_auth"),
                              {"username", "password_sha256"})
        username, password = basic.get("username"), basic.get("password_sha256")
        if basic and (username is None or password is None):
            raise PolicyError((*at, "basic_auth"),
                              "needs both username and password_sha256")
        if username is not None:
            self._name(username, (*at, "basic_auth", "username"))
        if password is not None and not _SHA256.match(str(password)):
            raise PolicyError((*at, "basic_auth", "password_sha256"),
                              "must be the sha256 of the password (64 hex digits), never the "
                              "password")
        return AlertSender(None if bearer is None else str(bearer), username,
                           None if password is None else str(password))

    def _webhooks(self, data: Any) -> dict[str, AlertSender]:
        """Each webhook trigger's credential, by the trigger's name (triggers.webhooks)."""
        specs = self._mapping(data, ("triggers", "webhooks"), None)
        return {str(name): self._sender(spec, ("triggers", "webhooks", str(name)))
                for name, spec in specs.items()}

    def _services(self, data: Any, hosts: Mapping[str, Host]) -> dict[str, Service]:
        specs = self._section(data, "services")
        services: dict[str, Service] = {}
        for name, spec in specs.items():
            with self._entry("services", name):
                services[name] = self._service(name, spec, specs, hosts)
        self._acyclic(services)
        return services

    def _service(self, name: Any, spec: Any, specs: Mapping[str, Any],
                 hosts: Mapping[str, Host]) -> Service:
        path: Path = ("services", name)
        self._name(name, path)
        spec = self._mapping(spec, path, {"hosts", "depends_on", "cluster", "queries"})
        on = self._list(spec.get("hosts", []), (*path, "hosts"))
        for i, host in enumerate(on):
            if not self._known(host, hosts, "hosts"):
                raise PolicyError((*path, "hosts", i), f"{host!r} is not in hosts")
        needs = self._list(spec.get("depends_on", []), (*path, "depends_on"))
        for i, other in enumerate(needs):
            if not isinstance(other, str) or other not in specs or other == name:
                raise PolicyError((*path, "depends_on", i),
                                  f"{other!r} is not another service in services")
        cluster = spec.get("cluster")
        if cluster is not None:
            self._name(cluster, (*path, "cluster"))
        queries = self._list(spec.get("queries", []), (*path, "queries"))
        for i, query in enumerate(queries):
            if not isinstance(query, str) or not query.strip():
                raise PolicyError((*path, "queries", i), "must be a PromQL expression")
        return Service(name, tuple(on), tuple(needs), cluster, tuple(queries))

    @staticmethod
    def _acyclic(services: Mapping[str, Service]) -> None:
        """A service may not depend on itself through others: the root of an incident would
        have no meaning."""
        done: set[str] = set()

        def visit(name: str, trail: list[str]) -> None:
            if name in trail:
                loop = " → ".join([*trail[trail.index(name):], name])
                raise PolicyError(("services", trail[-1], "depends_on"),
                                  f"depends on itself: {loop}")
            if name not in done and name in services:  # a bad service was reported already
                for other in services[name].depends_on:
                    visit(other, [*trail, name])
                done.add(name)

        for name in services:
            visit(name, [])

    def _hosts(self, data: Any, envs: Mapping[str, Environment]) -> dict[str, Host]:
        hosts: dict[str, Host] = {}
        for name, spec in self._section(data, "hosts").items():
            with self._entry("hosts", name):
                hosts[name] = self._host(name, spec, envs)
        return hosts

    def _host(self, name: Any, spec: Any, envs: Mapping[str, Environment]) -> Host:
        path: Path = ("hosts", name)
        self._name(name, path)
        spec = self._mapping(spec, path, {"env", "description", "address", "port", "user",
                                          "allow", "http"})
        env = spec.get("env")
        if not self._known(env, envs, "environments"):
            raise PolicyError((*path, "env"), f"{env!r} is not in environments")
        address = spec.get("address")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise PolicyError((*path, "address"), "must be a host name or IP address")
        port = spec.get("port")
        if port is not None and (isinstance(port, bool) or not isinstance(port, int)
                                 or not 0 < port < 65536):
            raise PolicyError((*path, "port"), "must be a port number from 1 to 65535")
        user = spec.get("user")
        if user is not None:
            self._name(user, (*path, "user"))
        allow = self._patterns(spec.get("allow", []), (*path, "allow"))
        http = self._list(spec.get("http", []), (*path, "http"))
        for i, web_port in enumerate(http):
            if isinstance(web_port, bool) or not isinstance(web_port, int) or not (
                    0 < web_port < 65536):
                raise PolicyError((*path, "http", i), "must be a port number from 1 to "
                                                      "65535")
        return Host(name, env, str(spec.get("description", "")), address, port,
                    user, allow, frozenset(http))

    def _duration(self, value: Any, path: Path) -> timedelta:
        m = _DURATION.match(str(value))
        if not m or int(m.group(1)) == 0:
            raise PolicyError(path, "must be a positive duration like 90s, 15m or 1h")
        n, unit = int(m.group(1)), m.group(2)
        return timedelta(seconds=n * {"s": 1, "m": 60, "h": 3600}[unit])

    def _pattern(self, value: Any, path: Path) -> re.Pattern[str]:
        if not isinstance(value, str) or not value:
            raise PolicyError(path, "must be a regular expression")
        try:
            return re.compile(value)
        except re.error as e:
            raise PolicyError(path, f"is not a valid regular expression: {e}") from None

    def _patterns(self, data: Any, path: Path) -> tuple[re.Pattern[str], ...]:
        found = []
        for i, value in enumerate(self._list(data, path)):
            with self._entry():
                found.append(self._pattern(value, (*path, i)))
        return tuple(found)

    def _rules(self, data: Any) -> tuple[CommandRule, ...]:
        rules = []
        for i, spec in enumerate(self._list(data, ("commands", "rules"))):
            with self._entry():
                rules.append(self._rule(spec, ("commands", "rules", i)))
        return tuple(rules)

    def _rule(self, spec: Any, path: Path) -> CommandRule:
        spec = self._mapping(spec, path, {"match", "effect"})
        pattern = self._pattern(spec.get("match"), (*path, "match"))
        try:
            effect = Effect(spec.get("effect", ""))
        except ValueError:
            raise PolicyError((*path, "effect"),
                              f"must be one of {', '.join(e.value for e in Effect)}") from None
        return CommandRule(pattern, effect)


def format_path(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class PolicyError(InvalidInputError):
    def __init__(self, path: Path, problem: str, *, shown: str | None = None) -> None:
        super().__init__(f"{shown or format_path(path)}: {problem}")
        self.path = path
        self.problem = problem


class PolicyProblems(PolicyError):
    """Every problem of a policy, in the order of its sections; reads as the first."""

    def __init__(self, problems: list[PolicyError]) -> None:
        first = problems[0]
        super().__init__(first.path, first.problem)
        self.args = first.args
        self.problems = problems


class StepRefusedError(NotAllowedError):
    """A step the policy never allows (deny rule, not on the local allow-list)."""


class UnknownHostError(InvalidInputError):
    pass
