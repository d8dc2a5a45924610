"""The operator's commands against the real daemons of a lab: `halang status`, `move`, `online`, `offline` and
`stop` as an administrator types them, through each node's control socket, checked by what the node namespaces
hold and what the client namespace reaches."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from halang.lab.engines import Engines
from tests.lab.conftest import TWO_NODE

pytestmark = pytest.mark.root


def halang(*argv: str, timeout: float = 150) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "halang.cli", *argv], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def cluster(lab_factory, tmp_path):
    lab = lab_factory(TWO_NODE)
    engines = Engines(lab, TWO_NODE, tmp_path)
    engines.start()
    try:
        placed = {"ledger_svc": ["alpha"], "gateway_svc": ["bravo"]}
        assert engines.wait_for(placed, within=6 * engines.detection_s) == placed
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(group["state"] != "online" for node in ("alpha", "bravo")
                                                  for group in status(engines, node)["groups"]):
            time.sleep(0.1)
        yield engines
    finally:
        engines.stop()


def on(engines: Engines, node: str) -> list[str]:
    return ["--state-dir", str(engines.state_dir(node))]


def status(engines: Engines, node: str) -> dict:
    done = halang("status", "--format", "json", *on(engines, node))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_status_from_either_node_shows_the_same_cluster_and_why_each_group_is_where_it_is(cluster):
    seen = {node: status(cluster, node) for node in ("alpha", "bravo")}
    for node, view in seen.items():
        assert view["node"] == node
        assert [(group["name"], group["state"], group["placed"]) for group in view["groups"]] == \
            [("ledger", "online", ["alpha"]), ("gateway", "online", ["bravo"])]
        assert all(path["heard"] for path in view["paths"])
        assert view["leader"] == "alpha" and view["agreed"]
    assert seen["alpha"]["view"] == seen["bravo"]["view"]
    text = halang("status", *on(cluster, "bravo"))
    assert text.returncode == 0
    assert "ledger   online  alpha  alpha is first in its list" in text.stdout

    cluster.lab.fail("adapter:alpha/en0")  # its service address moves to en1; the group stays
    deadline = time.monotonic() + 4 * cluster.detection_s
    while time.monotonic() < deadline and "alpha/en0" not in halang("status", *on(cluster, "bravo")).stdout:
        time.sleep(0.2)
    assert "Adapters failed: alpha/en0 (no carrier)" in halang("status", *on(cluster, "bravo")).stdout


def test_a_manual_move_moves_the_group_and_its_address_and_a_refused_move_says_why(cluster):
    done = halang("move", "ledger", "--to", "bravo", *on(cluster, "alpha"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("accepted: ledger moves from alpha to bravo\n")
    assert "done: ledger is online on bravo" in done.stdout
    assert cluster.running_holders() == {"ledger_svc": ["bravo"], "gateway_svc": ["bravo"]}
    assert cluster.answers("ledger_svc", "net_ether_01")
    moves = [record for record in cluster.log("alpha") if record["event"] == "rg_move"]
    assert moves and moves[-1]["details"]["group"] == "ledger"

    cluster.lab.fail("node:alpha")
    cluster.kill("alpha")
    time.sleep(2 * cluster.detection_s)
    done = halang("move", "ledger", "--to", "alpha", *on(cluster, "bravo"))
    assert (done.returncode, done.stdout) == (1, "refused: alpha cannot host ledger: alpha is down\n")
    done = halang("move", "ledger", "--to", "nobody", *on(cluster, "bravo"))
    assert (done.returncode, done.stderr) == (2, "halang: no node named 'nobody' (the nodes: alpha, bravo)\n")
    assert cluster.running_holders() == {"ledger_svc": ["bravo"], "gateway_svc": ["bravo"]}


def test_offline_stays_offline_through_a_failure_and_online_brings_it_back(cluster):
    done = halang("offline", "gateway", *on(cluster, "alpha"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "done: gateway is offline" in done.stdout
    assert cluster.running_holders()["gateway_svc"] == []
    assert not cluster.answers("gateway_svc", "net_ether_01")
    cluster.lab.fail("link:hb_serial")
    cluster.lab.heal("link:hb_serial")
    time.sleep(2 * cluster.detection_s)
    assert cluster.running_holders()["gateway_svc"] == []
    assert status(cluster, "bravo")["offline"] == ["gateway"]
    done = halang("online", "gateway", *on(cluster, "bravo"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("accepted: gateway comes online on bravo\n")
    assert cluster.running_holders()["gateway_svc"] == ["bravo"]
    assert cluster.answers("gateway_svc", "net_ether_01")


def test_stop_with_takeover_moves_the_groups_then_the_daemon_leaves(cluster):
    done = halang("stop", "--node", "alpha", "--takeover", *on(cluster, "bravo"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "done: alpha is down" in done.stdout
    cluster.processes["alpha"].wait(timeout=10)
    assert cluster.processes["alpha"].returncode == 0
    assert cluster.holders() == {"ledger_svc": ["bravo"], "gateway_svc": ["bravo"]}  # alpha's namespace too
    assert cluster.answers("ledger_svc", "net_ether_01")
    assert [record["released"] for record in cluster.log("alpha") if record["event"] == "stop"] == [[]]
    assert any(record["event"] == "release" and record["group"] == "ledger" for record in cluster.log("alpha"))



def test_stop_with_offline_takes_the_nodes_groups_offline_and_they_stay_offline_once_it_left(cluster):
    done = halang("stop", "--node", "alpha", "--offline", *on(cluster, "alpha"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "done: the daemon of alpha left" in done.stdout
    cluster.processes["alpha"].wait(timeout=10)
    time.sleep(2 * cluster.detection_s)  # bravo sees alpha gone, leads, and plans without it
    assert cluster.holders() == {"ledger_svc": [], "gateway_svc": ["bravo"]}
    seen = status(cluster, "bravo")
    assert seen["leader"] == "bravo" and seen["offline"] == ["ledger"]
    assert [node["state"] for node in seen["nodes"]] == ["down", "up"]
    done = halang("online", "ledger", *on(cluster, "bravo"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert cluster.running_holders() == {"ledger_svc": ["bravo"], "gateway_svc": ["bravo"]}
