"""The loop body the daemon and the simulators share (`runtime.node.loop.NodeLoop`): what a deploy's re-executed
process goes on from, and a stall."""

from __future__ import annotations

from runtime.node.loop import NodeLoop, adopted_state
from tests.engine.sim import CONFIG, KEY, Sim
from tests.runtime.helpers import THREE_NODE, spec

TRIO = spec(THREE_NODE.replace("node n1 {", "heartbeat { quorum = majority }\n  node n1 {"))


def _reexecute(sim: Sim, node: str, adopt: bool = True) -> NodeLoop:
    """The node's daemon hands over and runs again, a new incarnation on the same ports, as after a deploy."""
    old = sim.nodes[node].loop
    handover = old.handover(sim.now)
    sim.incarnations += 1
    new = NodeLoop(sim.spec, node, KEY, CONFIG, sim.incarnations, sim.now, old.ports,
                   adopted_state(sim.spec, node, handover))
    if adopt:
        new.adopt(handover, sim.now)
    sim.nodes[node].loop = new
    return new


def test_a_reexecuted_daemon_goes_on_hearing_its_peers_and_keeps_its_groups():
    sim = Sim(TRIO)
    sim.settle()
    held = sim.nodes["n1"].state.holds
    heard = sim.nodes["n1"].loop.detector.heard(sim.now)
    assert held and heard
    new = _reexecute(sim, "n1")
    new.beat(sim.now)
    assert new.report.heard == heard  # its peers go on seeing it in their partition
    new.decide(sim.now)
    assert new.state.holds == held  # its partition still has quorum: nothing is released
    sim.run(2 * TRIO.heartbeat.miss_limit)
    assert sim.nodes["n1"].state.holds == held and not sim.violations


def test_without_what_it_heard_the_new_process_would_see_itself_alone_and_give_up_its_groups():
    sim = Sim(TRIO)
    sim.settle()
    new = _reexecute(sim, "n1", adopt=False)
    new.beat(sim.now)
    assert not new.report.heard
    new.decide(sim.now)
    assert not {group for group, phase in new.state.phases if phase == "online"}


def test_a_stall_past_the_keep_threshold_gives_the_groups_up_and_listens_again():
    sim = Sim(TRIO)
    sim.settle()
    loop = sim.nodes["n1"].loop
    held = loop.state.holds
    stall = TRIO.heartbeat.interval_ms * TRIO.heartbeat.miss_limit
    loop.decide(sim.now + stall)
    assert held and not {group for group, phase in loop.state.phases if phase == "online"}
    assert "did not run for" in sim.nodes["n1"].reasons[-1]
    loop.beat(sim.now + stall)
    assert loop.report.heard  # the stall is taken out of what it heard: its peers go on seeing it in their partition
