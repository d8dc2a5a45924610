"""Without root: what the faults that keep the carrier up cut, what a dead switch cuts, the commands that do and
undo it, the ping targets' place in the plan, and flapping."""

import json

import pytest

from halang.cli import main
from halang.lab import Lab, LabError, LabPlan, System, load_cluster, plan_lab, wiring
from halang.lab.lab import flapping

from .conftest import IPV6, THREE_NODE, TWO_NODE
from .targets import give_ping_targets

PREFIX = "hl0a1b2c"


def plan_of(path):
    return plan_lab(load_cluster(path).snapshot(), PREFIX, "/run/halang-lab", str(path))


@pytest.fixture
def two():
    plan = plan_of(TWO_NODE)
    return plan, plan.spec(), {a.label: a.port for a in plan.adapters}


def cuts(found):
    """Only what is cut: {field: set} for the fields that are not empty."""
    return {name: set(value) for name, value in vars(found).items() if value}


def test_a_port_fault_detaches_the_port_and_leaves_it_up(two):
    plan, spec, ports = two
    assert cuts(wiring(plan, spec, ["port:alpha/en0"])) == {"ports_detached": {ports["alpha/en0"]}}


def test_deaf_and_mute_drop_one_direction_each_at_the_adapters_port(two):
    plan, spec, ports = two
    assert cuts(wiring(plan, spec, ["deaf:alpha/en0"])) == {"deaf_ports": {ports["alpha/en0"]}}
    assert cuts(wiring(plan, spec, ["mute:bravo/en1"])) == {"mute_ports": {ports["bravo/en1"]}}
    both = wiring(plan, spec, ["deaf:alpha/en0", "mute:alpha/en0"])
    assert cuts(both) == {"deaf_ports": {ports["alpha/en0"]}, "mute_ports": {ports["alpha/en0"]}}


def test_a_hung_switch_takes_its_bridge_down_and_a_dead_one_every_port_on_it(two):
    plan, spec, ports = two
    assert cuts(wiring(plan, spec, ["hung:sw1"])) == {"bridges_down": {plan.switch("sw1").bridge}}
    assert cuts(wiring(plan, spec, ["switch:sw1"])) == {"ports_down": {ports["alpha/en0"], ports["bravo/en0"]}}


def test_a_switch_shared_by_two_networks_takes_down_the_ports_of_both():
    plan = plan_of(THREE_NODE)
    spec = plan.spec()
    on_core_a = {a.port for a in plan.adapters if a.switch == "core_a"}
    assert len(on_core_a) == 3
    assert wiring(plan, spec, ["switch:core_a"]).ports_down == on_core_a


def test_a_dead_switch_covers_its_adapters_and_a_hung_one_covers_nothing_else(two):
    plan, spec, _ = two
    switch, adapter = wiring(plan, spec, ["switch:sw1"]), wiring(plan, spec, ["adapter:bravo/en0"])
    assert switch.covers(adapter) and not adapter.covers(switch)
    hung = wiring(plan, spec, ["hung:sw1"])
    assert not hung.covers(wiring(plan, spec, ["port:alpha/en0"])) and not hung.covers(adapter)
    assert wiring(plan, spec, []).empty() and not hung.empty()


def test_an_unknown_component_of_a_new_kind_is_refused_as_simulate_refuses_it(two):
    plan, spec, _ = two
    with pytest.raises(LabError, match="no switch named 'sw9'"):
        wiring(plan, spec, ["hung:sw9"])
    with pytest.raises(LabError, match="node alpha has no adapter en7"):
        wiring(plan, spec, ["deaf:alpha/en7"])
    with pytest.raises(LabError, match="write port:NODE/IFNAME"):
        wiring(plan, spec, ["port:alpha"])


# ------------------------------------------------------------------ the commands, on a dry lab


@pytest.fixture
def dry(tmp_path):
    system = System(dry=True)
    lab = Lab.up(TWO_NODE, base_dir=tmp_path, prefix=PREFIX, system=system)
    return lab, system


def commands(system, fault):
    """What `fault` (a call on the lab) runs: the lines of its `ip -batch`, or a command and its script's lines."""
    start = len(system.commands)
    fault()
    found = []
    for argv in system.commands[start:]:
        words, script = (argv[:argv.index("<<")], argv[argv.index("<<") + 1:]) if "<<" in argv else (argv, [])
        found += script if "-batch" in words else [" ".join(words), *script]
    return found


