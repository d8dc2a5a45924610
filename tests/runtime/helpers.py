"""Small clusters for the table tests, written as .ha text and read back as the runtime reads them."""

from __future__ import annotations

import json

from halang.diagnostics import SourceText
from halang.verify import load
from runtime.core.snapshot import ClusterSpec, load_snapshot


def snapshot_json(text: str) -> dict:
    cluster, _, findings = load(SourceText(text, "<test>"))
    errors = [f"{finding.code} {finding.message}" for finding in findings if finding.is_error]
    assert cluster is not None and not errors, errors
    return json.loads(cluster.to_json())


def spec(text: str) -> ClusterSpec:
    return load_snapshot(snapshot_json(text))


# alpha and bravo, each the other's backup; boots on sw1, standbys on sw2; a serial link.
TWO_NODE = """
cluster payments {
  node alpha { }
  node bravo { }
  network net_ether_01 {
    ipat = replace
    adapter alpha en0 boot    10.10.1.11/24 switch sw1
    adapter alpha en1 standby 10.10.2.11/24 switch sw2
    adapter bravo en0 boot    10.10.1.12/24 switch sw1
    adapter bravo en1 standby 10.10.2.12/24 switch sw2
    service app_a_svc 10.10.1.100
    service app_b_svc 10.10.1.101
  }
  link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
  resource_group app_a { nodes = [alpha, bravo]  service_ips = [app_a_svc] }
  resource_group app_b { nodes = [bravo, alpha]  service_ips = [app_b_svc] }
}
"""

# Four nodes in two racks: a core network joins them, each rack has its own network,
# a heartbeat disk reaches all four and breaks ties.
FOUR_NODE = """
cluster even {
  heartbeat { tie_breaker = hb_disk }
  node a1 { domains = [rack_a] }
  node a2 { domains = [rack_a] }
  node b1 { domains = [rack_b] }
  node b2 { domains = [rack_b] }
  network net_core {
    adapter a1 en0 boot 10.5.0.11/24 switch core
    adapter a2 en0 boot 10.5.0.12/24 switch core
    adapter b1 en0 boot 10.5.0.21/24 switch core
    adapter b2 en0 boot 10.5.0.22/24 switch core
  }
  network net_rack_a {
    adapter a1 en1 boot 10.5.1.11/24
    adapter a2 en1 boot 10.5.1.12/24
  }
  network net_rack_b {
    adapter b1 en1 boot 10.5.2.21/24
    adapter b2 en1 boot 10.5.2.22/24
  }
  link hb_disk { type = disk  device = "/dev/hb"  nodes = [a1, a2, b1, b2] }
  resource_group ga { nodes = [a1, a2, b1] }
  resource_group gb { nodes = [b1, b2, a2] }
}
"""

# Three nodes under majority, one per rack, a disk link and a serial link between n1 and n2.
THREE_NODE = """
cluster trio {
  node n1 { domains = [rack_1] }
  node n2 { domains = [rack_2] }
  node n3 { domains = [rack_3] }
  network net_public {
    ipat = alias
    adapter n1 en0 boot 10.6.1.11/24 switch leaf1
    adapter n1 en1 boot 10.6.2.11/24 switch leaf2
    adapter n2 en0 boot 10.6.1.12/24 switch leaf1
    adapter n2 en1 boot 10.6.2.12/24 switch leaf2
    adapter n3 en0 boot 10.6.1.13/24 switch leaf1
    service web_svc 10.6.9.10/24
  }
  link hb_disk { type = disk  device = "/dev/hdisk3"  nodes = [n1, n2, n3] }
  link hb_12 { type = rs232  n1 = "/dev/ttyS0"  n2 = "/dev/ttyS0" }
  resource_group web { nodes = [n3, n1, n2]  service_ips = [web_svc] }
  resource_group batch { nodes = [n1, n2, n3] }
  resource_group agent { nodes = [n1, n2, n3]  startup = all_available  fallover = bring_offline }
}
"""
