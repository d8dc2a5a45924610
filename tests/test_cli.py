"""The commands as a user runs them: output, formats and exit codes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from halang.checks.registry import all_checks
from halang.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.ha"))
TWO_NODE = ROOT / "examples" / "two_node_replace.ha"

DUPLICATE = """cluster c {
  heartbeat { key_file = "/etc/halang/k.key" }
  node a { }
  node a { }
}
"""


@pytest.fixture
def bad_file(tmp_path):
    path = tmp_path / "bad.ha"
    path.write_text(DUPLICATE)
    return path


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_example_verifies_without_errors(example, capsys):
    assert main(["verify", str(example), "--strict"]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out


def test_text_output_points_at_the_construct(bad_file, capsys):
    assert main(["verify", str(bad_file), "--no-color"]) == 1
    out = capsys.readouterr().out
    assert f"{bad_file}:4:8: error[HA101]: node 'a' is defined twice" in out
    assert "4 |   node a { }" in out
    assert "  |        ^" in out
    assert "first defined here at line 3, column 8" in out
    assert "\x1b[" not in out


def test_json_output_lists_every_finding(bad_file, capsys):
    assert main(["verify", str(bad_file), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    [finding] = [f for f in data["findings"] if f["code"] == "HA101"]
    assert finding == finding | {"severity": "error", "file": str(bad_file), "line": 4, "column": 8,
                                 "scenario": [], "accepted": False}
    assert set(finding) >= {"code", "severity", "message", "file", "line", "column", "hint", "scenario", "accepted"}
    assert data["summary"]["errors"] == 1


def test_accepted_findings_are_listed_and_do_not_fail(tmp_path, capsys):
    path = tmp_path / "accepted.ha"
    path.write_text('cluster c {\n  node a { }\n  accept HA601 "lab cluster, isolated network"\n}\n')
    assert main(["verify", str(path), "--strict", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(f["code"], f["accepted"]) for f in data["findings"]] == [("HA601", True)]


def test_warnings_fail_only_with_strict(tmp_path):
    path = tmp_path / "warn.ha"
    path.write_text("cluster c {\n  node a { }\n}\n")
    assert main(["verify", str(path)]) == 0
    assert main(["verify", str(path), "--strict"]) == 1


def test_missing_file_exits_2(capsys):
    assert main(["verify", "/nonexistent/cluster.ha"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_binary_file_exits_2(tmp_path, capsys):
    path = tmp_path / "binary.ha"
    path.write_bytes(b"\xff\xfe\x00cluster")
    assert main(["verify", str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_bad_flags_exit_2():
    with pytest.raises(SystemExit) as exc:
        main(["verify", "--faults", "many", str(TWO_NODE)])
    assert exc.value.code == 2


def test_verify_says_when_failure_analysis_did_not_run(capsys):
    main(["verify", str(TWO_NODE), "--faults", "0"])
    assert "failure analysis not requested (--faults 0)" in capsys.readouterr().out


def test_show_json_is_canonical_and_stable(capsys):
    assert main(["show", str(TWO_NODE), "--format", "json"]) == 0
    first = capsys.readouterr().out
    main(["show", str(TWO_NODE), "--format", "json"])
    assert capsys.readouterr().out == first
    data = json.loads(first)
    assert list(data) == sorted(data)
    assert [node["name"] for node in data["nodes"]] == ["alpha", "bravo"]
    assert data["heartbeat"]["interval_ms"] == 500
    adapter = data["networks"][0]["adapters"][0]
    assert adapter == {"node": "alpha", "ifname": "en0", "role": "boot", "address": "10.10.1.11", "prefix": 24,
                       "switch": "sw1"}


def test_show_refuses_a_file_with_errors(bad_file, capsys):
    assert main(["show", str(bad_file)]) == 1
    assert "fix the errors first" in capsys.readouterr().err


@pytest.mark.parametrize("code", sorted(all_checks()))
def test_explain_every_code(code, capsys):
    assert main(["explain", code.lower()]) == 0
    out = capsys.readouterr().out
    assert out.startswith(code) and "Reported by" in out


def test_explain_unknown_code_exits_2(capsys):
    assert main(["explain", "HA999"]) == 2


def test_console_script_runs():
    result = subprocess.run([str(Path(sys.executable).with_name("halang")), "verify", str(TWO_NODE)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "two_node_replace.ha: 0 errors" in result.stdout


def test_examples_are_in_canonical_layout(capsys):
    assert main(["fmt", "--check", *map(str, EXAMPLES)]) == 0


def test_diff_names_the_impact(tmp_path, capsys):
    changed = tmp_path / "changed.ha"
    changed.write_text(TWO_NODE.read_text().replace("port", "port").replace("interval   = 500ms", "interval   = 1s"))
    assert main(["diff", str(TWO_NODE), str(changed)]) == 1
    out = capsys.readouterr().out
    assert "heartbeat" in out and "live" in out and out.rstrip().endswith("0 cluster restart.")
    assert main(["diff", str(TWO_NODE), str(TWO_NODE)]) == 0


SYNTAX_ERROR = "cluster c {\n  node a {\n}\n"


def every_command(path: str, out: Path) -> dict[str, list[str]]:
    return {
        "verify": ["verify", path], "show": ["show", path], "simulate": ["simulate", path, "--fail", "node:a"],
        "compile": ["compile", path, "-o", str(out)], "fmt": ["fmt", path],
        "graph": ["graph", path, "-o", str(out / "g.dot")], "diff": ["diff", str(TWO_NODE), path],
    }


@pytest.mark.parametrize("command", ["verify", "show", "simulate", "compile", "fmt", "graph", "diff"])
def test_one_exit_code_rule_for_every_command(command, tmp_path, capsys):
    broken = tmp_path / "broken.ha"
    broken.write_text(SYNTAX_ERROR)
    assert main(every_command(str(broken), tmp_path)[command]) == 1, "a file with errors is a finding: 1"
    captured = capsys.readouterr()
    assert "HA001" in captured.out + captured.err
    if command != "verify":
        assert "HA001" in captured.err and "HA001" not in captured.out, "a refusal explains itself on stderr"
    assert main(every_command(str(tmp_path / "missing.ha"), tmp_path)[command]) == 2, "cannot run: 2"
    assert "no such file" in capsys.readouterr().err


def test_show_and_simulate_refusals_do_not_talk_of_an_analysis_nobody_asked_for(tmp_path, capsys):
    broken = tmp_path / "broken.ha"
    broken.write_text(DUPLICATE)
    for argv in (["show", str(broken)], ["simulate", str(broken), "--fail", "node:a"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert "HA101" in err and "fix the errors first" in err
        assert "--faults" not in err and "failure analysis" not in err


def test_a_byte_order_mark_is_read_as_nothing(tmp_path, capsys):
    path = tmp_path / "bom.ha"
    path.write_bytes(b"\xef\xbb\xbf" + TWO_NODE.read_bytes())
    assert main(["verify", str(path), "--faults", "0"]) == 0
    assert "0 errors, 0 warnings" in capsys.readouterr().out
    assert main(["fmt", "--check", str(path)]) == 0


def test_text_that_is_not_utf8_names_line_and_column(tmp_path, capsys):
    path = tmp_path / "latin1.ha"
    path.write_bytes("cluster c {\n  node caf\u00e9 { }\n}\n".encode("latin-1"))
    for argv in (["verify", str(path)], ["fmt", str(path)], ["diff", str(path), str(path)]):
        assert main(argv) == 2
        assert "not UTF-8 text: line 2, column 11 (byte 22) is e9" in capsys.readouterr().err


def test_accept_when_is_in_the_json_and_a_bundle_still_loads(tmp_path, capsys):
    path = tmp_path / "when.ha"
    path.write_text(TWO_NODE.read_text().replace(
        "\n}\n", '\n  accept HA306 "a site outage" when ["node:alpha", "node:bravo"]\n}\n'))
    assert main(["show", str(path), "--format", "json"]) == 0
    [accept] = json.loads(capsys.readouterr().out)["accepts"]
    assert accept == {"code": "HA306", "reason": "a site outage", "when": ["node:alpha", "node:bravo"]}
    assert main(["show", str(path)]) == 0
    assert "HA306 when [node:alpha, node:bravo]: a site outage" in capsys.readouterr().out
    assert main(["compile", str(path), "-o", str(tmp_path / "out")]) == 0
    bundle = capsys.readouterr().out.strip()
    assert main(["diff", bundle, str(path)]) == 0, "the bundle's snapshot is the file's, less what verify alone reads"
    assert main(["simulate", str(path), "--fail", "node:alpha"]) == 0
    assert main(["graph", str(path), "-o", str(tmp_path / "g.dot")]) == 0


def test_show_counts_in_words(tmp_path, capsys):
    assert main(["show", str(TWO_NODE)]) == 0
    assert capsys.readouterr().out.startswith(
        "cluster payments: 2 nodes, 1 IP network, 1 non-IP link, 2 resource groups\n")


def test_a_control_character_is_shown_escaped_with_the_caret_under_it(tmp_path, capsys):
    path = tmp_path / "nul.ha"
    path.write_text(TWO_NODE.read_text().replace("  node bravo { }", "  node bravo {\t\x00 }"))
    assert main(["verify", str(path), "--no-color", "--faults", "0"]) == 1
    out = capsys.readouterr().out
    assert "\x00" not in out and "found '\\x00'" in out
    [shown, caret] = [line for line in out.splitlines() if line.lstrip().startswith(("25 |", "|"))][1:3]
    assert shown.endswith("node bravo { \\x00 }")
    assert caret.index("^^^^") == shown.index("\\x00") and caret.count("^") == 4
    assert "1 error, 0 warnings" in out, "the NUL alone is the error: node bravo is still read"


def test_a_finding_on_a_huge_line_prints_a_few_lines(tmp_path, capsys):
    path = tmp_path / "huge.ha"
    path.write_text(TWO_NODE.read_text().replace("  node bravo { }", "  node bravo { " + "x" * 1_000_000 + " }"))
    main(["verify", str(path), "--no-color", "--faults", "0"])
    out = capsys.readouterr().out
    assert len(out) < 5000
    first = out.split("\n\n")[0].splitlines()
    assert "…" in first[0] and "xxxx…xxxx" in first[0], "the token in the message is cut in its middle"
    shown, caret = first[2], first[3]
    assert shown.split("| ", 1)[1].startswith("…") and shown.endswith("x }")
    assert len(shown) < 140 and caret.index("^") == shown.rindex("}") and caret.count("^") == 1


def test_findings_in_json_are_cut_too(tmp_path, capsys):
    path = tmp_path / "huge.ha"
    path.write_text('cluster c {\n  heartbeat { key_file = "' + "k" * 100_000 + '" }\n  node a { }\n}\n')
    main(["verify", str(path), "--format", "json", "--faults", "0"])
    [finding] = json.loads(capsys.readouterr().out)["findings"]
    assert finding["code"] == "HA104" and len(finding["message"]) < 200


@pytest.mark.parametrize("code", ["HA701", "HA702", "HA703", "HA704", "HA705"])
def test_node_findings_say_deploy_is_not_built(code, capsys):
    assert main(["explain", code]) == 0
    out = capsys.readouterr().out
    assert "not built yet" in out and "no command reports" in out
    section = (ROOT / "docs" / "checks.md").read_text().split(f"## {code}\n", 1)[1].split("\n## ", 1)[0]
    assert "not built yet" in section


# ------------------------------------------------------------------ simulate


def simulate_json(capsys, *argv: str) -> dict:
    assert main(["simulate", str(TWO_NODE), "--format", "json", *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_simulate_keeps_fail_and_recover_in_command_line_order(capsys):
    data = simulate_json(capsys, "--fail", "node:alpha", "--recover", "node:alpha", "--fail", "node:alpha,node:bravo")
    assert [(step["fail"], step["recover"]) for step in data["steps"]] == [
        (["node:alpha"], []), ([], ["node:alpha"]), (["node:alpha", "node:bravo"], [])]
    assert [step["failed"] for step in data["steps"]] == [["node:alpha"], [], ["node:alpha", "node:bravo"]]
    assert data["steps"][1]["events"] == [{"kind": "node_up", "node": "alpha"}]


SIMULATE_TROUBLE = [
    ("recover what has not failed", ["--recover", "node:alpha"],
     "step 1: node:alpha has not failed, so it cannot recover"),
    ("recover twice", ["--fail", "node:alpha", "--recover", "node:alpha", "--recover", "node:alpha"],
     "step 3: node:alpha has not failed, so it cannot recover (it recovered at step 2)"),
    ("fail twice", ["--fail", "node:alpha", "--fail", "node:alpha"], "step 2: node:alpha has already failed at step 1"),
    ("batch with steps", ["--batch", "b.jsonl", "--fail", "node:alpha"], "leave out --fail, --recover"),
    ("batch as text", ["--batch", "b.jsonl", "--format", "text"], "leave out --fail, --recover and --format text"),
    ("no batch file", ["--batch", "missing.jsonl"], "no such file"),
    ("no start file", ["--from", "missing.json"], "no such file"),
]


@pytest.mark.parametrize("argv, message", [row[1:] for row in SIMULATE_TROUBLE],
                         ids=[row[0] for row in SIMULATE_TROUBLE])
def test_simulate_cannot_run_exits_2_saying_why(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.jsonl").write_text('{"steps": []}\n')
    assert main(["simulate", str(TWO_NODE), *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("halang: ") and message in captured.err and "Traceback" not in captured.err


BAD_FROM = [
    ("not JSON", "{", "not.json: cannot start from it: Expecting property name"),
    ("another cluster's simulation", json.dumps({"cluster": "shop", "start": {}, "steps": []}),
     "not of 'payments'"),
    ("a verify report", json.dumps({"findings": [], "summary": {}}), "expected a placement"),
    ("a group on a down node", json.dumps({"groups": {"ledger": ["alpha"]}, "failed": ["node:alpha"]}),
     "puts ledger on alpha, which cannot host it: alpha is down"),
]


@pytest.mark.parametrize("text, message", [row[1:] for row in BAD_FROM], ids=[row[0] for row in BAD_FROM])
def test_simulate_from_a_file_it_cannot_start_from_exits_2(text, message, tmp_path, capsys):
    path = tmp_path / "not.json"
    path.write_text(text)
    assert main(["simulate", str(TWO_NODE), "--from", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_simulate_resumes_from_its_own_json_where_it_stopped(tmp_path, capsys):
    whole = simulate_json(capsys, "--fail", "node:alpha", "--recover", "node:alpha", "--fail", "adapter:bravo/en1")
    half = tmp_path / "half.json"
    half.write_text(json.dumps(simulate_json(capsys, "--fail", "node:alpha", "--recover", "node:alpha")))
    resumed = simulate_json(capsys, "--from", str(half), "--fail", "adapter:bravo/en1")
    assert resumed["start"]["title"] == "Start (resumed after Step 2: recover node:alpha)"
    for key in ("failed", "placement", "findings"):
        assert resumed["steps"][-1][key] == whole["steps"][-1][key]
    assert [finding["code"] for finding in whole["steps"][-1]["findings"]] == ["HA213"]


def test_simulate_batch_answers_each_line_and_goes_on_past_a_bad_one(tmp_path, capsys):
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"steps": [{"fail": ["node:alpha"]}, {"recover": ["node:alpha"]}]}\n'
                     "\n"
                     '{"steps": [{"recover": ["node:alpha"]}]}\n'
                     "not json\n"
                     '{"steps": [{"fail": ["node:bravo"]}]}\n')
    assert main(["simulate", str(TWO_NODE), "--batch", str(batch)]) == 2
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    answers = [json.loads(line) for line in lines]
    assert lines == [json.dumps(answer, separators=(",", ":"), sort_keys=True) for answer in answers], "compact"
    assert [answer["line"] for answer in answers] == [1, 3, 4, 5]
    assert [step["recover"] for step in answers[0]["steps"]] == [[], ["node:alpha"]]
    assert answers[1] == {"line": 3, "error": "step 1: node:alpha has not failed, so it cannot recover"}
    assert answers[2]["error"].startswith("not JSON")
    assert answers[3]["steps"][0]["placement"]["groups"] == {"ledger": ["alpha"], "gateway": ["alpha"]}
    assert captured.err == "halang: 2 of 4 sequences could not run (line 3, 4)\n"


def test_simulate_batch_lines_are_what_format_json_prints(tmp_path, capsys):
    single = simulate_json(capsys, "--fail", "node:alpha", "--recover", "node:alpha")
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"steps": [{"fail": ["node:alpha"]}, {"recover": ["node:alpha"]}]}\n')
    assert main(["simulate", str(TWO_NODE), "--batch", str(batch), "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"line": 1, **single} and captured.err == ""


def test_simulate_batch_lines_without_from_start_where_from_says(tmp_path, capsys):
    down = tmp_path / "down.json"
    down.write_text(json.dumps(simulate_json(capsys, "--fail", "node:alpha")))
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"steps": [{"recover": ["node:alpha"]}]}\n{"steps": [], "from": {"groups": {}}}\n')
    assert main(["simulate", str(TWO_NODE), "--batch", str(batch), "--from", str(down)]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["start"]["failed"] == ["node:alpha"] and first["steps"][0]["failed"] == []
    assert second["start"]["title"] == "Start (given placement)"
