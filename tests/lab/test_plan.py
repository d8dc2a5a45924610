"""The lab's plan, without root: names, addresses, refusals, the state's JSON, and what each fault cuts."""

import ipaddress
import json
import os

import pytest

from halang.lab import Lab, LabError, LabPlan, System, load_cluster, plan_lab, wiring
from halang.lab.plan import IFNAMSIZ

from .conftest import IPV6, THREE_NODE, TWO_NODE

PREFIX = "hl0a1b2c"


def plan_of(path, prefix=PREFIX, base="/run/halang-lab"):
    return plan_lab(load_cluster(path).snapshot(), prefix, base, str(path))


@pytest.mark.parametrize("path", [TWO_NODE, THREE_NODE, IPV6], ids=lambda p: p.stem)
def test_every_name_carries_the_prefix_and_fits_linux(path):
    plan = plan_of(path)
    assert all(name.startswith(f"{PREFIX}-") for name in plan.namespaces)
    assert len(set(plan.namespaces)) == len(plan.namespaces)
    names = [plan.core]
    names += [n for s in plan.switches for n in (s.bridge, s.uplink, s.core_port)]
    names += [a.port for a in plan.adapters] + [c.port for c in plan.clients]
    assert all(name.startswith(PREFIX) and len(name) <= IFNAMSIZ for name in names)
    assert len(set(names)) == len(names)
    assert plan.workdir.endswith(f"/{PREFIX}") and plan.state_file.startswith(plan.workdir)
    files = [d.file for d in plan.disks] + [p for d in plan.disks for p in d.paths.values()]
    files += [p for s in plan.serials for p in s.paths.values()]
    assert all(f.startswith(plan.workdir + "/") for f in files)


def test_the_two_node_plan():
    plan = plan_of(TWO_NODE)
    assert [(s.name, s.bridge) for s in plan.switches] == [("sw1", f"{PREFIX}b0"), ("sw2", f"{PREFIX}b1")]
    assert [(a.label, a.address, a.switch) for a in plan.adapters] == [
        ("alpha/en0", "10.10.1.11/24", "sw1"), ("alpha/en1", "10.10.2.11/24", "sw2"),
        ("bravo/en0", "10.10.1.12/24", "sw1"), ("bravo/en1", "10.10.2.12/24", "sw2")]
    [client] = plan.clients
    assert client.addresses == ("10.10.1.254/24",)  # the boot subnet only; .255 is the broadcast
    assert plan.devices("alpha") == {"hb_serial": f"/run/halang-lab/{PREFIX}/tty-hb_serial-alpha"}
    assert plan.devices("bravo") == {"hb_serial": f"/run/halang-lab/{PREFIX}/tty-hb_serial-bravo"}
    assert plan.device_args("alpha") == ["--device", f"hb_serial=/run/halang-lab/{PREFIX}/tty-hb_serial-alpha"]


def test_an_adapter_with_no_switch_hangs_off_its_networks_implicit_switch(tmp_path):
    text = TWO_NODE.read_text().replace(" switch sw2", "")
    path = tmp_path / "implicit.ha"
    path.write_text(text)
    plan = plan_of(path)
    assert [s.name for s in plan.switches] == ["sw1", "net_ether_01"]
    assert {a.label: a.switch for a in plan.adapters}["alpha/en1"] == "net_ether_01"


def test_the_three_node_plan_has_a_client_per_network_and_one_disk_file():
    plan = plan_of(THREE_NODE)
    assert [(c.network, c.addresses) for c in plan.clients] == [
        ("net_public", ("172.20.1.254/24",)), ("net_backup", ("172.20.8.254/24",))]
    [disk] = plan.disks
    assert set(disk.paths) == {"wh1", "wh2", "wh3"} and len(set(disk.paths.values())) == 3
    assert all(not path.startswith(disk.file + "/") for path in disk.cut.values())
    assert plan.devices("wh2") == {"hb_disk": disk.paths["wh2"]}
    assert plan.switches[0].name == "core_a"  # switches in order of first appearance


