"""`halang export pacemaker`: what it writes, what it refuses, and the findings it gives (HA801-HA814)."""

import os
import re
import stat
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from halang.checks.registry import all_checks
from halang.cli import main
from halang.diagnostics import SourceText
from halang.export.pacemaker import export_pacemaker
from halang.verify import verify_source
from tests.export.crm import Simulator, needs_pacemaker, ping_attributes, placement

ROOT = Path(__file__).resolve().parents[2]
TWO_NODE = str(ROOT / "examples" / "two_node_replace.ha")
EXPORT_CODES = [code for code, check in all_checks().items() if check.phase == "export"]


def exported(text: str, name: str = "c.ha"):
    source = SourceText(text, name)
    report = verify_source(source, faults=0)
    assert not report.errors, [f.message for f in report.errors]
    return export_pacemaker(report.cluster, source)


def cib_of(text: str) -> ET.Element:
    return ET.fromstring(exported(text).files["cib.xml"])


def test_the_two_node_example_exports_every_file(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", "pacemaker", TWO_NODE, "-o", str(out)]) == 0
    printed = capsys.readouterr()
    names = {"EXPORT.md", "cib.xml", "corosync.conf", "ocf/halang/application", "ocf/halang/fstab"}
    assert sorted(printed.out.split()) == sorted(str(out / name) for name in names)
    for agent in ("ocf/halang/application", "ocf/halang/fstab"):
        assert (out / agent).stat().st_mode & stat.S_IXUSR
    assert "warning[HA801]" in printed.err and "warning[HA803]" in printed.err
    report = (out / "EXPORT.md").read_text()
    for code in ("HA801", "HA802", "HA803", "HA804", "HA812", "HA813"):
        assert f"### {code} " in report
    assert f"`{TWO_NODE}:42:3`: warning." in report  # HA802 at the serial link


def test_the_same_file_gives_the_same_bytes(tmp_path):
    for out in ("a", "b"):
        assert main(["export", "pacemaker", TWO_NODE, "-o", str(tmp_path / out)]) == 0
    for path in (tmp_path / "a").rglob("*"):
        if path.is_file():
            assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()


def test_a_file_with_errors_is_refused_and_nothing_written(tmp_path, capsys):
    bad = tmp_path / "bad.ha"
    bad.write_text("cluster c {\n  node a { }\n  resource_group g { nodes = [a, b] }\n}\n")
    assert main(["export", "pacemaker", str(bad), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "error[HA102]" in err and f"{bad}: not exported: fix the errors first" in err
    assert not (tmp_path / "out").exists()


def test_a_failure_analysis_error_refuses_it_too(tmp_path, capsys):
    spof = tmp_path / "spof.ha"
    spof.write_text("cluster c {\n  node a { }\n  node b { }\n  network n { adapter a en0 boot 10.0.0.1/24\n"
                    "    adapter b en0 boot 10.0.0.2/24 }\n  resource_group g { nodes = [a] }\n}\n")
    assert main(["export", "pacemaker", str(spof), "-o", str(tmp_path / "out"), "--faults", "1"]) == 1
    assert "error[HA301]" in capsys.readouterr().err
    assert main(["export", "pacemaker", str(spof), "-o", str(tmp_path / "out"), "--faults", "0"]) == 0


def test_no_such_file_and_an_unwritable_directory_exit_2_without_a_traceback(tmp_path, capsys):
    assert main(["export", "pacemaker", str(tmp_path / "missing.ha"), "-o", str(tmp_path)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["export", "pacemaker", TWO_NODE, "-o", str(blocker / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"halang: cannot write the export into {blocker / 'out'}") and "Traceback" not in err


def test_only_pacemaker_is_a_target(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["export", "heartbeat", TWO_NODE, "-o", "/tmp/x"])
    assert exit_.value.code == 2


# ------------------------------------------------------------------ the CIB

SEED = (ROOT / "examples" / "two_node_replace.ha").read_text()

BILLING = (ROOT / "examples" / "capacity_dependencies.ha").read_text()
WAREHOUSE = (ROOT / "examples" / "three_node_quorum.ha").read_text()


def options(cib: ET.Element) -> dict[str, str]:
    return {pair.get("name"): pair.get("value") for pair in cib.iterfind("configuration/crm_config//nvpair")}


def test_groups_are_their_resources_in_acquisition_order():
    ledger = cib_of(SEED).find("configuration/resources/group[@id='ledger']")
    kinds = [(p.get("id"), f"{p.get('provider')}:{p.get('type')}") for p in ledger.iterfind("primitive")]
    assert kinds == [("ledger.ip.ledger_svc", "heartbeat:IPaddr2"), ("ledger.vg.ledgervg", "heartbeat:LVM-activate"),
                     ("ledger.fs.ledger_data", "halang:fstab"), ("ledger.fs.ledger_logs", "halang:fstab"),
                     ("ledger.app.ledger", "halang:application")]
    address = {p.get("name"): p.get("value") for p in ledger.find("primitive").iterfind("instance_attributes/nvpair")}
    assert address == {"ip": "10.10.1.100", "cidr_netmask": "24", "nic": "en0"}


def test_the_node_list_is_scored_in_priority_order_and_never_is_sticky():
    cib = cib_of(WAREHOUSE)
    scores = {(c.get("rsc"), c.get("node")): int(c.get("score")) for c in cib.iterfind(".//rsc_location")
              if c.get("node") is not None}  # the others are the ping targets' rules
    assert scores[("erp_app", "wh2")] > scores[("erp_app", "wh3")] > scores[("erp_app", "wh1")]
    sticky = {g.get("id"): g.find("meta_attributes/nvpair[@name='resource-stickiness']")
              for g in cib.iterfind(".//group")}
    assert sticky["erp_db"] is None and sticky["erp_app"] is None  # fallback = higher_priority
    assert int(sticky["print_spool"].get("value")) > scores[("print_spool", "wh3")] - scores[("print_spool", "wh2")]
    assert cib.find("configuration/resources/clone[@id='mon_agent.clone']/group[@id='mon_agent']") is not None
    assert options(cib)["no-quorum-policy"] == "stop" and options(cib)["stonith-enabled"] == "true"
    assert options(cib_of(SEED))["no-quorum-policy"] == "ignore"


def test_dependencies_become_orders_and_colocations_and_capacity_utilization():
    cib = cib_of(BILLING)
    orders = {(o.get("first"), o.get("then"), o.get("kind")) for o in cib.iterfind(".//rsc_order")}
    assert orders == {("db", "app", "Mandatory"), ("mq", "app", "Mandatory"), ("db", "batch", "Mandatory")}
    colocations = {(c.get("rsc"), c.get("with-rsc"), c.get("score")) for c in cib.iterfind(".//rsc_colocation")}
    assert colocations == {("cache", "app", "INFINITY"), ("ldap_a", "ldap_b", "-INFINITY")}
    assert options(cib)["placement-strategy"] == "balanced"  # batch is least_loaded
    a1 = {p.get("name"): p.get("value") for p in cib.iterfind("configuration/nodes/node[@uname='a1']//nvpair")}
    assert a1 == {"cpu": "32000", "memory": str(128 * 1024)}
    cache = {p.get("name"): p.get("value") for p in cib.iterfind(".//primitive[@id='cache.app.memcached']"
                                                                 "/utilization/nvpair")}
    assert cache == {"cpu": "1500", "memory": str(24 * 1024)}


def test_interfaces_that_differ_between_nodes_are_given_per_node():
    text = SEED.replace("adapter bravo en0 boot", "adapter bravo eth0 boot")
    primitive = cib_of(text).find(".//primitive[@id='ledger.ip.ledger_svc']")
    per_node = {block.find("rule/expression").get("value"): block.find("nvpair").get("value")
                for block in primitive.iterfind("instance_attributes[rule]")}
    assert per_node == {"alpha": "en0", "bravo": "eth0"}


def test_corosync_has_a_link_per_subnet_token_crypto_and_two_node():
    conf = exported(SEED).files["corosync.conf"]
    assert re.findall(r"ring(\d)_addr: (\S+)", conf) == [("0", "10.10.1.11"), ("1", "10.10.2.11"),
                                                          ("0", "10.10.1.12"), ("1", "10.10.2.12")]
    assert "token: 2000" in conf and "crypto_cipher: aes256" in conf and "two_node: 1" in conf
    warehouse = exported(WAREHOUSE).files["corosync.conf"]
    assert warehouse.count("linknumber:") == 3 and "two_node" not in warehouse.replace("# two", "")
    billing = exported(BILLING)
    assert 'SBD_DEVICE=/dev/mapper/hb_billing' in billing.files["sbd.conf"]


def test_ping_targets_become_a_ping_clone_and_a_connectivity_rule_per_group():
    cib = cib_of(SEED)
    clone = cib.find("configuration/resources/clone[@id='net_ether_01.ping.clone']")
    primitive = clone.find("primitive")
    assert (primitive.get("class"), primitive.get("provider"), primitive.get("type")) == ("ocf", "pacemaker", "ping")
    params = {p.get("name"): p.get("value") for p in primitive.iterfind("instance_attributes/nvpair")}
    # dampen: the heartbeat's detection time, 500ms x 4
    assert params == {"host_list": "10.10.1.1 10.10.2.1", "name": "pingd-net_ether_01", "multiplier": "1000",
                      "dampen": "2s"}
    rules = {}
    for location in cib.iterfind("configuration/constraints/rsc_location[rule]"):
        rule = location.find("rule")
        rules[location.get("rsc")] = (rule.get("score"), rule.get("boolean-op"),
                                      [(e.get("attribute"), e.get("operation"), e.get("value"))
                                       for e in rule.iterfind("expression")])
    expected = ("-INFINITY", "or", [("pingd-net_ether_01", "not_defined", None), ("pingd-net_ether_01", "lte", "0")])
    assert rules == {"ledger": expected, "gateway": expected}


def test_each_network_with_targets_has_its_own_attribute_and_only_its_groups_follow_it():
    text = (SEED.replace("    ping_targets = [10.10.1.1, 10.10.2.1]  # the router of each subnet\n", "")
            .replace("  # Null-modem cable", "  network net_backup {\n    adapter alpha en2 boot 10.20.1.11/24\n"
                     "    adapter bravo en2 boot 10.20.1.12/24\n    service backup_svc 10.20.9.1/24\n"
                     "    ping_targets = [10.20.1.1]\n  }\n\n  # Null-modem cable")
            .replace("service_ips   = [gateway_svc]", "service_ips   = [gateway_svc, backup_svc]"))
    cib = cib_of(text)
    assert [c.get("id") for c in cib.iterfind("configuration/resources/clone")] == ["net_backup.ping.clone"]
    followed = {(location.get("rsc"), location.find("rule/expression").get("attribute"))
                for location in cib.iterfind("configuration/constraints/rsc_location[rule]")}
    assert followed == {("gateway", "pingd-net_backup")}
    without = SEED.replace("    ping_targets = [10.10.1.1, 10.10.2.1]  # the router of each subnet\n", "")
    assert cib_of(without).find(".//primitive[@type='ping']") is None


@needs_pacemaker
def test_pacemaker_moves_a_group_off_a_node_that_reaches_no_target(tmp_path):
    cib = exported(SEED).files["cib.xml"]
    assert ping_attributes(cib) == {"pingd-net_ether_01": "2000"}  # 1000 a target reached
    simulator = Simulator(tmp_path, cib)
    state, printed = simulator.run(simulator.initial, up=["alpha", "bravo"])
    assert placement(printed)["ledger"] == ("alpha",)
    # alpha's ping agent reaches neither router: its attribute drops to 0.
    subprocess.run(["crm_attribute", "--node", "alpha", "--name", "pingd-net_ether_01", "--lifetime", "reboot",
                    "--update", "0"], env={**os.environ, "CIB_file": str(state)}, check=True, capture_output=True)
    done = subprocess.run(["crm_simulate", "--xml-file", str(state), "--simulate", "--output-as=xml"],
                          capture_output=True, text=True, check=True)
    after = ET.fromstring(re.sub(r"^<\?xml[^>]*>", "", done.stdout))
    assert placement(after)["ledger"] == ("bravo",) and placement(after)["gateway"] == ("bravo",)


# ------------------------------------------------------------------ the findings


def finding_codes(text: str) -> set[str]:
    return {f.code for f in exported(text).findings if not f.accepted}


@pytest.mark.parametrize("code", EXPORT_CODES)
def test_each_code_is_found_in_its_bad_example_and_not_in_its_good_one(code):
    doc = all_checks()[code].doc()
    assert code in finding_codes(doc.bad)
    assert code not in finding_codes(doc.good)


def test_an_accepted_finding_is_listed_as_accepted_with_its_reason():
    text = SEED.replace("  # Page the on-call", '  accept HA801 "fence_ipmilan added by the site"\n  # Page the on-call')
    export = exported(text)
    assert [f.accepted for f in export.findings if f.code == "HA801"] == [True]
    assert "accepted.\n" in export.files["EXPORT.md"] and "Accepted: fence_ipmilan added by the site" \
        in export.files["EXPORT.md"]


def test_a_subnet_not_every_node_is_on_is_no_link():
    text = SEED.replace("    adapter bravo en1 standby 10.10.2.12/24 switch sw2\n", "")
    export = exported(text)
    assert [f.message.split(":")[0] for f in export.findings if f.code == "HA805"] == \
        ["subnet 10.10.2.0/24 of network net_ether_01 is no Corosync link"]
    assert "ring1_addr" not in export.files["corosync.conf"]


def test_a_tie_breaker_named_differently_on_each_node_gets_sbd_settings_per_node():
    text = BILLING.replace('nodes  = [a1, a2, b1, b2]\n', 'nodes  = [a1, a2, b1, b2]\n    a1     = "/dev/sdz"\n', 1)
    files = exported(text).files
    assert sorted(name for name in files if name.startswith("sbd")) == [f"sbd-{n}.conf" for n in ("a1", "a2", "b1", "b2")]
    assert "SBD_DEVICE=/dev/sdz" in files["sbd-a1.conf"] and "SBD_DEVICE=/dev/mapper/hb_billing" in files["sbd-b2.conf"]


def test_nodes_that_share_no_subnet_are_told_corosync_cannot_start():
    text = ("cluster c {\n  node a { }\n  node b { }\n  network n0 { adapter a en0 boot 10.0.0.1/24 }\n"
            "  network n1 { adapter b en0 boot 10.0.1.1/24 }\n"
            '  link ser { type = rs232  a = "/dev/ttyS0"  b = "/dev/ttyS0" }\n  resource_group g { nodes = [a, b] }\n}\n')
    messages = [f.message for f in exported(text).findings if f.code == "HA805"]
    assert "no IP subnet joins every node: corosync.conf has no knet link, and Corosync cannot form the cluster" \
        in messages


def test_capacity_that_is_no_whole_unit_is_rounded_safely():
    text = BILLING.replace("cpu    = 16\n      memory = 64G", "cpu    = 16\n      memory = 67108865K", 1)
    [finding] = [f for f in exported(text).findings if f.code == "HA811"]
    assert finding.message.endswith("rounded to whole units (thousandths of a core, MiB), capacities down and "
                                    "requirements up: a2 memory")
    a2 = cib_of(text).find("configuration/nodes/node[@uname='a2']/utilization/nvpair[@name='memory']")
    assert a2.get("value") == str(64 * 1024)  # 64G and 1K, rounded down

