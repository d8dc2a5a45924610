"""Whole groups on simulated nodes (tests/engine/sim.py): acquisitions and releases that take time or fail, the
node that refuses a group after its resources failed there, monitors that restart then fall over, and `after`
ordering. The executors' outcomes are the simulator's (`outcomes`, `stalled`)."""

from __future__ import annotations

from runtime.core.engine import ACQUIRING, ERROR, ONLINE, RELEASING
from tests.engine.sim import Sim
from tests.engine.test_operator import PLAIN
from tests.runtime.helpers import spec

TWO = spec("""
cluster shop {
  heartbeat { interval = 500ms  miss_limit = 4 }
  node alpha { }
  node bravo { }
  network net {
    ipat = replace
    adapter alpha en0 boot 10.1.1.11/24
    adapter bravo en0 boot 10.1.1.12/24
    service shop_svc 10.1.1.100
  }
  link serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
  resource_group shop {
    nodes       = [alpha, bravo]
    service_ips = [shop_svc]
    filesystem "/srv/shop" { device = "/dev/vg/shop"  fstype = "ext4" }
    application web {
      start = "/opt/web/start"
      stop  = "/opt/web/stop"
      monitor { command = "/opt/web/check"  interval = 1s  timeout = 500ms  restarts = 2 }
    }
  }
}
""")

LAYERS = spec("""
cluster erp {
  heartbeat { interval = 500ms  miss_limit = 4 }
  node alpha { }
  node bravo { }
  node charlie { }
  network net {
    ipat = alias
    adapter alpha en0 boot 10.1.1.11/24
    adapter bravo en0 boot 10.1.1.12/24
    adapter charlie en0 boot 10.1.1.13/24
    service db_svc 10.2.2.100
    service app_svc 10.2.2.101
  }
  resource_group db {
    nodes       = [alpha, charlie]
    service_ips = [db_svc]
  }
  resource_group app {
    nodes       = [bravo, charlie]
    service_ips = [app_svc]
    after       = [db]
  }
}
""")


def phase(sim: Sim, node: str, group: str) -> str:
    return dict(sim.nodes[node].state.phases).get(group, "")


def test_a_group_online_everywhere_it_is_placed_when_every_resource_comes_up():
    sim = Sim(TWO)
    sim.settle()
    assert sim.placement() == {"shop": ("alpha",)}
    assert phase(sim, "alpha", "shop") == ONLINE
    assert sim.addresses("alpha") == {"shop_svc": "en0"}
    assert not sim.violations


def test_a_group_whose_acquisition_fails_on_the_home_node_comes_online_on_the_next():
    sim = Sim(TWO, outcomes={("acquire", "shop", "alpha"): (False, "filesystem /srv/shop: mount failed", True)})
    sim.settle()
    assert sim.placement() == {"shop": ("bravo",)}
    assert phase(sim, "bravo", "shop") == ONLINE
    assert sim.nodes["alpha"].state.failed == {"shop"}
    assert sim.addresses("alpha") == {} and sim.addresses("bravo") == {"shop_svc": "en0"}
    assert any("failed to come online here and was rolled back" in reason for reason in sim.nodes["alpha"].reasons)
    assert not sim.violations


def test_a_group_that_fails_on_every_node_stays_offline():
    sim = Sim(TWO, outcomes={("acquire", "shop", node): (False, "no such volume group", True)
                             for node in ("alpha", "bravo")})
    sim.settle()
    assert sim.placement() == {"shop": ()}
    assert sim.nodes["alpha"].state.failed == sim.nodes["bravo"].state.failed == {"shop"}


def test_a_node_refuses_a_failed_group_until_its_daemon_restarts():
    sim = Sim(TWO, outcomes={("acquire", "shop", "alpha"): (False, "mount failed", True)})
    sim.settle()
    del sim.outcomes[("acquire", "shop", "alpha")]
    sim.fail("node:bravo")
    sim.settle()
    assert sim.placement() == {"shop": ()}, "alpha still refuses it"
    sim.fail("node:alpha")
    sim.recover("node:alpha")  # a new daemon
    sim.settle()
    assert sim.placement() == {"shop": ("alpha",)}


def test_a_failed_rollback_leaves_the_group_in_error_held_and_taken_by_no_other_node():
    sim = Sim(TWO, outcomes={("acquire", "shop", "alpha"): (False, "start failed; the rollback failed too", False)})
    sim.settle()
    sim.run(20)
    assert phase(sim, "alpha", "shop") == ERROR
    assert sim.holders("shop") == ["alpha"]
    assert any("waiting for the release of shop" in reason for reason in sim.nodes["bravo"].reasons)
    assert not sim.violations


def test_the_next_node_waits_until_the_previous_holder_has_released_the_group():
    sim = Sim(TWO, outcomes={("probe", "shop", "alpha"): (False, "check exited with status 1", True)})
    sim.stalled.add(("release", "shop", "alpha"))
    sim.settle()
    sim.run(20)
    assert phase(sim, "alpha", "shop") == RELEASING
    assert sim.holders("shop") == ["alpha"]
    assert sim.addresses("alpha") == {"shop_svc": "en0"}, "its addresses go last"
    assert any("waiting for the release of shop (held by alpha)" in reason for reason in sim.nodes["bravo"].reasons)
    sim.finish("release", "shop", "alpha")
    sim.settle()
    assert sim.placement() == {"shop": ("bravo",)}
    assert sim.addresses("alpha") == {} and sim.addresses("bravo") == {"shop_svc": "en0"}
    assert not sim.violations


def test_a_group_that_may_not_be_kept_loses_its_addresses_at_once():
    sim = Sim(TWO)
    sim.settle()
    sim.stalled.add(("release", "shop", "alpha"))
    sim.fail("adapter:alpha/en0")  # alpha can no longer host it
    sim.run(10)
    assert phase(sim, "alpha", "shop") == RELEASING
    assert sim.addresses("alpha") == {}