def test_ipv6_clients_avoid_the_subnet_anycast_and_route_to_the_service_subnets():
    plan = plan_of(IPV6)
    [client] = plan.clients
    assert [str(ipaddress.ip_interface(a).network) for a in client.addresses] == [
        "fd12:3456:789a:10::/64", "fd12:3456:789a:20::/64"]
    for address in client.addresses:
        host = int(ipaddress.ip_interface(address).ip) & ((1 << 64) - 1)
        assert host < (1 << 64) - 128  # RFC 2526's reserved anycast identifiers are the top 128
    assert client.routes == ("fd12:3456:789a:101::/64", "fd12:3456:789a:102::/64", "fd12:3456:789a:153::/64")
    assert [s.link for s in plan.serials] == ["hb_oak_elm", "hb_elm_ash", "hb_ash_oak"]
    assert plan.devices("oak") == {"hb_ash_oak": plan.serials[2].paths["oak"],
                                   "hb_oak_elm": plan.serials[0].paths["oak"]}


def test_a_client_address_is_never_one_of_the_files(tmp_path):
    text = TWO_NODE.read_text().replace("service gateway_svc 10.10.1.101", "service gateway_svc 10.10.1.254")
    path = tmp_path / "taken.ha"
    path.write_text(text)
    assert plan_of(path).clients[0].addresses == ("10.10.1.253/24",)


def test_a_subnet_with_no_free_address_is_refused(tmp_path):
    text = TWO_NODE.read_text().replace("10.10.1.11/24", "10.10.1.1/30").replace("10.10.1.12/24", "10.10.1.2/30")
    text = text.replace("10.10.1.100", "10.10.9.100").replace("10.10.1.101", "10.10.9.101")
    path = tmp_path / "full.ha"
    path.write_text(text)
    from halang.diagnostics import read_source
    from halang.verify import verify_source

    cluster = verify_source(read_source(str(path)), faults=0).cluster  # HA206 aside, the plan must refuse
    with pytest.raises(LabError, match=r"subnet 10\.10\.1\.0/30 has no address left for the lab's client"):
        plan_lab(cluster.snapshot(), PREFIX, "/run/halang-lab")


def test_addresses_outside_the_private_ranges_are_refused_naming_each(tmp_path):
    text = TWO_NODE.read_text().replace("10.10.1.", "198.51.100.")
    path = tmp_path / "public.ha"
    path.write_text(text)
    with pytest.raises(LabError) as caught:
        plan_of(path)
    message = str(caught.value)
    assert "only private addresses (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16 or fd00::/8)" in message
    assert "adapter alpha/en0 198.51.100.11/24" in message and "service ledger_svc 198.51.100.100" in message
    assert "adapter alpha/en1" not in message


def test_a_subnet_straddling_a_private_range_is_refused(tmp_path):
    text = TWO_NODE.read_text().replace("10.10.2.11/24", "10.10.2.11/7").replace("10.10.2.12/24", "10.10.2.12/7")
    path = tmp_path / "wide.ha"
    path.write_text(text)
    from halang.diagnostics import read_source
    from halang.verify import verify_source

    cluster = verify_source(read_source(str(path)), faults=0).cluster
    with pytest.raises(LabError, match=r"adapter alpha/en1 10\.10\.2\.11/7"):
        plan_lab(cluster.snapshot(), PREFIX, "/run/halang-lab")


def test_a_file_with_errors_is_refused_with_its_first_findings(tmp_path):
    path = tmp_path / "broken.ha"
    path.write_text(TWO_NODE.read_text().replace("10.10.1.12/24", "10.10.1.11/24"))
    with pytest.raises(LabError, match=r"no lab can be built of this file until its errors are fixed: line \d+: HA201"):
        load_cluster(path)
    with pytest.raises(LabError, match="no such file"):
        load_cluster(tmp_path / "missing.ha")


def test_a_bad_prefix_is_refused():
    with pytest.raises(LabError, match="not a lab prefix"):
        plan_of(TWO_NODE, prefix="hlXYZ")


def test_the_plan_round_trips_through_json():
    for path in (TWO_NODE, THREE_NODE, IPV6):
        plan = plan_of(path)
        again = LabPlan.from_json(json.loads(json.dumps(plan.to_json())))
        assert again == plan and again.snapshot == plan.snapshot
        assert again.spec().name == plan.spec().name
    with pytest.raises(LabError, match="not a lab plan"):
        LabPlan.from_json({"format": 1, "prefix": PREFIX})


