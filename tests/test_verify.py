"""verify_source as a whole: what it says about the failure analysis."""

from pathlib import Path

import halang.verify as verify
from halang.diagnostics import SourceText

ROOT = Path(__file__).resolve().parents[1]



def test_analysis_is_skipped_with_the_reason_when_static_errors_remain():
    report = verify.verify_source(SourceText("cluster c {\n  node a { }\n  node a { }\n}\n"), faults=1)
    assert report.analysis == "skipped"
    assert "HA101" in report.analysis_note


PER_SCENARIO = """cluster c {
  heartbeat { key_file = "/etc/halang/c.key" }
  node alpha { }
  node bravo { }
  network net {
    adapter alpha en0 boot 10.0.0.1/24 switch sw1
    adapter bravo en0 boot 10.0.0.2/24 switch sw2
    service svc 10.0.9.10/24
  }
  link serial { type = rs232  alpha = "/dev/ttyS0"  bravo = "/dev/ttyS0" }
  resource_group g { nodes = [alpha, bravo]  service_ips = [svc] }
  accept HA306 "both nodes down at once: the site's outage" when ["node:alpha", "node:bravo"]
}
"""


def test_accept_when_covers_its_scenario_only():
    report = verify.verify_source(SourceText(PER_SCENARIO, "c.ha"), faults=2)
    outages = {frozenset(f.scenario): f.accepted for f in report.findings if f.code == "HA306"}
    assert outages[frozenset({"node:alpha", "node:bravo"})] is True
    others = [scenario for scenario, accepted in outages.items() if not accepted]
    assert others, "other HA306 scenarios exist and stay errors"
    assert not [f for f in report.findings if f.code == "HA104"]


def test_accept_without_when_still_covers_every_finding_of_its_code():
    text = PER_SCENARIO.replace(' when ["node:alpha", "node:bravo"]', "")
    report = verify.verify_source(SourceText(text, "c.ha"), faults=2)
    assert [f for f in report.findings if f.code == "HA306"]
    assert all(f.accepted for f in report.findings if f.code == "HA306")


def test_a_stale_accept_when_is_not_judged_when_the_analysis_did_not_run():
    text = PER_SCENARIO.replace('"node:bravo"]', '"switch:sw1"]')
    assert [f.code for f in verify.verify_source(SourceText(text), faults=2).warnings] == ["HA104"]
    assert not verify.verify_source(SourceText(text), faults=0).warnings
    assert not verify.verify_source(SourceText(text), faults=1).warnings, "two failures are beyond --faults 1"


def test_an_unknown_node_in_a_link_gets_a_suggestion():
    text = ('cluster c {\n  node alpha { }\n  node bravo { }\n'
            '  link serial { type = rs232  alpha = "/dev/ttyS0"  charlie = "/dev/ttyS0" }\n}\n')
    [finding] = [f for f in verify.verify_source(SourceText(text), faults=0).findings if f.code == "HA102"]
    assert finding.hint.startswith("define node charlie { }, or name one of: alpha, bravo")
