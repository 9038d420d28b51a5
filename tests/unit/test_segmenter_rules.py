"""The rule-based segmenter on the forms it promises, in English and Turkish."""

from __future__ import annotations

import pytest

from adapters.segmenter_rules import RuleSegmenter
from application.errors import SegmentationError
from application.ports import SegmentationRequest
from domain.plan import Plan
from testkit.helpers import default_policy

FLAG = "/srv/altlas/maintenance.flag"


def plan(text: str, **kw: object) -> list[tuple[str, str, str | None, list[str], str | None]]:
    doc = RuleSegmenter(default_policy(), FLAG).segment(SegmentationRequest(text, **kw))
    return [(s["kind"], s["action"], s.get("target"), s["needs"], s.get("when"))
            for s in doc["steps"]]


def test_check_on_a_host() -> None:
    assert plan("check disk on web-1") == [("ssh", "df -h", "web-1", [], None)]


def test_then_makes_a_sequence_and_the_host_carries_over() -> None:
    assert plan("show the load of db-1, then list the postgres processes") == [
        ("ssh", "uptime", "db-1", [], None),
        ("ssh", "pgrep -a postgres", "db-1", ["s1"], None)]


def test_condition_after_the_action() -> None:
    assert plan("check disk on web-1 and restart nginx if it is above 90%") == [
        ("ssh", "df -h /", "web-1", [], None),
        ("ssh", "systemctl restart nginx", "web-1", ["s1"], "s1.max_percent > 90")]


def test_condition_first() -> None:
    assert plan("if disk on db-1 is above 85%, restart postgresql")[1][4] == (
        "s1.max_percent > 85")


def test_not_running_adds_the_check_it_needs() -> None:
    assert plan("restart nginx on web-2 if it is not running") == [
        ("ssh", "systemctl is-active nginx", "web-2", [], None),
        ("ssh", "systemctl restart nginx", "web-2", ["s1"], "s1.exit_code != 0")]


def test_it_refers_to_the_service_just_named() -> None:
    assert plan("stop nginx on stage-web-1 then start it again")[1][1] == (
        "systemctl start nginx")


def test_several_hosts_fan_out() -> None:
    assert [s[2] for s in plan("restart nginx on web-1 and web-2")] == ["web-1", "web-2"]


def test_each_action_goes_to_the_hosts_its_own_part_names() -> None:
    assert [(s[1], s[2]) for s in plan("web-1 ve web-2'de disk usage'a bak, db-1'de de "
                                       "memory'yi kontrol et")] == [
        ("df -h", "web-1"), ("df -h", "web-2"), ("free -m", "db-1")]


def test_an_action_without_a_host_among_actions_with_theirs_is_asked_about() -> None:
    with pytest.raises(SegmentationError, match="which host should 'restart nginx' run on"):
        plan("restart nginx and check disk on db-1 and load on web-1")


def test_promql_question_targets_an_environment() -> None:
    assert plan("how many targets are down in staging?") == [
        ("promql", "count(up == 0) or vector(0)", "staging", [], None)]


def test_summary_needs_everything_before_it() -> None:
    assert plan("check disk and memory on db-1 and summarise")[2][3] == ["s1", "s2"]


def test_the_altlas_host_gets_local_steps() -> None:
    assert plan("check disk and load on the altlas host, then set its maintenance flag") == [
        ("local", "df -h", "localhost", [], None), ("local", "uptime", "localhost", [], None),
        ("local", f"touch {FLAG}", "localhost", ["s1", "s2"], None)]


@pytest.mark.parametrize(
    ("turkish", "expected"),
    [
        ("web-1'de disk kullanımını kontrol et", [("ssh", "df -h", "web-1", [], None)]),
        ("web-2'de nginx'i yeniden başlat",
         [("ssh", "systemctl restart nginx", "web-2", [], None)]),
        ("web-1'de disk kullanımı %90'ın üzerindeyse nginx'i yeniden başlat",
         [("ssh", "df -h /", "web-1", [], None),
          ("ssh", "systemctl restart nginx", "web-1", ["s1"], "s1.max_percent > 90")]),
        ("prod'da kaç hedef down?",
         [("promql", "count(up == 0) or vector(0)", "prod", [], None)]),
    ],
)
def test_turkish_requests(turkish: str, expected: list[tuple[object, ...]]) -> None:
    assert plan(turkish) == expected


def test_explore_mode_adds_read_only_discovery_first() -> None:
    steps = plan("restart nginx on web-1", mode="explore")
    assert [s[1] for s in steps] == ["uptime", "df -h", "systemctl restart nginx"]


def test_explore_mode_keeps_each_condition_on_the_step_it_compares() -> None:
    steps = plan("check disk on web-1 and restart nginx if it is above 90%", mode="explore")
    restart = next(s for s in steps if s[1] == "systemctl restart nginx")
    compared = int(restart[4].split(".")[0][1:]) - 1
    assert steps[compared][1] == "df -h /" and restart[3] == [f"s{compared + 1}"]
    Plan.from_document(RuleSegmenter(default_policy(), FLAG).segment(SegmentationRequest(
        "check disk on web-1 and restart nginx if it is above 90%", mode="explore")))


