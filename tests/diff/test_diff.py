"""`halang diff`: every impact kind on the examples, the plan's text and JSON, and the command's exit codes.

Each case copies an example's text, changes it, and diffs the two.
"""

import ast
import json
from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.diff import (
    CLUSTER_RESTART, LIVE, MOVE, RESTART, DiffError, diff_clusters, diff_command, render_json, render_text,
)
from halang.verify import verify_source

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
TWO_NODE = (EXAMPLES / "two_node_replace.ha").read_text()
THREE_NODE = (EXAMPLES / "three_node_quorum.ha").read_text()
BILLING = (EXAMPLES / "capacity_dependencies.ha").read_text()


def cluster_of(text: str):
    report = verify_source(SourceText(text, "case.ha"), faults=0)
    assert not report.errors, "\n".join(f"{f.code} {f.message}" for f in report.errors)
    return report.cluster


def edit(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, f"{old!r} should occur once"
    return text.replace(old, new)


def diff(old_text: str, new_text: str):
    return diff_clusters(cluster_of(old_text), cluster_of(new_text))


def summary(changes):
    return [(change.kind, change.path, change.impact.text) for change in changes]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.ha")), ids=lambda p: p.name)
def test_an_example_against_itself_has_no_change(path):
    cluster = cluster_of(path.read_text())
    assert diff_clusters(cluster, cluster) == []
    assert diff_clusters(cluster, json.loads(cluster.to_json())) == []


# ---------------------------------------------------------------- one case per impact kind

CASES = [
    # live: the running nodes take it, no group is touched
    ("heartbeat interval", TWO_NODE, "interval   = 500ms", "interval   = 1s",
     [("changed", "heartbeat: interval", "live")]),
    ("monitor restarts", TWO_NODE, "restarts = 3", "restarts = 4",
     [("changed", "group gateway: application gateway: monitor: restarts", "live")]),
    ("application timeout", TWO_NODE, "timeout = 120s", "timeout = 180s",
     [("changed", "group ledger: application ledger: timeout", "live")]),
    ("fallback policy", THREE_NODE, "fallback_delay = 10m", "fallback_delay = 20m",
     [("changed", "group erp_db: fallback_delay", "live")]),
    ("event script", TWO_NODE, 'event adapter_down { notify = "/usr/local/sbin/ha_page" }',
     'event adapter_down { notify = "/usr/local/sbin/ha_page2" }',
     [("changed", "event adapter_down: notify", "live")]),
    ("new event", TWO_NODE, "  event adapter_down",
     '  event rg_move { post = "/usr/local/bin/dns" }\n  event adapter_down',
     [("added", "event rg_move", "live")]),
    ("serial device", TWO_NODE, 'bravo = "/dev/ttyS1"', 'bravo = "/dev/ttyS2"',
     [("changed", "link hb_serial: bravo", "live")]),
    ("capacity", BILLING, "  node a2 {\n    domains = [rack_a]\n    capacity {\n      cpu    = 16",
     "  node a2 {\n    domains = [rack_a]\n    capacity {\n      cpu    = 20", [("changed", "node a2: capacity: cpu", "live")]),
    ("standby adapter address", TWO_NODE, "adapter bravo en1 standby 10.10.2.12/24",
     "adapter bravo en1 standby 10.10.2.22/24",
     [("changed", "network net_ether_01: adapter bravo/en1: address", "live")]),
    ("ipat of a network without service addresses", THREE_NODE, "ipat = alias", "ipat = replace",
     [("changed", "network net_backup: ipat", "live")]),
    ("accept", THREE_NODE, "  event node_down", '  accept HA303 "the SAN path is enough"\n  event node_down',
     [("added", "accept HA303", "live")]),
    ("ping targets", TWO_NODE, "ping_targets = [10.10.1.1, 10.10.2.1]", "ping_targets = [10.10.1.254, 10.10.2.1]",
     [("changed", "network net_ether_01: ping_targets", "live")]),
    # restart GROUP: its scripts, volume groups, filesystems or service addresses change
    ("start script", TWO_NODE, '"/opt/ledger/bin/start"', '"/opt/ledger/bin/start2"',
     [("changed", "group ledger: application ledger: start", "restart ledger")]),
    ("volume groups", TWO_NODE, "volume_groups = [ledgervg]", "volume_groups = [ledgervg, ledgerlogvg]",
     [("changed", "group ledger: volume_groups", "restart ledger")]),
    ("filesystems", TWO_NODE, '"/ledger/data", "/ledger/logs"', '"/ledger/data"',
     [("removed", "group ledger: filesystem /ledger/logs", "restart ledger")]),
    ("filesystem options", THREE_NODE, 'options = "rw,noatime"', 'options = "rw"',
     [("changed", "group erp_db: filesystem /erp/oradata: options", "restart erp_db")]),
    ("filesystem renamed", THREE_NODE, '"/erp/oradata" {', '"/erp/oradata2" {',
     [("added", "group erp_db: filesystem /erp/oradata2", "restart erp_db"),
      ("removed", "group erp_db: filesystem /erp/oradata", "restart erp_db")]),
    ("filesystem order", TWO_NODE, '["/ledger/data", "/ledger/logs"]', '["/ledger/logs", "/ledger/data"]',
     [("changed", "group ledger: filesystems order", "restart ledger")]),
    ("service address", TWO_NODE, "service gateway_svc 10.10.1.101", "service gateway_svc 10.10.1.102",
     [("changed", "network net_ether_01: service gateway_svc: address", "restart gateway")]),
    ("new application", TWO_NODE, "    application gateway {",
     '    application agent {\n      start = "/opt/a/start"\n      stop = "/opt/a/stop"\n    }\n'
     "    application gateway {",
     [("added", "group gateway: application agent", "restart gateway")]),
    # move GROUP from A to B: its startup placement changes
    ("priority list", TWO_NODE, "nodes         = [alpha, bravo]", "nodes         = [bravo, alpha]",
     [("changed", "group ledger: nodes", "live"),
      ("changed", "group ledger: placement", "move ledger from alpha to bravo")]),
    ("concurrent group loses a node", THREE_NODE, "nodes    = [wh1, wh2, wh3]\n    startup  = all_available",
     "nodes    = [wh1, wh2]\n    startup  = all_available",
     [("changed", "group mon_agent: nodes", "live"),
      ("changed", "group mon_agent: placement", "move mon_agent from wh1, wh2, wh3 to wh1, wh2")]),
    ("group added", TWO_NODE, "  # Page the on-call",
     "  resource_group batch {\n    nodes = [bravo, alpha]\n  }\n\n  # Page the on-call",
     [("added", "group batch", "move batch from offline to bravo")]),
    ("group removed", BILLING, "  # Nightly batch", "  # Nightly batch\n  resource_group gone { nodes = [a1] }\n",
     None),  # checked the other way round below
    # cluster restart: heartbeat port or key
    ("heartbeat port", THREE_NODE, "port       = 7400", "port       = 7401",
     [("changed", "heartbeat: port", "cluster restart")]),
    ("key file", TWO_NODE, '"/etc/halang/payments.key"', '"/etc/halang/payments-2025.key"',
     [("changed", "heartbeat: key_file", "cluster restart")]),
    ("cluster name", TWO_NODE, "cluster payments {", "cluster payments2 {",
     [("changed", "cluster: name", "cluster restart")]),
]


@pytest.mark.parametrize("name, text, old, new, expected", [case for case in CASES if case[4] is not None],
                         ids=[case[0] for case in CASES if case[4] is not None])
def test_impact_of_a_change(name, text, old, new, expected):
    assert summary(diff(text, edit(text, old, new))) == expected


def test_a_group_removed_moves_to_offline():
    with_group = edit(BILLING, "  # Nightly batch", "  resource_group gone { nodes = [a1] }\n  # Nightly batch")
    assert summary(diff(with_group, BILLING)) == [("removed", "group gone", "move gone from a1 to offline")]


def test_a_service_label_moved_to_another_network_restarts_its_group():
    text = edit(TWO_NODE, "  # Null-modem", "  network net_ether_02 {\n    ipat = replace\n"
                "    adapter alpha en2 boot 10.10.3.11/24 switch sw1\n"
                "    adapter bravo en2 boot 10.10.3.12/24 switch sw1\n  }\n\n  # Null-modem")
    moved = edit(edit(text, "    service gateway_svc 10.10.1.101        # gw.payments.example\n", ""),
                 "    adapter bravo en2 boot 10.10.3.12/24 switch sw1\n",
                 "    adapter bravo en2 boot 10.10.3.12/24 switch sw1\n    service gateway_svc 10.10.3.101\n")
    assert summary(diff(text, moved)) == [
        ("removed", "network net_ether_01: service gateway_svc", "restart gateway"),
        ("added", "network net_ether_02: service gateway_svc", "restart gateway"),
    ]


def test_a_change_outside_the_group_that_moves_it_is_a_move():
    # wh2 loses its adapters on the service network (the verifier would object, HA304, but the
    # snapshots still compare): erp_app, homed on wh2, can no longer start anywhere.
    old = json.loads(cluster_of(THREE_NODE).to_json())
    new = json.loads(cluster_of(THREE_NODE).to_json())
    public = new["networks"][0]
    public["adapters"] = [adapter for adapter in public["adapters"] if adapter["node"] != "wh2"]
    changes = diff_clusters(old, new)
    assert summary(changes) == [
        ("removed", "network net_public: adapter wh2/en0", "live"),
        ("removed", "network net_public: adapter wh2/en1", "live"),
        ("changed", "group erp_app: placement", "move erp_app from wh2 to offline"),
    ]


def test_several_changes_keep_the_sections_order_and_count_each_kind():
    changed = edit(TWO_NODE, "interval   = 500ms", "interval   = 1s")
    changed = edit(changed, '"/etc/halang/payments.key"', '"/etc/halang/new.key"')
    changed = edit(changed, "nodes         = [alpha, bravo]", "nodes         = [bravo, alpha]")
    changed = edit(changed, '"/opt/gateway/bin/stop"', '"/opt/gateway/bin/halt"')
    changes = diff(TWO_NODE, changed)
    assert [change.impact.kind for change in changes] == [LIVE, CLUSTER_RESTART, LIVE, MOVE, RESTART]
    text = render_text(changes, "title")
    assert text.splitlines()[-1] == "Plan: 2 live, 1 restart, 1 move, 1 cluster restart."
    lines = text.splitlines()
    assert any(line.startswith("  ~ heartbeat: interval") and "500ms -> 1s" in line and line.endswith("live")
               for line in lines)
    assert any("group ledger: placement" in line and line.endswith("move ledger from alpha to bravo")
               for line in lines)
    assert any('"/opt/gateway/bin/stop" -> "/opt/gateway/bin/halt"' in line and line.endswith("restart gateway")
               for line in lines)


def test_added_and_removed_lines_use_plus_and_minus():
    changed = edit(TWO_NODE, "  node bravo { }", "  node bravo { }\n  node charlie { }")
    changed = edit(changed, "    adapter bravo en1 standby 10.10.2.12/24 switch sw2\n",
                   "    adapter bravo en1 standby 10.10.2.12/24 switch sw2\n"
                   "    adapter charlie en0 boot 10.10.1.13/24 switch sw1\n")
    changed = edit(changed, '  event node_down    { notify = "/usr/local/sbin/ha_page" }\n', "")
    text = render_text(diff(TWO_NODE, changed))
    assert "  + node charlie" in text
    assert "  + network net_ether_01: adapter charlie/en0" in text and "boot 10.10.1.13/24 switch sw1" in text
    assert "  - event node_down" in text


def test_json_lists_each_change_with_raw_values_and_impact():
    changed = edit(TWO_NODE, "interval   = 500ms", "interval   = 1s")
    changed = edit(changed, "nodes         = [alpha, bravo]", "nodes         = [bravo, alpha]")
    data = json.loads(render_json(diff(TWO_NODE, changed), "a.ha", "b.ha"))
    assert data["summary"] == {"live": 2, "restart": 0, "move": 1, "cluster restart": 0}
    first, _, move = data["changes"]
    assert first == {"kind": "changed", "path": "heartbeat: interval", "old": 500, "new": 1000,
                     "impact": {"kind": "live", "text": "live"}}
    assert move["impact"] == {"kind": "move", "text": "move ledger from alpha to bravo", "groups": ["ledger"],
                              "from": ["alpha"], "to": ["bravo"]}


def test_snapshots_of_different_formats_are_not_compared():
    old = json.loads(cluster_of(TWO_NODE).to_json())
    new = dict(old, format=2)
    with pytest.raises(DiffError):
        diff_clusters(old, new)


def test_reformatting_is_no_change():
    from halang.fmt import format_source

    for path in sorted(EXAMPLES.glob("*.ha")):
        text = path.read_text()
        assert diff(text, format_source(text)) == []


# ---------------------------------------------------------------- the command

def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_command_exit_codes(tmp_path):
    old = write(tmp_path, "old.ha", TWO_NODE)
    new = write(tmp_path, "new.ha", edit(TWO_NODE, "interval   = 500ms", "interval   = 1s"))
    code, output, _ = diff_command(old, old, "text")
    assert code == 0 and "No changes" in output and output.rstrip().endswith("0 cluster restart.")
    code, output, _ = diff_command(old, new, "text")
    assert code == 1 and "heartbeat: interval" in output
    code, output, _ = diff_command(old, new, "json")
    assert code == 1 and json.loads(output)["summary"]["live"] == 1


def test_command_trouble_names_the_file_and_prints_its_errors(tmp_path):
    old = write(tmp_path, "old.ha", TWO_NODE)
    broken = write(tmp_path, "broken.ha", edit(TWO_NODE, "service_ips   = [ledger_svc]", "service_ips   = [nope]"))
    code, output, refused = diff_command(old, broken, "text")
    assert code == 1 and refused
    assert "HA102" in output and "broken.ha" in output and "not compared" in output
    code, output, _ = diff_command(old, str(tmp_path / "missing.ha"), "text")
    assert code == 2 and "missing.ha: no such file" in output
    garbage = tmp_path / "garbage.pyz"
    garbage.write_bytes(b"not a zip")
    code, output, _ = diff_command(str(garbage), old, "text")
    assert code == 2 and "garbage.pyz" in output


def test_command_reads_bundles(tmp_path):
    compile_module = pytest.importorskip("halang.compile")
    bundle = compile_module.compile_cluster(cluster_of(TWO_NODE), tmp_path)
    same = write(tmp_path, "same.ha", TWO_NODE)
    changed = write(tmp_path, "changed.ha", edit(TWO_NODE, "miss_limit = 4", "miss_limit = 6"))
    assert diff_command(str(bundle), same, "text")[0] == 0
    code, output, _ = diff_command(str(bundle), changed, "text")
    assert code == 1 and "heartbeat: miss_limit" in output


def test_diff_is_pure():
    """Deciding what changed touches no clock, socket or process."""
    for path in (ROOT / "halang" / "diff").glob("*.py"):
        if path.name == "command.py":
            continue
        tree = ast.parse(path.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.module}
        assert not imported & {"time", "socket", "subprocess", "pyroute2", "os"}, path.name
