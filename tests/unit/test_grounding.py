"""The grounding check: a plan is accepted only when it does what the request asks — the hosts
it names, every clause covered, commands altlas knows the meaning of — or altlas asks."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.segmenter_rules import RuleSegmenter
from application.errors import SegmentationError
from application.ports import SegmentationRequest
from application.privacy import Privacy
from application.segmentation import SegmentationService
from domain.asking import question
from domain.grounding import Inventory, Problem, check, read_request
from domain.plan import Plan
from testkit.fakes.ports import FakePersonKeys
from testkit.helpers import default_policy

POLICY = default_policy()
INVENTORY = Inventory.of(POLICY)
TOP5 = "sh -c 'ps -eo pid,user,%cpu,%mem,comm --sort=-%cpu --no-headers | head -n 5'"


def ssh(n: int, action: str, target: str, needs: tuple[str, ...] = (), when: str | None = None,
        kind: str = "ssh") -> dict[str, Any]:
    step: dict[str, Any] = {"id": f"s{n}", "kind": kind, "action": action, "target": target,
                            "needs": list(needs)}
    if when:
        step["when"] = when
    return step


def summary(n: int, needs: tuple[str, ...]) -> dict[str, Any]:
    return {"id": f"s{n}", "kind": "llm", "action": "Summarise these outputs.",
            "needs": list(needs)}


def problems(request: str, *steps: dict[str, Any]) -> list[Problem]:
    plan = Plan.from_document({"alt": 1, "steps": list(steps)})
    return check(plan, read_request(request, INVENTORY), INVENTORY, environment="prod")


def kinds(found: list[Problem]) -> set[str]:
    return {p.kind for p in found}


# -- clauses --------------------------------------------------------------------------------

def test_a_dropped_clause_is_not_accepted() -> None:
    found = problems("clear the apt cache on web-1 then check disk again",
                     ssh(1, "df -h", "web-1"))
    assert "nothing in the plan does what 'apt clean' asks" in map(str, found)


def test_a_threshold_the_request_did_not_give_is_not_accepted() -> None:
    found = problems("check disk on web-1 and restart nginx if it is above 90%",
                     ssh(1, "df -h /", "web-1"),
                     ssh(2, "systemctl restart nginx", "web-1", ("s1",), "s1.max_percent > 80"))
    assert "step s2 uses 80, a number the request does not give" in map(str, found)


def test_the_threshold_the_request_gave_is_accepted() -> None:
    assert problems("check disk on web-1 and restart nginx if it is above 90%",
                    ssh(1, "df -h /", "web-1"),
                    ssh(2, "systemctl restart nginx", "web-1", ("s1",),
                        "s1.max_percent > 90")) == []


def test_a_process_count_the_request_did_not_give_is_not_accepted() -> None:
    found = problems("show the top 3 processes by cpu on web-1", ssh(1, TOP5, "web-1"))
    assert "step s1 uses 5, a number the request does not give" in map(str, found)


def test_a_mount_the_request_did_not_name_is_not_accepted() -> None:
    found = problems("check disk on web-1", ssh(1, "df -h /var", "web-1"))
    assert "step s1 looks at /var, a mount the request does not name" in map(str, found)


def test_steps_asked_in_turn_that_wait_for_nothing_are_not_accepted() -> None:
    found = problems("restart nginx on web-2, then check the health endpoint of web-2",
                     ssh(1, "systemctl restart nginx", "web-2"),
                     ssh(2, "http://web-2/health", "web-2", kind="http"))
    assert any("in turn" in str(p) for p in found)

def test_a_dropped_condition_is_not_accepted() -> None:
    found = problems("check disk on web-1; if above 80% clean /tmp, then check again",
                     ssh(1, "df -h /", "web-1"),
                     ssh(2, "find /tmp -mindepth 1 -mtime +7 -delete", "web-1", ("s1",)),
                     ssh(3, "df -h", "web-1", ("s2",)))
    assert "the request sets a condition, but no step waits for one" in map(str, found)


def test_the_whole_request_done_in_order_is_accepted() -> None:
    assert problems("check disk on web-1; if above 80% clean /tmp, then check again",
                    ssh(1, "df -h /", "web-1"),
                    ssh(2, "find /tmp -mindepth 1 -mtime +7 -delete", "web-1", ("s1",),
                        "s1.max_percent > 80"),
                    ssh(3, "df -h", "web-1", ("s2",))) == []


def test_an_action_other_than_the_one_asked_is_not_accepted() -> None:
    found = problems("rotate the logs on web-1 and web-2",
                     ssh(1, "journalctl -n 100", "web-1"), ssh(2, "journalctl -n 100", "web-2"))
    assert "step s1 does logs, which the request does not ask for" in map(str, found)
    assert "nothing in the plan does what 'rotate' asks" in map(str, found)


def test_restarting_a_word_of_the_request_as_a_service_is_not_a_reboot() -> None:
    found = problems("web-1 sunucuyu yeniden başlat",
                     ssh(1, "systemctl restart sunucuyu", "web-1"))
    assert "nothing in the plan does what 'reboot' asks" in map(str, found)
    assert problems("web-1 sunucuyu yeniden başlat", ssh(1, "reboot", "web-1")) == []


def test_one_summary_however_many_hosts() -> None:
    request = "check disk on web-1 and web-2 and summarise"
    twice = problems(request, ssh(1, "df -h", "web-1"), ssh(2, "df -h", "web-2"),
                     summary(3, ("s1",)), summary(4, ("s2",)))
    assert "the plan summarises more often than asked" in map(str, twice)
    assert problems(request, ssh(1, "df -h", "web-1"), ssh(2, "df -h", "web-2"),
                    summary(3, ("s1", "s2"))) == []


def test_a_part_nothing_in_the_plan_accounts_for_is_named() -> None:
    found = problems("restart nginx on web-1 and make it faster",
                     ssh(1, "systemctl restart nginx", "web-1"))
    assert [str(p) for p in found] == ["altlas does not understand 'make it faster' (faster)"]


def test_a_service_the_request_does_not_name_is_not_accepted() -> None:
    found = problems("restart nginx on web-1", ssh(1, "systemctl restart redis", "web-1"))
    assert "step s1 acts on 'redis', a service the request does not name" in map(str, found)


@pytest.mark.parametrize("request_text", [
    "restrat ngnix on web-1", "RESTART NGINX ON WEB-1", "restart nginx on web1",
    "web-1'de nginx'i yeniden başlat", "web-1de nginx'i yeniden baslat",
])
def test_misspelled_spelled_loud_or_turkish_requests_still_ground(request_text: str) -> None:
    assert problems(request_text, ssh(1, "systemctl restart nginx", "web-1")) == []


def test_a_clause_that_names_only_a_host_must_be_done_there_too() -> None:
    found = problems("restart nginx on web-1 then web-2",
                     ssh(1, "systemctl restart nginx", "web-1"),
                     ssh(2, "uptime", "web-2", ("s1",)))
    assert "'web-2' asks for restart on web-2 again, but no step does it there" in map(
        str, found)


def test_processes_sorted_by_what_the_request_did_not_name_are_not_accepted() -> None:
    found = problems("web-2'de top 5 memory process'leri göster", ssh(1, TOP5, "web-2"))
    assert "step s1 sorts processes by cpu, which the request does not ask for" in map(
        str, found)


def test_restarting_a_host_asks_for_a_reboot_not_a_service() -> None:
    assert problems("restart web-1", ssh(1, "reboot", "web-1")) == []
    assert "nothing in the plan does what 'restart' asks" in map(
        str, problems("restart nginx on web-1", ssh(1, "reboot", "web-1")))


def test_politeness_is_not_a_part_to_ask_about_but_an_unknown_verb_is() -> None:
    assert problems("hey, could you please take a quick look at the disk space on web-1 when "
                    "you get a sec? thanks a lot", ssh(1, "df -h", "web-1")) == []
    assert "clause" in kinds(problems("check disk on web-1 and install htop",
                                      ssh(1, "df -h", "web-1")))

# -- hosts ----------------------------------------------------------------------------------

def test_a_host_the_request_does_not_name_is_not_accepted() -> None:
    found = problems("check disk on unknown-host-99", ssh(1, "df -h", "dev-box"))
    assert "host" in kinds(found)
    assert "step s1 runs on 'dev-box', a host the request does not name" in map(str, found)


def test_every_named_host_gets_a_step() -> None:
    found = problems("check disk on web-1 and web-2", ssh(1, "df -h", "web-1"))
    assert [str(p) for p in found] == ["the request names web-2, but no step is for it"]


def test_a_query_about_a_host_the_request_does_not_name_is_not_accepted() -> None:
    query = ('100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",'
             'instance=~"web-2(:.*)?"}[5m])))')
    found = problems("what is the cpu usage of web-1", ssh(1, query, "prod", kind="promql"))
    assert "step s1 asks about 'web-2', a host the request does not name" in map(str, found)


def test_a_query_in_an_environment_the_request_does_not_name_is_not_accepted() -> None:
    found = problems("how many targets are down in staging",
                     ssh(1, "count(up == 0) or vector(0)", "prod", kind="promql"))
    assert "host" in kinds(found)


def test_a_host_picked_when_asked_counts_as_named() -> None:
    plan = Plan.from_document({"alt": 1, "steps": [ssh(1, "systemctl restart nginx", "web-2")]})
    reading = read_request("restart nginx", INVENTORY)
    assert check(plan, reading, INVENTORY, picked=["web-2"]) == []
    assert "host" in kinds(check(plan, reading, INVENTORY))


# -- commands -------------------------------------------------------------------------------

def test_words_of_the_request_run_as_a_command_are_refused() -> None:
    found = problems("show the top 5 processes by cpu on web-1",
                     ssh(1, "top 5 processes by cpu", "web-1"))
    assert "step s1: 'top 5 processes by cpu' is not a command altlas knows the meaning of, " \
        "and the request does not give it word for word" in map(str, found)
    assert problems("show the top 5 processes by cpu on web-1", ssh(1, TOP5, "web-1")) == []


def test_a_command_given_word_for_word_is_taken_as_asked() -> None:
    assert problems("run `dmesg -T` on web-1", ssh(1, "dmesg -T", "web-1")) == []
    assert "command" in kinds(problems("show kernel messages on web-1",
                                       ssh(1, "dmesg -T", "web-1")))


def test_a_command_hidden_in_a_shell_is_read_for_what_it_runs() -> None:
    found = problems("check disk on web-1", ssh(1, "sh -c 'df -h; rm -rf /srv'", "web-1"))
    assert "command" in kinds(found)


# -- asking back ----------------------------------------------------------------------------

@pytest.mark.parametrize(("request_text", "choices"), [
    ("restart nginx", ("db-1", "dev-box", "localhost", "stage-web-1", "web-1", "web-2")),
    ("check disk on the web server", ("web-1", "web-2")),
    ("check disk on web-9", ("web-1", "web-2")),
    ("db-2'de diski kontrol et", ("db-1",)),
])
def test_a_missing_unknown_or_ambiguous_host_is_asked_with_the_hosts_it_could_be(
    request_text: str, choices: tuple[str, ...]
) -> None:
    asked = question(read_request(request_text, INVENTORY), [], INVENTORY)
    assert asked is not None and asked.about == "host" and asked.choices == choices


def test_a_part_not_understood_is_asked_about() -> None:
    found = problems("restart nginx on web-1 and make it faster",
                     ssh(1, "systemctl restart nginx", "web-1"))
    asked = question(read_request("restart nginx on web-1 and make it faster", INVENTORY),
                     found, INVENTORY)
    assert asked is not None and asked.about == "clause" and "'make it faster'" in asked.text


@pytest.mark.parametrize("request_text", ["write me a poem", "what's the weather", "thanks!"])
def test_what_is_not_operations_work_is_not_asked_about(request_text: str) -> None:
    assert question(read_request(request_text, INVENTORY), [], INVENTORY) is None


# -- every segmenter ------------------------------------------------------------------------

HOSTS = sorted(POLICY.hosts)
STRANGERS = ["web-3", "db-9", "app-1", "cache-2", "unknown-host-99"]
WORDS = ["check disk", "restart nginx", "show the load", "memory", "reload nginx", "logs of",
         "is redis running", "then", "and", "if above 90%", "summarise", "the web server",
         "please", "on", "dev box", "web1", "rotate the logs", "top 5 processes by cpu"]


class Scripted:
    """A segmenter that answers with a plan on whatever host it likes: what a model may do."""

    name = "model"
    deterministic = True

    def __init__(self, steps: list[dict[str, Any]]) -> None:
        self.steps = steps

    def segment(self, request: SegmentationRequest) -> dict[str, Any]:
        return {"alt": 1, "steps": self.steps}


class Checker:
    policy = POLICY
    privacy = Privacy(FakePersonKeys())

    def check_plan(self, document: Any, mode: str = "normal", requester: str | None = None
                   ) -> object:
        return [POLICY.classify(s) for s in Plan.from_document(document).steps]


class Request:
    def __init__(self, text: str) -> None:
        self.id, self.request, self.mode, self.persona = 1, text, "normal", "technical_expert"
        self.environment, self.chaos_level, self.requester = "prod", None, "deniz"
        self.answers: list[dict[str, Any]] = []
        self.picked_hosts: list[str] = []


requests = st.lists(st.sampled_from(WORDS + HOSTS + STRANGERS), min_size=1, max_size=8).map(
    " ".join)
plans = st.lists(st.tuples(st.sampled_from(["df -h", "uptime", "free -m",
                                            "systemctl restart nginx", "reboot"]),
                           st.sampled_from(HOSTS[1:] if HOSTS[0] == "localhost" else HOSTS)),
                 min_size=1, max_size=4)


def named(text: str) -> set[str]:
    reading = read_request(text, INVENTORY)
    return set(reading.hosts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=requests, steps=plans)
def test_no_plan_from_any_segmenter_targets_a_host_the_request_did_not_name(
    text: str, steps: list[tuple[str, str]]
) -> None:
    scripted = Scripted([ssh(i + 1, a, "localhost" if h == "localhost" else h,
                             kind="local" if h == "localhost" else "ssh")
                         for i, (a, h) in enumerate(steps)])
    rules = RuleSegmenter(POLICY, "/var/lib/altlas/maintenance.flag")
    for first, then in ((rules, scripted), (scripted, rules)):
        outcome = SegmentationService(Checker(), first, then).plan(Request(text))  # type: ignore[arg-type]
        if outcome.plan is None:
            continue
        targets = {s.get("target") for s in outcome.plan["steps"] if s["kind"] != "promql"
                   and s["kind"] != "llm"}
        assert targets <= named(text), (text, outcome.plan)


def test_the_rules_refuse_instead_of_dropping_a_clause() -> None:
    rules = RuleSegmenter(POLICY, "/var/lib/altlas/maintenance.flag")
    outcome = SegmentationService(Checker(), rules, None).plan(  # type: ignore[arg-type]
        Request("check disk on web-1 and make it faster"))
    assert outcome.plan is None and outcome.question is not None
    assert outcome.question.about == "clause"
    with pytest.raises(SegmentationError, match=re.escape("did not recognise an action")):
        rules.segment(SegmentationRequest("make it faster"))


def test_a_step_the_request_says_not_to_do_is_not_accepted() -> None:
    found = problems("don't restart anything, just show nginx status on web-2",
                     ssh(1, "systemctl restart nginx", "web-2"))
    assert "step s1 does restart, which the request says not to do" in map(str, found)


def test_a_condition_left_out_of_a_plan_is_not_accepted() -> None:
    found = problems("if disk on web-1 is over 90% and load is above 4, restart nginx",
                     ssh(1, "df -h /", "web-1"),
                     ssh(2, "systemctl restart nginx", "web-1", ("s1",), "s1.max_percent > 90"))
    assert "the request compares with 4, but no step's condition does" in map(str, found)


def test_a_count_the_plan_ignores_is_not_accepted() -> None:
    found = problems("WEB-2 NGINX LOGLARI SON 40 SATIR",
                     ssh(1, "journalctl -u nginx -n 100 --no-pager", "web-2"))
    assert "the request asks for 40 of something, but no step uses that number" in map(
        str, found)


def test_requests_that_are_not_operations_work_are_refused_not_asked_about() -> None:
    reading = read_request("write a haiku about web-1's disk filling up", INVENTORY)
    assert question(reading, [], INVENTORY) is None


# -- each action where its own clause says --------------------------------------------------

def test_an_action_sent_to_a_host_named_for_another_action_is_not_accepted() -> None:
    found = problems("restart nginx on web-1 and check disk on db-1",
                     ssh(1, "systemctl restart nginx", "web-1"), ssh(2, "df -h", "db-1"),
                     ssh(3, "systemctl restart nginx", "db-1"), ssh(4, "df -h", "web-1"))
    assert {str(p) for p in found if p.kind == "host"} == {
        "step s3 does restart on db-1, but the request asks for it on web-1",
        "step s4 does disk on web-1, but the request asks for it on db-1"}


def test_a_reboot_of_a_host_nobody_named_for_it_is_not_accepted() -> None:
    found = problems("check disk on web-1 and reboot db-1",
                     ssh(1, "df -h", "web-1"), ssh(2, "reboot", "db-1"), ssh(3, "reboot", "web-1"))
    assert [str(p) for p in found] == [
        "step s3 does reboot on web-1, but the request asks for it on db-1"]


@pytest.mark.parametrize("request_, steps", [
    ("restart nginx on web-1 and web-2", [("systemctl restart nginx", "web-1"),
                                          ("systemctl restart nginx", "web-2")]),
    ("web-1 ve web-2'de nginx'i yeniden yükle", [("systemctl reload nginx", "web-1"),
                                               ("systemctl reload nginx", "web-2")]),
    ("restart nginx on web-1, then on web-2", [("systemctl restart nginx", "web-1"),
                                               ("systemctl restart nginx", "web-2")]),
])
def test_hosts_named_together_for_one_action_each_get_it(request_: str,
                                                         steps: list[tuple[str, str]]) -> None:
    needs: tuple[str, ...] = ("s1",) if "then" in request_ else ()
    assert problems(request_, *(ssh(i + 1, a, h, needs if i else ()) for i, (a, h)
                                in enumerate(steps))) == []


def test_a_summary_with_nothing_to_read_is_not_accepted() -> None:
    found = problems("tail the log then summarise", summary(1, ()))
    assert "step s1 summarises, but no step before it reads anything for it to summarise; " \
        "say what to look at, e.g. 'the nginx logs on web-1'" in map(str, found)
    assert problems("show the nginx logs on web-1 and summarise",
                    ssh(1, "journalctl -u nginx -n 100 --no-pager", "web-1"),
                    summary(2, ("s1",))) == []


def test_a_clause_asking_for_something_unsaid_is_asked_about_not_dropped() -> None:
    found = problems("restart nginx on web-1 and web-2, then check both",
                     ssh(1, "systemctl restart nginx", "web-1"),
                     ssh(2, "systemctl restart nginx", "web-2"))
    assert "altlas cannot tell what 'check both' asks to do; say it, e.g. 'then check nginx " \
        "is running on web-1'" in map(str, found)


@pytest.mark.parametrize("text, expected", [
    ("restart nginx on web-1 and check disk on db-1",
     [("systemctl restart nginx", "web-1", None), ("df -h", "db-1", None)]),
    ("check disk on web-1 and reboot db-1", [("df -h", "web-1", None), ("reboot", "db-1", None)]),
    ("check disk on web-1 and restart nginx on web-2 if web-1 is above 90%",
     [("df -h /", "web-1", None), ("systemctl restart nginx", "web-2", "s1.max_percent > 90")]),
    ("restart nginx on web-1 and web-2, then check both", None),
    ("tail the log then summarise", None),
    ("explain why latency spiked", None),
])
def test_the_rules_plan_each_action_where_it_was_asked_or_ask(
        text: str, expected: list[tuple[str, str, str | None]] | None) -> None:
    rules = RuleSegmenter(POLICY, "/var/lib/altlas/maintenance.flag")
    outcome = SegmentationService(Checker(), rules, None).plan(  # type: ignore[arg-type]
        Request(text))
    if expected is None:
        assert outcome.plan is None and outcome.question is not None
        return
    assert outcome.plan is not None, outcome.problem
    assert [(s["action"], s.get("target"), s.get("when"))
            for s in outcome.plan["steps"]] == expected


@pytest.mark.parametrize("text", [
    "restart nginx on web-1 if disk is above 90% and disk is below 50%",
    "check disk on web-1 and restart nginx if it is above 90% and below 10%",
    "restart nginx on web-9",
    "run `df -h '/var` on web-1",
    "run `df -h \\` on web-1",
])
def test_bad_requests_are_asked_about_never_planned_in_part(text: str) -> None:
    rules = RuleSegmenter(POLICY, "/var/lib/altlas/maintenance.flag")
    outcome = SegmentationService(Checker(), rules, None).plan(  # type: ignore[arg-type]
        Request(text))
    assert outcome.plan is None and (outcome.question is not None or outcome.problem)


def test_twenty_clauses_are_planned_whole_in_order() -> None:
    actions = ["check disk on web-1", "restart nginx on web-2", "check load on db-1",
               "show the nginx logs on web-1", "check memory on db-1"] * 4
    rules = RuleSegmenter(POLICY, "/var/lib/altlas/maintenance.flag")
    outcome = SegmentationService(Checker(), rules, None).plan(  # type: ignore[arg-type]
        Request(", then ".join(actions)))
    assert outcome.plan is not None
    steps = outcome.plan["steps"]
    assert len(steps) == 20 and [s["target"] for s in steps] == [
        a.rsplit(" ", 1)[1] for a in actions]
    assert all(s["needs"] == [f"s{i}"] for i, s in enumerate(steps[1:], 1))


@pytest.mark.parametrize("text", ["find all empty files under /tmp on web-1",
                                  "list the empty directories in /tmp on web-1"])
def test_a_request_that_only_looks_is_never_planned_as_a_change(text: str) -> None:
    rules = RuleSegmenter(POLICY, "/var/lib/altlas/maintenance.flag")
    outcome = SegmentationService(Checker(), rules, None).plan(  # type: ignore[arg-type]
        Request(text))
    assert outcome.plan is None or all(POLICY.classify(s).risk.name == "READ_ONLY"
                                       for s in Plan.from_document(outcome.plan).steps)
    assert "clean_tmp" not in read_request(text, INVENTORY).intents()