def test_the_addresses_come_first_and_stay_while_the_rest_of_the_group_is_acquired():
    sim = Sim(TWO)
    sim.stalled.add(("acquire", "shop", "alpha"))
    sim.settle()
    assert phase(sim, "alpha", "shop") == ACQUIRING
    assert sim.addresses("alpha") == {"shop_svc": "en0"}
    assert sim.nodes["alpha"].report.online == () and sim.nodes["alpha"].report.holds == ("shop",)


def test_a_failing_monitor_restarts_the_application_then_the_group_falls_over_after_its_restarts():
    sim = Sim(TWO, outcomes={("probe", "shop", "alpha"): (False, "check exited with status 1", True)})
    sim.settle()
    sim.run(40)
    kinds = [kind for _, kind, group in sim.nodes["alpha"].actions if kind != "probe"]
    assert kinds == ["acquire", "restart", "restart", "release"]
    assert sim.placement() == {"shop": ("bravo",)}
    assert sim.nodes["alpha"].state.failed == {"shop"}
    assert any("falls over: web its monitor failed after 2 restarts" in reason
               for reason in sim.nodes["alpha"].reasons)
    assert not sim.violations


def test_a_healthy_monitor_probes_once_an_interval_and_changes_nothing():
    sim = Sim(TWO)
    sim.settle()
    before = len([kind for _, kind, _ in sim.nodes["alpha"].actions if kind == "probe"])
    sim.run(20)  # 10 s; the next probe is due an interval after the last one reported
    after = len([kind for _, kind, _ in sim.nodes["alpha"].actions if kind == "probe"])
    assert 5 <= after - before <= 10
    assert sim.placement() == {"shop": ("alpha",)}


def test_a_child_comes_online_only_once_its_parent_is_online():
    sim = Sim(LAYERS)
    sim.stalled.add(("acquire", "db", "alpha"))
    sim.settle()
    assert phase(sim, "alpha", "db") == ACQUIRING
    assert sim.holders("app") == []
    assert any("waiting for the order of dependencies: app (after db)" in reason for reason in sim.nodes["bravo"].reasons)
    sim.finish("acquire", "db", "alpha")
    sim.settle()
    assert sim.placement() == {"db": ("alpha",), "app": ("bravo",)}
    acquired = {group: at for at, kind, group in sim.nodes["alpha"].actions + sim.nodes["bravo"].actions
                if kind == "acquire"}
    assert acquired["db"] < acquired["app"]


def test_a_child_goes_offline_before_its_parent_moves_and_comes_back_after():
    sim = Sim(LAYERS)
    sim.settle()
    sim.stalled.add(("release", "app", "bravo"))
    sim.fail("adapter:alpha/en0")  # alpha can no longer host db: it moves to charlie
    sim.run(20)
    assert phase(sim, "bravo", "app") == RELEASING
    assert sim.holders("db") == [], "the parent's new node waits for the child to go offline first"
    sim.finish("release", "app", "bravo")
    sim.settle()
    assert sim.placement() == {"db": ("charlie",), "app": ("bravo",)}
    bravo = [kind for _, kind, group in sim.nodes["bravo"].actions if group == "app"]
    assert bravo == ["acquire", "release", "acquire"]
    assert not sim.violations


BACK = spec("""
cluster back {
  heartbeat { interval = 500ms  miss_limit = 4 }
  node alpha { }
  node bravo { }
  network net {
    ipat = replace
    adapter alpha en0 boot 10.1.1.11/24
    adapter bravo en0 boot 10.1.1.12/24
    service web_svc 10.1.1.100
  }
  link serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
  resource_group web {
    nodes          = [alpha, bravo]
    service_ips    = [web_svc]
    fallback       = higher_priority
    fallback_delay = 5s
  }
}
""")


def test_a_fallback_waits_its_delay_even_when_the_lead_passes_to_the_node_that_rejoined():
    sim = Sim(BACK)
    sim.settle()
    sim.fail("node:alpha")
    sim.settle()
    assert sim.placement() == {"web": ("bravo",)}
    sim.recover("node:alpha")  # alpha is first in the file: once it has followed bravo's plan, it leads
    recovered_at, moved_at = sim.now, None
    for _ in range(60):
        sim.tick()
        if moved_at is None and "alpha" in sim.holders("web"):
            moved_at = sim.now
    assert sim.placement() == {"web": ("alpha",)}
    assert any("fallback: web bravo -> alpha" in reason for reason in sim.nodes["alpha"].reasons)
    assert moved_at - recovered_at >= 5000 + 2 * 2000, "a detection time to be seen, its listening, the delay"
    assert not sim.violations


def test_a_group_hurried_out_and_taken_back_as_its_release_ends_gets_its_addresses_back():
    """Quorum lost: alpha releases its group at once (addresses first); quorum is back before the release ends,
    and the plan gives the group to alpha again in the decision that sees the release end."""
    sim = Sim(PLAIN)
    sim.settle()
    assert sim.placement() == {"app": ("alpha",)}
    sim.stalled.add(("release", "app", "alpha"))
    sim.fail("node:bravo", "node:charlie")
    sim.run(8)
    assert sim.nodes["alpha"].state.hurried == frozenset({"app"}) and sim.addresses("alpha") == {}
    sim.recover("node:bravo", "node:charlie")
    sim.run(30)
    assert sim.nodes["alpha"].state.plan.nodes("app") == ("alpha",)
    sim.finish("release", "app", "alpha")
    sim.settle()
    assert sim.placement() == {"app": ("alpha",)}
    assert sim.addresses("alpha") == {"app_svc": "en0"}
