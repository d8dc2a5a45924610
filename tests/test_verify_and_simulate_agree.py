"""`verify` and `simulate` answer from one decision core: the same file, the same failure, the same finding."""

from __future__ import annotations

import json

from halang.cli import main

# The file of issue 7: verify reported HA406 for node:n1, simulate --fail node:n1 showed nothing.
SAME_NODE_AS_OFFLINE = """
cluster c {
  heartbeat { key_file = "/etc/halang/k.key"  quorum = none }
  node n1 { }
  node n2 { }
  network net0 {
    ipat = replace
    adapter n1 en0 boot 10.1.1.1/24 switch sw1
    adapter n2 en0 boot 10.1.1.2/24 switch sw1
    service s_a 10.1.1.100
    service s_b 10.1.1.101
  }
  link hb { type = rs232  n1 = "/dev/ttyS0"  n2 = "/dev/ttyS0" }
  resource_group b { nodes = [n1, n2]  fallover = bring_offline  service_ips = [s_b] }
  resource_group a { nodes = [n1, n2]  service_ips = [s_a]  same_node_as = [b] }
}
"""


def _json(capsys, *argv) -> dict:
    main(list(argv))
    return json.loads(capsys.readouterr().out)


def test_one_answer_for_a_location_dependency_on_a_group_gone_offline(tmp_path, capsys):
    path = tmp_path / "c.ha"
    path.write_text(SAME_NODE_AS_OFFLINE)
    verified = _json(capsys, "verify", "--faults", "1", "--format", "json", str(path))
    findings = verified["findings"]
    verify_says = any(f["code"] == "HA406" and f.get("scenario") == ["node:n1"] for f in findings)
    simulated = _json(capsys, "simulate", str(path), "--fail", "node:n1", "--format", "json")
    simulate_says = any(f["code"] == "HA406" for f in simulated["steps"][-1]["findings"])
    assert verify_says and simulate_says
