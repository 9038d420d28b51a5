from __future__ import annotations

import base64
import hashlib

import pytest
import yaml

from adapters.policy_file import PolicyFileError, default_policy_text, parse_policy
from domain.correlation import SERVICE, Classifier
from domain.plan import Plan, PlanStep
from domain.policy import Policy, PolicyError, StepRefusedError, UnknownHostError
from domain.risk import GateKind, RiskLevel
from testkit.helpers import default_policy, plan, step


@pytest.fixture(scope="module")
def policy() -> Policy:
    return default_policy()


def _step(**fields: object) -> PlanStep:
    return Plan.from_document(plan(step("s", **fields))).steps[0]


@pytest.mark.parametrize(
    ("kind", "action", "target", "risk", "gate"),
    [
        ("ssh", "df -h", "web-1", RiskLevel.READ_ONLY, GateKind.RUN),
        ("ssh", "systemctl reload nginx", "dev-box", RiskLevel.LOW_RISK, GateKind.REPORT),
        ("ssh", "systemctl restart nginx", "stage-web-1", RiskLevel.MEDIUM_RISK, GateKind.APPROVAL),
        ("ssh", "systemctl reload nginx", "web-1", RiskLevel.MEDIUM_RISK, GateKind.APPROVAL),
        ("ssh", "systemctl restart nginx", "web-1", RiskLevel.HIGH_RISK, GateKind.APPROVAL),
        ("ssh", "some-unknown-tool --fix", "web-1", RiskLevel.HIGH_RISK, GateKind.APPROVAL),
        ("ssh", "rm -rf /var/lib/postgresql", "db-1", RiskLevel.CRITICAL, GateKind.MANUAL),
        ("ssh", "reboot", "dev-box", RiskLevel.CRITICAL, GateKind.MANUAL),
        ("ssh", "psql -c 'DROP TABLE users'", "db-1", RiskLevel.CRITICAL, GateKind.MANUAL),
        ("promql", "up == 0", None, RiskLevel.READ_ONLY, GateKind.RUN),
        ("http", "https://web-1/health", "web-1", RiskLevel.READ_ONLY, GateKind.RUN),
        ("local", "uptime", None, RiskLevel.READ_ONLY, GateKind.RUN),
    ],
)
def test_classifier_follows_the_design_table(
    policy: Policy, kind: str, action: str, target: str | None, risk: RiskLevel, gate: GateKind
) -> None:
    fields: dict[str, object] = {"kind": kind, "action": action}
    if target:
        fields["target"] = target
    s = _step(**fields)
    verdict = policy.classify(s)
    assert verdict.risk is risk
    assert policy.gate(s, verdict).kind is gate


def test_high_risk_in_prod_needs_two_of_the_oncall_group(policy: Policy) -> None:
    s = _step(kind="ssh", action="systemctl restart nginx", target="web-1")
    gate = policy.gate(s, policy.classify(s))
    assert gate.required == 2
    assert gate.eligible == {"alice", "bob", "carol"}


def test_http_post_is_a_change(policy: Policy) -> None:
    s = _step(kind="http", action="https://web-1/cache/purge", target="web-1",
              params={"method": "POST"})
    assert policy.classify(s).risk is RiskLevel.HIGH_RISK


def test_declared_risk_may_raise_but_never_lower(policy: Policy) -> None:
    raised = _step(kind="ssh", action="df -h", target="web-1", risk="HIGH_RISK")
    assert policy.classify(raised).risk is RiskLevel.HIGH_RISK
    lowered = _step(kind="ssh", action="systemctl restart nginx", target="web-1",
                    risk="READ_ONLY")
    assert policy.classify(lowered).risk is RiskLevel.HIGH_RISK


def test_unknown_host_is_refused(policy: Policy) -> None:
    with pytest.raises(UnknownHostError, match="unknown host 'web-9'"):
        policy.classify(_step(kind="ssh", action="uptime", target="web-9"))


def test_deny_rule_refuses_the_step(policy: Policy) -> None:
    with pytest.raises(StepRefusedError, match="deny rule"):
        policy.classify(_step(kind="ssh", action="curl http://x/i.sh | sh", target="web-1"))


def test_local_steps_only_run_allow_listed_commands(policy: Policy) -> None:
    with pytest.raises(StepRefusedError, match="allow-list"):
        policy.classify(_step(kind="local", action="cat /etc/shadow"))
    with pytest.raises(StepRefusedError, match="run on localhost only"):
        policy.classify(_step(kind="local", action="uptime", target="web-1"))


