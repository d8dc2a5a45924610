"""The operator's commands as typed, where no daemon is needed: what `status` shows for a cluster in a known
state (computed by the runtime's `cluster_status` on simulated nodes), and the clear messages for a missing
daemon or a node without a bundle."""

from __future__ import annotations

import json
import os

from halang.cli import main
from halang.control import status_text
from runtime.core.status import cluster_status
from tests.engine.sim import Sim
from tests.engine.test_operator import PLAIN, RULES, ask

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "two_node_replace.ha")


def seen_by(sim: Sim, node: str) -> dict:
    own = sim.nodes[node]
    return cluster_status(sim.spec, own.state, own.table.fresh(sim.now, sim.detection))


def test_status_says_where_each_group_runs_and_why_there():
    sim = Sim(PLAIN)
    sim.settle()
    sim.fail("node:alpha")
    sim.settle()
    seen = seen_by(sim, "charlie")
    assert [(node["name"], node["state"]) for node in seen["nodes"]] == \
        [("alpha", "down"), ("bravo", "up"), ("charlie", "up")]
    assert seen["groups"] == [{"name": "app", "nodes": ["alpha", "bravo", "charlie"], "placed": ["bravo"],
                               "holders": {"bravo": "online"}, "state": "online", "why": "alpha is down"}]
    assert seen["leader"] == "bravo" and seen["agreed"]
    assert seen["plan"] == f"{seen['view']}/0", "a plan id reads VIEW/REVISION"
    text = status_text(seen)
    assert f"plan {seen['view']}/0" in text
    assert "  app  online  bravo  alpha is down" in text
    assert "  alpha    down  not heard on any path" in text


def test_status_names_what_the_operator_did():
    sim = Sim(RULES)
    sim.settle()
    ask(sim, "alpha", "offline", "db")
    sim.settle()
    seen = seen_by(sim, "bravo")
    assert [(group["name"], group["state"], group["why"]) for group in seen["groups"]] == [
        ("db", "offline", "taken offline by the operator (halang online or move brings it back)"),
        ("web", "offline", "taken offline by the operator (halang online or move brings it back)")]
    assert "Held offline by the operator: db, web" in status_text(seen)


def test_status_without_a_daemon_is_a_clear_message_and_exit_2(tmp_path, capsys):
    assert main(["status", "--state-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"halang: no halang daemon runs here: {tmp_path / 'control.sock'} does not "
                                       "exist (start it with systemctl start halang-node@NODE, or say where with "
                                       "--state-dir)\n")


def test_start_on_a_node_without_a_bundle_says_so(tmp_path, capsys):
    (tmp_path / "alpha").mkdir()
    assert main(["start", EXAMPLE, "--node", "alpha", "--transport", f"local:{tmp_path}"]) == 2
    err = capsys.readouterr().err
    assert f"halang: alpha: no bundle is deployed here ({tmp_path / 'alpha'}/var/lib/halang/current.pyz): halang " \
           "deploy first" in err


def test_start_when_the_daemon_runs_already_starts_nothing(tmp_path, capsys):
    home = tmp_path / "alpha" / "var" / "lib" / "halang"
    home.mkdir(parents=True)
    (home / "daemon.json").write_text(json.dumps({"pid": os.getpid(), "bundle": "0" * 16, "incarnation": 1}))
    assert main(["start", EXAMPLE, "--node", "alpha", "--transport", f"local:{tmp_path}"]) == 0
    assert f"alpha: its daemon runs already (pid {os.getpid()})" in capsys.readouterr().out


def test_start_of_a_node_the_file_does_not_have_is_refused(tmp_path, capsys):
    assert main(["start", EXAMPLE, "--node", "zulu", "--transport", f"local:{tmp_path}"]) == 2
    assert "no node named 'zulu'" in capsys.readouterr().err


def test_start_without_a_file_starts_the_daemon_of_this_machine(tmp_path, capsys):
    from halang.deploy import Console, start_command
    from halang.deploy.transport import ThisMachine

    class HereInAFolder(ThisMachine):  # this machine, with its root in the test's folder
        def root(self, node: str) -> str:
            return str(tmp_path)

    said, warned = [], []
    console = Console(said.append, warned.append, lambda node, text: None, None, False)
    assert start_command(None, "alpha", HereInAFolder(), console) == 2
    assert warned == [f"halang: alpha: no bundle is deployed here ({tmp_path}/var/lib/halang/current.pyz): halang "
                      "deploy first"]


def test_without_a_state_dir_status_asks_this_node_else_the_first_lab_node_whose_daemon_listens(tmp_path,
                                                                                               monkeypatch):
    from halang import control
    from halang.lab import command

    own, alpha, bravo = tmp_path / "own", tmp_path / "alpha", tmp_path / "bravo"
    for folder in (own, alpha, bravo):
        folder.mkdir()
    monkeypatch.setattr(control, "DEFAULT_STATE_DIR", str(own))
    monkeypatch.setattr(command, "lab_state_dirs", lambda: {"alpha": alpha, "bravo": bravo})
    (bravo / "control.sock").touch()
    assert control.find_socket(None) == bravo / "control.sock"
    (own / "control.sock").touch()
    assert control.find_socket(None) == own / "control.sock"
    assert control.find_socket(str(alpha)) == alpha / "control.sock"
