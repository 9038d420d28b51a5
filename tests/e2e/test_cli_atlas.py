"""An operator's journey with the .atlas on the command line: look, export, import
elsewhere, and a document that is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from testkit.helpers import token_policy, write_gguf
from tests.e2e.conftest import one_line_error
from tests.e2e.conftest import run_altlas as altlas


@pytest.fixture
def demo(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    (tmp_path / "policy.yaml").write_text(token_policy())
    env = {**env, "ALTLAS_POLICY_FILE": str(tmp_path / "policy.yaml"),
           "ALTLAS_INSTANCE_NAME": "site-a"}
    assert altlas(env, "demo").returncode == 0
    return env


def test_show_export_and_import_into_another_installation(demo: dict[str, str],
                                                          tmp_path: Path) -> None:
    shown = altlas(demo, "atlas", "show", "maintenance")
    assert shown.returncode == 0
    assert shown.stdout.startswith("local:disk > local:load > local:maintenance · 1 run(s) · "
                                   "100% ok (21–100%)")
    assert "asked: “check disk and load on the altlas host" in shown.stdout
    exported = altlas(demo, "atlas", "export", "--output", str(tmp_path / "site-a.atlas"))
    assert exported.stdout == f"exported 1 pattern(s) to {tmp_path / 'site-a.atlas'}\n"
    document = json.loads((tmp_path / "site-a.atlas").read_text())
    assert (document["atlas"], document["source"]) == (1, "site-a")
    assert "requesters" not in document["patterns"][0]  # people stay where they asked

    other = {**demo, "ALTLAS_DATA_DIR": str(tmp_path / "site-b"),
             "ALTLAS_INSTANCE_NAME": "site-b"}
    assert altlas(other, "atlas", "show").stdout == (
        "The .atlas is empty: it learns from runs as they complete.\n")
    imported = altlas(other, "atlas", "import", str(tmp_path / "site-a.atlas"), "--as", "alice")
    assert imported.stdout == "imported 1 pattern(s), 1 run(s), from site-a\n"
    again = altlas(other, "atlas", "import", str(tmp_path / "site-a.atlas"), "--as", "alice")
    assert again.returncode == 0 and "was imported before" in again.stdout
    listed = json.loads(altlas(other, "atlas", "show", "--json").stdout)
    assert [(p["runs"], p["imported"][0]["source"]) for p in listed] == [(1, "site-a")]


def test_a_bad_document_is_refused_with_its_path(demo: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.atlas"
    bad.write_text(json.dumps({"atlas": 1, "source": "x", "exported_at": "2026-11-30T00:00:00Z",
                               "patterns": [{"pattern": "local:disk"}]}))
    refused = altlas(demo, "atlas", "import", str(bad), "--as", "alice")
    assert one_line_error(refused).startswith("altlas: $.patterns[0]: 'intent' is a required "
                                              "property")
    assert one_line_error(altlas(demo, "atlas", "import", str(bad), "--as", "deniz")) == (
        "altlas: deniz may not import an .atlas: that needs the operator role"
        ", which an admin gives in the policy (people → roles).")
    assert one_line_error(altlas(demo, "atlas", "import", str(tmp_path / "none"), "--as",
                                 "alice")) == (
        f"altlas: cannot read {tmp_path / 'none'}: No such file or directory")


def test_the_leaderboard_ranks_rates_and_draws(demo: dict[str, str], tmp_path: Path) -> None:
    shown = altlas(demo, "leaderboard", "show")
    assert shown.returncode == 0
    assert shown.stdout.startswith("Runbooks, surest first:\n1. local:disk > local:load > "
                                   "local:maintenance · 1/1 ok (21–100%) · resolved in ")
    assert "No match was played yet: the arena records them." in shown.stdout
    qwen = write_gguf(Path(demo["ALTLAS_DATA_DIR"]) / "models" / "qwen.gguf")
    assert altlas(demo, "models", "add", str(qwen), "--name", "qwen", "--as",
                  "alice").returncode == 0
    unknown = altlas(demo, "leaderboard", "match", "local:nope", "rules", "a", "--as", "bob")
    assert one_line_error(unknown).startswith("altlas: local:nope is not a planner the arena")
    for outcome in ("a", "a", "tie"):
        played = altlas(demo, "leaderboard", "match", "local:qwen", "rules", outcome,
                        "--as", "bob")
        assert played.returncode == 0 and "local:qwen vs rules" in played.stdout
    chart = tmp_path / "bt.png"
    rated = altlas(demo, "leaderboard", "show", "--method", "bt", "--chart", str(chart))
    assert "Bradley-Terry ratings from 3 match(es):\n1. local:qwen · " in rated.stdout
    assert chart.read_bytes().startswith(b"\x89PNG")
    board = json.loads(altlas(demo, "leaderboard", "show", "--json").stdout)
    assert [r["planner"] for r in board["ratings"]["ratings"]] == ["local:qwen", "rules"]
    history = altlas(demo, "leaderboard", "show", "maintenance", "--chart",
                     str(tmp_path / "runbook.png"))
    assert history.stdout.startswith("local:disk > local:load > local:maintenance: 1 of 1 "
                                     "runs succeeded; by period: ")
    assert (tmp_path / "runbook.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(("args", "error"), [
    (["show", "reboot", "the", "moon"],
     "altlas: no runbook matches 'reboot the moon'; `altlas atlas show` lists what was run"),
    (["match", "rules", "rules", "a", "--as", "alice"],
     "altlas: rules cannot play against itself; name two different planners"),
    (["match", "local:qwen", "rules", "a", "--as", "ivy"],
     "altlas: ivy may not judge plans in the arena: that needs the approver role"
     ", which an admin gives in the policy (people → roles)."),
])
def test_a_leaderboard_command_that_cannot_be_done_says_why(
    demo: dict[str, str], args: list[str], error: str
) -> None:
    refused = altlas(demo, "leaderboard", *args)
    assert one_line_error(refused) == error