def test_chaos_mode_injects_faults_then_checks_again() -> None:
    steps = plan("check disk on dev-box", mode="chaos", chaos_level=4)
    assert steps[1][1] == "stress-ng --cpu 1 --timeout 40s"
    assert steps[2] == ("ssh", "df -h", "dev-box", ["s2"], None)


def test_what_it_does_not_understand_it_refuses_saying_what_it_knows() -> None:
    with pytest.raises(SegmentationError, match="they know disk, load, memory"):
        plan("make it faster")


def test_a_step_without_a_host_asks_which() -> None:
    with pytest.raises(SegmentationError, match="which host should 'disk usage' run on"):
        plan("check disk")


def test_a_clause_naming_only_a_host_repeats_the_clause_before_there() -> None:
    assert plan("restart nginx on web-1, then on web-2, then check the health endpoints of "
                "both") == [
        ("ssh", "systemctl restart nginx", "web-1", [], None),
        ("ssh", "systemctl restart nginx", "web-2", ["s1"], None),
        ("http", "http://web-1/health", "web-1", ["s2"], None),
        ("http", "http://web-2/health", "web-2", ["s2"], None)]


def test_restarting_a_host_reboots_it() -> None:
    assert plan("restart web-1") == [("ssh", "reboot", "web-1", [], None)]
    assert plan("db-1'i yeniden başlat") == [("ssh", "reboot", "db-1", [], None)]


def test_a_condition_in_turkish_restarts_the_service_it_names() -> None:
    assert plan("dev-box'ta redis çalışmıyorsa yeniden başlat") == [
        ("ssh", "systemctl is-active redis", "dev-box", [], None),
        ("ssh", "systemctl restart redis", "dev-box", ["s1"], "s1.exit_code != 0")]


def test_semicolons_run_side_by_side_and_what_follows_a_condition_waits_for_it() -> None:
    assert plan("on dev-box: check disk, clean /tmp if it's above 80%, clear the apt cache if "
                "it's above 90%, then check disk again") == [
        ("ssh", "df -h /", "dev-box", [], None),
        ("ssh", "find /tmp -mindepth 1 -mtime +7 -delete", "dev-box", ["s1"],
         "s1.max_percent > 80"),
        ("ssh", "apt-get clean", "dev-box", ["s1"], "s1.max_percent > 90"),
        ("ssh", "df -h", "dev-box", ["s2", "s3"], None)]
    assert [s[3] for s in plan("check memory on web-2; show the top 5 memory hogs")] == [[], []]


def test_a_check_after_a_change_in_the_same_clause_waits_for_it() -> None:
    assert plan("stop the api on stage-web-1, then start the api again and check its health "
                "endpoint")[2] == ("http", "http://stage-web-1/health", "stage-web-1", ["s2"],
                                   None)


def test_the_maintenance_flag_needs_no_host() -> None:
    assert plan("put altlas in maintenance mode") == [
        ("local", f"touch {FLAG}", "localhost", [], None)]


def test_words_that_merely_look_like_keywords_are_not_respelled() -> None:
    with pytest.raises(SegmentationError):
        plan("install htop on dev-box")  # not "stop"
    with pytest.raises(SegmentationError):
        plan("write a limerick about our on-call rotation")  # not "rotate the logs"
    assert plan("chek dsik on web-2") == [("ssh", "df -h", "web-2", [], None)]


def test_two_conditions_guard_one_step_together() -> None:
    assert plan("if disk on web-1 is over 90% and load is above 4, restart nginx") == [
        ("ssh", "df -h /", "web-1", [], None),
        ("ssh", "uptime", "web-1", [], None),
        ("ssh", "systemctl restart nginx", "web-1", ["s1", "s2"],
         "s1.max_percent > 90 and s2.load1 > 4")]


def test_unless_is_the_opposite_condition() -> None:
    assert plan("restart postgresql on db-1 unless the load is over 8")[1][4] == "s1.load1 <= 8"
    assert plan("kick nginx on stage-web-1 unless it's already running")[1][4] == (
        "s1.exit_code != 0")


def test_numbers_in_words_are_numbers() -> None:
    assert plan("clean /tmp on dev-box if the root fs is above ninety percent")[1][4] == (
        "s1.max_percent > 90")


def test_what_the_request_says_not_to_do_is_not_planned() -> None:
    assert plan("don't restart anything, just show nginx status on web-2") == [
        ("ssh", "systemctl is-active nginx", "web-2", [], None)]


def test_before_puts_the_steps_in_the_order_they_run() -> None:
    assert [s[1] for s in plan("before you bounce postgres on db-1, grab its disk usage")] == [
        "df -h", "systemctl restart postgresql"]


def test_a_command_quoted_word_for_word_is_planned_as_given() -> None:
    assert plan("`dev-box` üzerinde `free -m` çalıştır") == [
        ("ssh", "free -m", "dev-box", [], None)]