def test_a_port_is_taken_out_of_its_bridge_and_put_back(dry):
    lab, system = dry
    assert commands(system, lambda: lab.fail("port:alpha/en0")) == [f"link set {PREFIX}a0 nomaster"]
    assert commands(system, lambda: lab.heal("port:alpha/en0")) == [f"link set {PREFIX}a0 master {PREFIX}b0"]


def test_a_hung_switch_is_its_bridge_down_and_a_dead_one_its_ports_down(dry):
    lab, system = dry
    assert commands(system, lambda: lab.fail("hung:sw2")) == [f"link set {PREFIX}b1 down"]
    assert commands(system, lambda: lab.heal("hung:sw2")) == [f"link set {PREFIX}b1 up"]
    ports = [f"{PREFIX}a1", f"{PREFIX}a3"]  # alpha's and bravo's en1
    assert commands(system, lambda: lab.fail("switch:sw2")) == [f"link set {port} down" for port in ports]
    assert commands(system, lambda: lab.heal("switch:sw2")) == [f"link set {port} up" for port in ports]


def test_deaf_and_mute_rewrite_the_switch_namespaces_drops_in_one_transaction(dry):
    lab, system = dry
    deaf = commands(system, lambda: lab.fail("deaf:alpha/en0"))
    assert f"ip netns exec {PREFIX}-sw nft -f -" in deaf
    assert f'    oifname "{PREFIX}a0" drop' in deaf and not any("iifname" in line for line in deaf)
    both = commands(system, lambda: lab.fail("mute:bravo/en0"))
    assert f'    oifname "{PREFIX}a0" drop' in both and f'    iifname "{PREFIX}a2" drop' in both
    assert both[1:3] == ["table bridge halang_lab", "delete table bridge halang_lab"]  # the old rules go first
    lab.heal("deaf:alpha/en0")
    healed = commands(system, lambda: lab.heal("mute:bravo/en0"))
    assert healed == [f"ip netns exec {PREFIX}-sw nft -f -", "table bridge halang_lab",
                      "delete table bridge halang_lab"]  # no drops left: the table is gone


def test_without_nft_a_deaf_fault_is_refused_and_nothing_changes(dry, monkeypatch):
    import halang.lab.system as system_module

    lab, system = dry
    system.dry = False  # only for the check of the tool; the lab itself is still a dry one
    monkeypatch.setattr(system_module.shutil, "which", lambda tool: None)
    before = len(system.commands)
    with pytest.raises(LabError, match=r"'nft' \(Debian package nftables\).*apt-get install -y nftables"):
        lab.fail("deaf:alpha/en0", "port:bravo/en0")
    assert lab.failed == () and len(system.commands) == before


# ------------------------------------------------------------------ ping targets in the plan


def test_ping_targets_get_a_namespace_on_the_core_with_their_subnets_prefix(monkeypatch):
    give_ping_targets(monkeypatch, {"net_ether_01": ("10.10.1.254", "10.10.2.1", "10.10.9.9")})
    plan = plan_of(TWO_NODE)
    [target] = plan.targets
    assert (target.network, target.netns, target.port, target.ifname) == (
        "net_ether_01", f"{PREFIX}-t-net_ether_01", f"{PREFIX}t0", "eth0")
    # in the boot subnet, in the standby subnet; 10.10.9.9 lies in no subnet of the network: nobody probes it
    assert target.addresses == ("10.10.1.254/24", "10.10.2.1/24")
    assert plan.namespaces[-1] == target.netns
    assert plan.clients[0].addresses == ("10.10.1.253/24",)  # the client keeps off the target's address


def test_an_ipv6_ping_target_and_a_network_without_targets(monkeypatch):
    give_ping_targets(monkeypatch, {"net_front6": ("fd12:3456:789a:0020:0::1",), "net_ether_01": ()})
    plan = plan_of(IPV6)
    [target] = plan.targets
    assert target.addresses == ("fd12:3456:789a:20::1/64",) and target.ips == ("fd12:3456:789a:20::1",)
    assert plan_of(TWO_NODE).targets == ()


def test_a_public_ping_target_is_refused_by_name(monkeypatch):
    give_ping_targets(monkeypatch, {"net_ether_01": ("10.10.1.1", "8.8.8.8")})
    with pytest.raises(LabError, match=r"only private addresses .* ping target 8\.8\.8\.8 of network net_ether_01"):
        plan_of(TWO_NODE)