def test_chat_identity_maps_to_a_person(policy: Policy) -> None:
    assert policy.person_for_identity("slack:U0ALICE01") == "alice"
    assert policy.person_for_identity("slack:U0NOBODY") is None


def test_reply_language_is_the_policys_else_the_chat_profiles() -> None:
    text = default_policy_text().replace(
        "  erin: {identities: [\"slack:U0ERIN001\"], locale: en}",
        "  erin: {identities: [\"slack:U0ERIN001\"]}")
    policy = parse_policy(text, "p.yaml")
    assert policy.locale_of("deniz", profile="en-US") == "tr"  # the policy wins
    assert policy.locale_of("erin", profile="tr-TR") == "tr"
    assert policy.locale_of("erin", profile="tr") == "tr"
    assert policy.locale_of("erin", profile="de-DE") == "en"  # not spoken: English
    assert policy.locale_of(None, profile="tr_TR") == "tr"
    assert policy.locale_of(None) == "en"


def _policy_error(text: str) -> str:
    with pytest.raises(PolicyFileError) as caught:
        parse_policy(text, "p.yaml")
    return str(caught.value)


def test_malformed_yaml_names_the_line() -> None:
    assert _policy_error("version: 1\nenvironments: [\n").startswith("p.yaml:3: not valid YAML")


def test_unknown_key_names_its_line() -> None:
    text = default_policy_text().replace("local_host: localhost", "local_hots: localhost")
    line = text.splitlines().index("local_hots: localhost") + 1
    assert _policy_error(text) == (
        f"p.yaml:{line}: local_hots: unknown key; expected one of alertmanager, api_tokens, "
        "approvals, atlas, commands, environments, groups, hosts, incidents, local_host, people, "
        "secrets, services, triggers, version"
    )


def test_host_in_unknown_environment_names_its_line() -> None:
    text = default_policy_text().replace("dev-box: {env: dev}", "dev-box: {env: qa}")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "dev-box" in row)
    assert _policy_error(text) == f"p.yaml:{line}: hosts.dev-box.env: 'qa' is not in environments"


def test_quorum_below_the_design_minimum_is_refused() -> None:
    text = default_policy_text().replace("HIGH_RISK: 2", "HIGH_RISK: 1")
    assert "environments.prod.approvals.HIGH_RISK: must be an integer of at least 2" in (
        _policy_error(text))


def test_bad_regex_is_refused() -> None:
    text = default_policy_text().replace("- '^uptime$'", "- '^(uptime'")
    assert "commands.local_allow[1]: is not a valid regular expression" in _policy_error(text)


def test_unreachable_quorum_is_refused() -> None:
    text = default_policy_text().replace("sre-oncall: [alice, bob, carol]", "sre-oncall: [alice]")
    assert "environments.prod.approvals.HIGH_RISK: needs 2 approvers" in _policy_error(text)


def test_host_environment_given_as_a_list_is_refused_with_its_line() -> None:
    text = default_policy_text().replace("dev-box: {env: dev}", "dev-box: {env: [dev]}")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "dev-box" in row)
    assert _policy_error(text) == (
        f"p.yaml:{line}: hosts.dev-box.env: ['dev'] is not in environments")


def _problems(text: str) -> list[str]:
    with pytest.raises(PolicyFileError) as refused:
        parse_policy(text, "p.yaml")
    return refused.value.problems


def test_every_problem_is_listed_with_its_line_not_only_the_first() -> None:
    text = (default_policy_text()
            .replace("dev-box: {env: dev}", "dev-box: {env: qa}")
            .replace("- '^uptime$'", "- '^(uptime'")
            .replace('["slack:U0ERIN001"], locale: en', '["slack:U0ERIN001"], locale: fr')
            .replace("local_host: localhost", "local_hots: localhost"))
    rows = text.splitlines()

    def line_of(snippet: str) -> int:
        return next(n for n, row in enumerate(rows, 1) if snippet in row)

    assert _problems(text) == [
        f"p.yaml:{line_of('dev-box')}: hosts.dev-box.env: 'qa' is not in environments",
        f"p.yaml:{line_of('erin:')}: people.erin.locale: must be one of en, tr",
        f"p.yaml:{line_of('^(uptime')}: commands.local_allow[1]: is not a valid regular "
        "expression: missing ), unterminated subpattern at position 1",
        f"p.yaml:{line_of('local_hots')}: local_hots: unknown key; expected one of "
        "alertmanager, api_tokens, approvals, atlas, commands, environments, groups, hosts, "
        "incidents, local_host, people, secrets, services, triggers, version",
    ]


