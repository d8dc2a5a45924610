"""The operator's requests on simulated nodes (tests/engine/sim.py): a request made on any node is decided by the
partition's leader (move, online, offline) or by the node it names (stop), with the decision core's reasons, and
its answer comes back to the node where it was made."""

from __future__ import annotations

import pytest

from runtime.core.membership import Report, report_body, reports_in
from runtime.core.operator import Answer, Request
from runtime.core.wire import Dropped
from tests.engine.sim import Sim
from tests.runtime.helpers import spec

RULES = spec("""
cluster shop {
  heartbeat { interval = 500ms  miss_limit = 4 }
  node alpha { capacity { cpu = 4 } }
  node bravo { capacity { cpu = 4 } }
  node charlie { capacity { cpu = 2 } }
  network net {
    ipat = alias
    adapter alpha en0 boot 10.1.1.11/24
    adapter bravo en0 boot 10.1.1.12/24
    adapter charlie en0 boot 10.1.1.13/24
    service web_svc 10.2.2.100
    service db_svc 10.2.2.101
  }
  resource_group db {
    nodes       = [alpha, bravo, charlie]
    service_ips = [db_svc]
    requires { cpu = 3 }
  }
  resource_group web {
    nodes               = [bravo, alpha]
    service_ips         = [web_svc]
    after               = [db]
    different_node_from = [db]
  }
}
""")

PLAIN = spec("""
cluster plain {
  heartbeat { interval = 500ms  miss_limit = 4  quorum = majority }
  node alpha { }
  node bravo { }
  node charlie { }
  network net {
    ipat = alias
    adapter alpha en0 boot 10.1.1.11/24
    adapter bravo en0 boot 10.1.1.12/24
    adapter charlie en0 boot 10.1.1.13/24
    service app_svc 10.2.2.100
  }
  resource_group app {
    nodes       = [alpha, bravo, charlie]
    fallback    = higher_priority
    service_ips = [app_svc]
  }
}
""")


def answered(sim: Sim, node: str, request: Request, most: int = 20) -> Answer:
    for _ in range(most):
        sim.tick()
        answer = sim.reply(node, request)
        if answer is not None:
            return answer
    raise AssertionError(f"{request.describe()} was not answered on {node} within {most} ticks")


def ask(sim: Sim, node: str, verb: str, group: str = "", target: str = "", mode: str = "") -> Answer:
    return answered(sim, node, sim.request(node, verb, group, target, mode))


def started(cluster) -> Sim:
    sim = Sim(cluster)
    sim.settle()
    return sim


# ------------------------------------------------------------------ move


def test_a_move_asked_on_any_node_is_done_by_the_leader_and_the_group_moves():
    sim = started(RULES)
    assert sim.placement() == {"db": ("alpha",), "web": ("bravo",)}
    answer = ask(sim, "charlie", "move", "db", "bravo")
    assert (answer.ok, answer.text) == (False, "db on bravo would break a dependency: web on bravo shares a node "
                                                "with db on bravo")
    answer = ask(sim, "bravo", "move", "db", "charlie")
    assert (answer.ok, answer.text) == (False, "charlie would be overloaded: its capacity is less than what its "
                                                "groups require")
    answer = ask(sim, "charlie", "move", "web", "charlie")
    assert (answer.ok, answer.text) == (False, "charlie cannot host web: charlie is not in the node list of web")
    assert sim.placement() == {"db": ("alpha",), "web": ("bravo",)}  # nothing moved for a refusal

    sim.fail("node:charlie")
    sim.settle()
    answer = ask(sim, "bravo", "move", "db", "charlie")
    assert (answer.ok, answer.text) == (False, "charlie cannot host db: charlie is down")


def test_a_group_moved_by_hand_stays_where_it_was_put_until_its_fallback_policy_says_otherwise():
    sim = started(PLAIN)
    assert sim.placement() == {"app": ("alpha",)}
    answer = ask(sim, "charlie", "move", "app", "bravo")
    assert (answer.ok, answer.text) == (True, "app moves from alpha to bravo")
    sim.settle()
    assert sim.placement() == {"app": ("bravo",)}
    assert any("rg_move" in event and "bravo" in event for event in sim.nodes["alpha"].events)
    sim.fail("node:charlie")
    sim.settle()
    sim.recover("node:charlie")
    sim.settle()
    assert sim.placement() == {"app": ("bravo",)}  # a later node coming back is no reason to move
    sim.fail("node:alpha")
    sim.settle()
    sim.recover("node:alpha")
    sim.settle()
    assert sim.placement() == {"app": ("alpha",)}  # fallback = higher_priority: alpha came back
    assert sim.violations == []


def test_moving_a_group_where_it_already_is_is_refused():
    sim = started(PLAIN)
    answer = ask(sim, "alpha", "move", "app", "alpha")
    assert (answer.ok, answer.text) == (False, "app is already on alpha")


def test_without_quorum_every_move_is_refused_with_the_reason():
    sim = started(PLAIN)
    sim.fail("node:bravo", "node:charlie")
    sim.settle()
    assert sim.placement() == {"app": ()}
    answer = ask(sim, "alpha", "online", "app")
    assert not answer.ok
    assert "alpha has no quorum (its partition holds 1 of 3 nodes)" in answer.text


# ------------------------------------------------------------------ offline and online