# ------------------------------------------------------------------ what a fault cuts


def test_each_fault_cuts_what_simulate_says_it_takes_down():
    plan = plan_of(TWO_NODE)
    spec = plan.spec()
    ports = {a.label: a.port for a in plan.adapters}
    nothing = wiring(plan, spec, [])
    assert not (nothing.ports_down or nothing.bridges_down or nothing.serials_cut or nothing.disk_paths_cut)
    assert wiring(plan, spec, ["adapter:alpha/en0"]).ports_down == {ports["alpha/en0"]}
    node = wiring(plan, spec, ["node:alpha"])
    assert node.ports_down == {ports["alpha/en0"], ports["alpha/en1"]} and node.serials_cut == {"hb_serial"}
    assert node.bridges_down == set()
    switch = wiring(plan, spec, ["switch:sw1"])  # dead: every port on it loses its carrier
    assert switch.ports_down == {ports["alpha/en0"], ports["bravo/en0"]} and switch.bridges_down == set()
    assert wiring(plan, spec, ["link:hb_serial"]).serials_cut == {"hb_serial"}


def test_disk_faults_cut_paths_and_domains_are_their_nodes():
    plan = plan_of(THREE_NODE)
    spec = plan.spec()
    assert wiring(plan, spec, ["linkend:wh1/hb_disk"]).disk_paths_cut == {("hb_disk", "wh1")}
    assert wiring(plan, spec, ["link:hb_disk"]).disk_paths_cut == {("hb_disk", n) for n in ("wh1", "wh2", "wh3")}
    assert wiring(plan, spec, ["domain:rack_b"]) == wiring(plan, spec, ["node:wh2"])
    assert ("hb_disk", "wh2") in wiring(plan, spec, ["node:wh2"]).disk_paths_cut


def test_a_name_that_is_no_component_says_so_as_simulate_does():
    plan = plan_of(TWO_NODE)
    with pytest.raises(LabError, match="did you mean 'alpha'"):
        wiring(plan, plan.spec(), ["node:alfa"])
    with pytest.raises(LabError, match="point-to-point rs232 link"):
        wiring(plan, plan.spec(), ["linkend:alpha/hb_serial"])


# ------------------------------------------------------------------ what would be run, and refusals


def test_the_commands_of_a_build_touch_only_the_labs_namespaces(tmp_path):
    system = System(dry=True)
    lab = Lab.up(TWO_NODE, base_dir=tmp_path, prefix=PREFIX, system=system)
    assert lab.state["phase"] == "up"
    relays = 0
    for argv in system.commands:
        if argv[0] != "ip":
            assert argv[1] == "-I" and argv[2].endswith("relay.py")  # the relay, a plain process
            relays += 1
            continue
        # `ip netns add|exec NAME` or `ip -n NAME ...`: never a command on the host's own interfaces
        assert argv[1:3] in (["netns", "add"], ["netns", "exec"], ["netns", "list"]) or argv[1] == "-n", argv
        if argv[1] == "-n":
            assert argv[2].startswith(f"{PREFIX}-")
        elif argv[2] in ("add", "exec"):
            assert argv[3].startswith(f"{PREFIX}-")
        words = " ".join(argv).split()
        for number, word in enumerate(words[:-1]):
            if word == "netns" and words[number + 1] not in ("add", "exec", "list"):
                assert words[number + 1].startswith(f"{PREFIX}-"), argv  # a veth end moved only into the lab
    assert relays == 1
    assert not os.path.exists(tmp_path / PREFIX)


def test_not_root_says_so(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(LabError, match=r"the lab needs root.*run it as root"):
        Lab.up(TWO_NODE, base_dir=tmp_path)


def test_a_missing_tool_says_which_package_brings_it(monkeypatch, tmp_path):
    import halang.lab.system as system

    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(system.shutil, "which", lambda tool: None if tool == "ip" else "/usr/bin/" + tool)
    with pytest.raises(LabError, match=r"'ip' \(Debian package iproute2\).*apt-get install -y iproute2"):
        Lab.up(TWO_NODE, base_dir=tmp_path)


def test_a_command_that_is_not_installed_is_a_clear_error():
    with pytest.raises(LabError, match="'no-such-tool-for-the-lab' is not installed"):
        System().run(["no-such-tool-for-the-lab"])