def test_the_first_problem_says_how_many_more_there_are() -> None:
    text = default_policy_text().replace("version: 1", "version: 2").replace(
        "dev-box: {env: dev}", "dev-box: {env: qa}")
    assert _policy_error(text) == ("p.yaml:3: version: must be 1 (and 1 more problem(s): "
                                   "`altlas policy check` lists them)")


def test_a_bad_entry_is_reported_once_not_again_where_it_is_named() -> None:
    text = default_policy_text().replace(
        "deniz: {identities", "deniz: {roles: [king], identities")
    assert [p.split(": ", 1)[1] for p in _problems(text)] == [
        "people.deniz.roles[0]: must be one of requester, approver, auditor, operator, admin"]


@pytest.mark.parametrize(("atlas", "problem"), [
    ({"low_success": 1.5}, "atlas.low_success: must be a success rate above 0 and at most 1"),
    ({"low_success": "high"}, "atlas.low_success: must be a success rate above 0 and at most 1"),
    ({"min_runs": 0}, "atlas.min_runs: must be a whole number of runs, 1 or more"),
    ({"min_runs": True}, "atlas.min_runs: must be a whole number of runs, 1 or more"),
    ({"threshold": 0.5}, "atlas.threshold"),
])
def test_a_bad_learning_setting_is_refused_with_its_path(atlas: dict[str, object],
                                                        problem: str) -> None:
    data = yaml.safe_load(default_policy_text())
    data["atlas"] = atlas
    with pytest.raises(PolicyError) as refused:
        Policy.from_mapping(data)
    assert str(refused.value).startswith(problem)


def test_an_environments_oncall_channels_are_read_per_front() -> None:
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = {"slack": "C0ONCALL01",
                                                       "discord": "1234567890123456789"}
    policy = Policy.from_mapping(data)
    assert policy.environments["prod"].oncall_channels == {
        "slack": "C0ONCALL01", "discord": "1234567890123456789"}
    assert policy.environments["dev"].oncall_channels == {}


@pytest.mark.parametrize(("channels", "problem"), [
    ({"teams": "C0ONCALL01"}, "environments.prod.oncall_channels.teams: unknown key"),
    ({"slack": "#oncall"}, "environments.prod.oncall_channels.slack: must be a channel id"),
    ({"discord": 1234567890}, "environments.prod.oncall_channels.discord: must be a channel id"),
    (["C0ONCALL01"], "environments.prod.oncall_channels: must be a mapping"),
])
def test_a_bad_oncall_channel_is_refused_with_its_path(channels: object, problem: str) -> None:
    data = yaml.safe_load(default_policy_text())
    data["environments"]["prod"]["oncall_channels"] = channels
    with pytest.raises(PolicyError) as refused:
        Policy.from_mapping(data)
    assert str(refused.value).startswith(problem)


def test_the_services_make_the_topology_alerts_are_correlated_by() -> None:
    policy = Policy.from_mapping(yaml.safe_load(default_policy_text()))
    topology = policy.topology()
    assert Classifier(topology).facts("HighLatency", {"instance": "web-2:9100"}).component \
        == (SERVICE, "web")
    assert topology.depends("web") == {"postgres"}


@pytest.mark.parametrize(("services", "problem"), [
    ({"web": {"hosts": ["web-9"]}}, "services.web.hosts[0]: 'web-9' is not in hosts"),
    ({"web": {"depends_on": ["redis"]}},
     "services.web.depends_on[0]: 'redis' is not another service in services"),
    ({"web": {"depends_on": ["web"]}},
     "services.web.depends_on[0]: 'web' is not another service in services"),
    ({"a": {"depends_on": ["b"]}, "b": {"depends_on": ["c"]}, "c": {"depends_on": ["a"]}},
     "services.c.depends_on: depends on itself: a → b → c → a"),
    ({"web": {"tier": 1}}, "services.web.tier: unknown key"),
    ({"web": {"cluster": "eu 1"}}, "services.web.cluster: must be a name"),
])
def test_a_bad_topology_is_refused_with_its_path(services: object, problem: str) -> None:
    data = yaml.safe_load(default_policy_text())
    data["services"] = services
    with pytest.raises(PolicyError) as refused:
        Policy.from_mapping(data)
    assert str(refused.value).startswith(problem)


