"""A deploy's release, `decide` driven directly: the groups a deploy restarts or moves (`Observation.release`) are
released, children first, their addresses at once, and never taken again before the daemon hands over to the new
bundle (`handover_ready`). The nodes start on the simulator (tests/engine/sim.py); then one node's decisions are
fed by hand."""

from __future__ import annotations

from runtime.core.engine import ACQUIRING, ONLINE, Acquire, Addresses, Done, EngineState, Observation, Release, decide, \
    handover_ready, own_report
from tests.engine.sim import Sim
from tests.runtime.helpers import spec

LAYERS = spec("""
cluster erp {
  heartbeat { interval = 500ms  miss_limit = 4 }
  node alpha { }
  node bravo { }
  network net {
    ipat = alias
    adapter alpha en0 boot 10.1.1.11/24
    adapter bravo en0 boot 10.1.1.12/24
    service db_svc 10.2.2.100
    service app_svc 10.2.2.101
    service web_svc 10.2.2.102
  }
  resource_group db {
    nodes       = [alpha, bravo]
    service_ips = [db_svc]
  }
  resource_group app {
    nodes       = [alpha, bravo]
    service_ips = [app_svc]
    after       = [db]
  }
  resource_group web {
    nodes       = [bravo, alpha]
    service_ips = [web_svc]
  }
}
""")


class Alpha:
    """alpha once the cluster has settled (db and app here, web on bravo), and what it hears then."""

    def __init__(self) -> None:
        sim = Sim(LAYERS)
        sim.settle()
        node = sim.nodes["alpha"]
        self.state, self.now = node.state, sim.now
        self.acquire = node.table.fresh(sim.now, sim.detection)
        self.keep = node.table.fresh(sim.now, sim.detection - sim.interval)

    def decide(self, **given):
        """The next decision, 10 ms after the last (the reports heard stay fresh)."""
        self.now += 10
        observation = Observation(self.now, self.acquire, self.keep, True, frozenset(self.acquire), **given)
        self.state, decision = decide(LAYERS, self.state, observation)
        return decision


def released(decision) -> list:
    return [action.group for action in decision.actions if isinstance(action, Release)]


def labels(decision) -> list:
    """The labels of the decision's Addresses action (None if it has none)."""
    found = [action for action in decision.actions if isinstance(action, Addresses)]
    return [label for label, _, _ in found[0].held] if found else None


def test_a_deploy_releases_children_first_and_takes_nothing_back_until_the_handover():
    alpha = Alpha()
    assert alpha.state.holds == {"db", "app"} and handover_ready(alpha.state)

    decision = alpha.decide(release=frozenset({"db", "app"}))
    assert released(decision) == ["app"], "db waits for its child"
    assert labels(decision) == ["db_svc"], "app's address goes at once"
    assert "releasing app for a deploy that restarts or moves it" in decision.reason
    assert alpha.state.deploying == {"db", "app"}
    assert not handover_ready(alpha.state)

    decision = alpha.decide(done=(Done("release", "app", True),))
    assert released(decision) == ["db"] and labels(decision) == []
    assert not handover_ready(alpha.state)

    decision = alpha.decide(done=(Done("release", "db", True),))
    assert alpha.state.holds == frozenset() and handover_ready(alpha.state)
    for _ in range(3):
        decision = alpha.decide()
        assert not any(isinstance(action, Acquire) for action in decision.actions)
    assert alpha.state.plan.nodes("db") == alpha.state.plan.nodes("app") == ("alpha",), "the plan keeps them here"
    report = own_report(LAYERS, None, alpha.state, 1, frozenset(), frozenset(), False, "", True, alpha.now)
    assert report.failed == (), "not refused: the new configuration places them"


def test_a_deploy_naming_a_group_not_held_here_changes_nothing():
    plain, deployed = Alpha(), Alpha()
    assert deployed.decide(release=frozenset({"web"})) == plain.decide()
    assert deployed.state == plain.state and deployed.state.deploying == frozenset()


def test_no_handover_while_an_acquisition_is_half_done():
    assert not handover_ready(EngineState("alpha", holds=frozenset({"db"}), phases=(("db", ACQUIRING),)))
    assert handover_ready(EngineState("alpha", holds=frozenset({"db"}), phases=(("db", ONLINE),)))