def test_a_group_taken_offline_stays_offline_through_failures_and_a_new_leader_until_brought_online():
    sim = started(PLAIN)
    answer = ask(sim, "charlie", "offline", "app")
    assert (answer.ok, answer.text) == (True, "app goes offline; it stays offline until halang online or move")
    sim.settle()
    assert sim.placement() == {"app": ()}
    assert any("rg_offline" in event for event in sim.nodes["bravo"].events)
    sim.fail("node:alpha")  # the leader: bravo leads now, from the plan it followed
    sim.settle()
    sim.recover("node:alpha")
    sim.settle()
    assert sim.placement() == {"app": ()}
    answer = ask(sim, "charlie", "offline", "app")
    assert (answer.ok, answer.text) == (False, "app is already offline")
    answer = ask(sim, "charlie", "online", "app")
    assert (answer.ok, answer.text) == (True, "app comes online on alpha")
    sim.settle()
    assert sim.placement() == {"app": ("alpha",)}


def test_a_move_brings_an_offline_group_online_where_it_is_asked():
    sim = started(PLAIN)
    ask(sim, "alpha", "offline", "app")
    sim.settle()
    answer = ask(sim, "alpha", "move", "app", "bravo")
    assert (answer.ok, answer.text) == (True, "app comes online on bravo")
    sim.settle()
    assert sim.placement() == {"app": ("bravo",)}


def test_offline_takes_the_groups_that_depend_on_it_and_a_child_cannot_come_online_alone():
    sim = started(RULES)
    answer = ask(sim, "alpha", "offline", "db")
    assert (answer.ok, answer.text) == (True, "db goes offline, with web that depend on it; it stays offline "
                                              "until halang online or move")
    sim.settle()
    assert sim.placement() == {"db": (), "web": ()}
    answer = ask(sim, "alpha", "online", "web")
    assert not answer.ok
    assert "web is online while its parent db is offline" in answer.text
    assert ask(sim, "alpha", "online", "db").ok
    assert ask(sim, "alpha", "online", "web").ok
    sim.settle()
    assert sim.placement() == {"db": ("alpha",), "web": ("bravo",)}


# ------------------------------------------------------------------ stop


def test_stop_with_takeover_moves_the_groups_off_the_node_and_then_its_daemon_leaves():
    sim = started(PLAIN)
    answer = ask(sim, "bravo", "stop", target="alpha", mode="takeover")
    assert (answer.ok, answer.text) == (True, "alpha stops: its groups move to the other nodes, then its daemon "
                                              "leaves")
    sim.settle()
    assert sim.left == ["alpha"]
    assert sim.placement() == {"app": ("bravo",)}
    assert sim.violations == []
    answer = ask(sim, "charlie", "stop", target="alpha", mode="takeover")
    assert (answer.ok, answer.text) == (False, "alpha is not running: its daemon is not heard")


def test_stop_with_offline_takes_the_nodes_groups_offline_and_they_stay_offline():
    sim = started(PLAIN)
    answer = ask(sim, "alpha", "stop", target="alpha", mode="offline")
    assert answer.ok, answer.text
    sim.settle()
    assert sim.left == ["alpha"]
    assert sim.placement() == {"app": ()}
    answer = ask(sim, "bravo", "online", "app")
    assert (answer.ok, answer.text) == (True, "app comes online on bravo")
    sim.settle()
    assert sim.placement() == {"app": ("bravo",)}


def test_a_node_that_is_stopping_is_no_target():
    sim = started(PLAIN)
    sim.stalled.add(("release", "app", "alpha"))  # alpha's release takes a while
    assert ask(sim, "alpha", "stop", target="alpha", mode="takeover").ok
    sim.run(10)  # the plan puts app on bravo; alpha is still releasing it
    assert sim.holders("app") == ["alpha"]
    answer = ask(sim, "bravo", "move", "app", "alpha")
    assert (answer.ok, answer.text) == (False, "alpha is stopping")
    sim.finish("release", "app", "alpha")
    sim.settle()
    assert sim.placement() == {"app": ("bravo",)}


# ------------------------------------------------------------------ on the wire


def test_requests_answers_and_the_offline_groups_travel_in_reports():
    report = Report("alpha", 1, 2, frozenset(), frozenset(), False, (), "", offline=("app",), stopping="takeover",
                    requests=(Request("alpha/1/1", "move", "app", "bravo"),),
                    answers=(Answer("bravo/3/1", False, "app is already offline"),))
    assert reports_in(PLAIN, report_body({"alpha": report})) == [report]


@pytest.mark.parametrize("request_data", [
    ["alpha/1/1", "move", "nosuch", "bravo", ""],
    ["alpha/1/1", "reboot", "", "", ""],
    ["alpha/1/1", "stop", "", "alpha", "now"],
    ["", "offline", "app", "", ""],
    ["alpha/1/1", "move", "app"],
])
def test_a_report_with_a_request_that_does_not_fit_the_cluster_is_dropped(request_data):
    body = report_body({"alpha": Report("alpha", 1, 2, frozenset(), frozenset(), False, (), "")})
    body["r"]["alpha"][12] = [request_data]
    with pytest.raises(Dropped) as caught:
        reports_in(PLAIN, body)
    assert caught.value.reason == "malformed"


def test_a_request_beyond_what_a_report_carries_is_refused_at_once_and_the_others_are_answered():
    sim = started(PLAIN)
    asked = [sim.request("bravo", "move", "app", "charlie") for _ in range(9)]
    sim.tick()
    assert sim.reply("bravo", asked[-1]) == Answer(asked[-1].id, False, "8 requests made on bravo are waiting for "
                                                                        "their answers already: try again soon")
    answers = [answered(sim, "bravo", request) for request in asked[:8]]
    assert [answer.ok for answer in answers] == [True] + [False] * 7
    assert {answer.text for answer in answers[1:]} == {"app is already on charlie"}