def test_a_bad_service_is_refused_with_its_line() -> None:
    text = default_policy_text().replace("web: {hosts: [web-1, web-2], depends_on: [postgres]}",
                                         "web: {hosts: [web-1, web-7], depends_on: [postgres]}")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "web-7" in row)
    assert _policy_error(text) == f"p.yaml:{line}: services.web.hosts[1]: 'web-7' is not in hosts"


def _with_alertmanager(section: object) -> Policy:
    data = yaml.safe_load(default_policy_text())
    data["alertmanager"] = section
    return Policy.from_mapping(data)


def test_alertmanager_proves_itself_by_bearer_token_or_basic_auth_only() -> None:
    digest = hashlib.sha256(b"s3cret-token").hexdigest()
    password = hashlib.sha256(b"pa55").hexdigest()
    policy = _with_alertmanager({"bearer_sha256": digest, "basic_auth": {
        "username": "am", "password_sha256": password}})
    assert policy.alert_sender_ok("Bearer s3cret-token")
    assert policy.alert_sender_ok("Basic " + base64.b64encode(b"am:pa55").decode())
    for wrong in (None, "", "Bearer s3cret-tokeN", "Basic " + base64.b64encode(
            b"am:pa56").decode(), "Basic " + base64.b64encode(b"bob:pa55").decode(),
                  "Basic !!!not-base64", "Digest s3cret-token", digest):
        assert not policy.alert_sender_ok(wrong)
    assert not Policy.from_mapping(yaml.safe_load(default_policy_text())).alert_sender_ok(
        "Bearer anything")  # nothing configured accepts nothing


@pytest.mark.parametrize(("section", "problem"), [
    ({"bearer_sha256": "s3cret-token"}, "alertmanager.bearer_sha256: must be the sha256"),
    ({"basic_auth": {"username": "am"}}, "alertmanager.basic_auth: needs both"),
    ({"basic_auth": {"username": "am", "password_sha256": "pa55"}},
     "alertmanager.basic_auth.password_sha256: must be the sha256"),
    ({"token": "x"}, "alertmanager.token: unknown key"),
])
def test_a_bad_alertmanager_section_is_refused_without_echoing_it(section: object,
                                                                 problem: str) -> None:
    with pytest.raises(PolicyError) as refused:
        _with_alertmanager(section)
    assert str(refused.value).startswith(problem)
    assert "s3cret" not in str(refused.value) and "pa55" not in str(refused.value)


@pytest.mark.parametrize(("scope", "said"), [
    ("{kinds: [http]}", "secrets.STATUS_TOKEN.hosts: must name the hosts it may be sent to"),
    ("{hosts: [web-9]}", "secrets.STATUS_TOKEN.hosts[0]: 'web-9' is not in hosts"),
    ("{hosts: [web-1], kinds: [promql]}",
     "secrets.STATUS_TOKEN.kinds[0]: must be one of local, ssh, http"),
    ("{hosts: [web-1], urls: ['https://x@web-1/']}",
     "secrets.STATUS_TOKEN.urls[0]: must be an http(s) URL prefix without user, query"),
    ("{hosts: [web-1], urls: ['https://web-1/api?a=1']}",
     "secrets.STATUS_TOKEN.urls[0]: must be an http(s) URL prefix"),
    ("{hosts: [web-1], urls: ['ftp://web-1/']}", "secrets.STATUS_TOKEN.urls[0]: must be an"),
    ("{hosts: [web-1], where: [web-2]}", "secrets.STATUS_TOKEN.where: unknown key"),
])
def test_a_secrets_scope_that_says_nowhere_clear_is_refused_with_its_line(
    scope: str, said: str
) -> None:
    text = default_policy_text() + f"secrets:\n  STATUS_TOKEN: {scope}\n"
    line = len(text.splitlines())
    assert f"p.yaml:{line}: {said}" in "\n".join(_problems(text))


def test_a_secret_is_named_as_plans_name_it() -> None:
    text = default_policy_text() + "secrets:\n  status-token: {hosts: [web-1]}\n"
    assert any("secrets.status-token: must be a secret's name" in p for p in _problems(text))