def test_ping_targets_round_trip_and_a_plan_from_before_them_still_reads(monkeypatch):
    give_ping_targets(monkeypatch, {"net_ether_01": ("10.10.1.1",)})
    plan = plan_of(TWO_NODE)
    data = json.loads(json.dumps(plan.to_json()))
    assert LabPlan.from_json(data) == plan
    del data["targets"]
    assert LabPlan.from_json(data).targets == ()  # a lab built before targets can still be torn down


def test_the_lab_may_ping_its_targets(monkeypatch, tmp_path):
    give_ping_targets(monkeypatch, {"net_ether_01": ("10.10.1.1",)})
    lab = Lab.up(TWO_NODE, base_dir=tmp_path, prefix=PREFIX, system=System(dry=True))
    assert "10.10.1.1" in lab.addresses()
    with pytest.raises(LabError, match="not an address of lab"):
        lab.ping(lab.netns("alpha"), "10.10.1.2")


# ------------------------------------------------------------------ flapping


class Recorder:
    def __init__(self, interrupt_at=None):
        self.calls = []
        self.interrupt_at = interrupt_at

    def fail(self):
        self.calls.append("fail")

    def heal(self):
        self.calls.append("heal")

    def step(self, at, what):
        if len(self.calls) == self.interrupt_at:
            raise KeyboardInterrupt


def test_a_flap_fails_and_heals_n_times_every_so_often_and_ends_healed():
    recorder = Recorder()
    changes = flapping(recorder.fail, recorder.heal, 3, 0.05)
    assert recorder.calls == ["fail", "heal"] * 3
    assert [what for _, what in changes] == ["failed", "healed"] * 3
    assert all(at >= number * 0.05 - 0.001 for number, (at, _) in enumerate(changes))
    assert changes[-1][0] < 5 * 0.05 + 1.0


def test_an_interrupted_flap_heals_before_it_ends():
    recorder = Recorder(interrupt_at=3)  # after the second fail
    with pytest.raises(KeyboardInterrupt):
        flapping(recorder.fail, recorder.heal, 5, 0.01, recorder.step)
    assert recorder.calls == ["fail", "heal", "fail", "heal"]
    recorder = Recorder(interrupt_at=2)  # after a heal: nothing to heal
    with pytest.raises(KeyboardInterrupt):
        flapping(recorder.fail, recorder.heal, 5, 0.01, recorder.step)
    assert recorder.calls == ["fail", "heal"]


@pytest.mark.parametrize("times, every, said", [(0, 0.1, "1 or more times, not 0"), (2.5, 0.1, "not 2.5"),
                                                (2, 0, "more than 0 seconds, not 0"), (2, -1, "not -1")])
def test_a_flap_of_no_times_or_no_time_apart_is_refused(times, every, said):
    recorder = Recorder()
    with pytest.raises(LabError, match=said):
        flapping(recorder.fail, recorder.heal, times, every)
    assert recorder.calls == []


@pytest.mark.parametrize("args, said", [
    (["--flap", "0", "--every", "300ms"], "argument --flap: '0' is not a number of times: write 1 or more"),
    (["--flap", "x", "--every", "300ms"], "argument --flap: 'x' is not a number of times"),
    (["--flap", "3", "--every", "0s"], "argument --every: '0s': a flap's changes must be some time apart"),
    (["--flap", "3", "--every", "fast"], "argument --every: 'fast' is not a duration"),
])
def test_the_command_refuses_a_bad_flap_with_exit_2(tmp_path, capsys, args, said):
    with pytest.raises(SystemExit) as caught:
        main(["lab", "fail", "port:alpha/en0", *args, "--base", str(tmp_path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_flap_and_every_go_together(tmp_path, capsys):
    assert main(["lab", "fail", "port:alpha/en0", "--flap", "3", "--base", str(tmp_path)]) == 2
    assert "--flap N and --every DURATION go together" in capsys.readouterr().err
    assert main(["lab", "fail", "port:alpha/en0", "--every", "1s", "--base", str(tmp_path)]) == 2
    assert main(["lab", "fail", "port:alpha/en0", "--flap", "3", "--every", "1s", "--base", str(tmp_path)]) == 2
    assert "no lab is up under" in capsys.readouterr().err
