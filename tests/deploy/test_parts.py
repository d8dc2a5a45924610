"""The parts of deploy one at a time: where nodes are reached, ssh's options, the node agent's Python, the
daemon's handover, the command line."""

from __future__ import annotations

import ast
import json
import os
import stat
from pathlib import Path

import pytest

from halang.cli import main
from halang.deploy.plan import PlanError, Target, running, targets
from halang.deploy.transport import SshTransport, make_transport
from runtime.node.daemon import HANDOVER, take_handover
from runtime.node.preflight import program
from runtime.core.signing import signature, signed_by
from tests.deploy.nodes import snapshot_of

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "halang" / "deploy"


def test_a_node_is_reached_at_its_ssh_attribute_else_at_its_first_boot_address():
    snapshot = snapshot_of(ROOT / "examples" / "two_node_replace.ha")
    snapshot["nodes"][1]["ssh"] = {"user": "admin", "host": "bravo.example.com", "port": 2222}
    assert targets(snapshot) == {"alpha": Target("alpha", "10.10.1.11"),
                                 "bravo": Target("bravo", "bravo.example.com", "admin", 2222)}


def test_a_node_with_neither_cannot_be_reached():
    snapshot = snapshot_of(ROOT / "examples" / "two_node_replace.ha")
    for network in snapshot["networks"]:
        network["adapters"] = [adapter for adapter in network["adapters"] if adapter["node"] != "bravo"]
    with pytest.raises(PlanError, match="node bravo has no ssh attribute and no boot address"):
        targets(snapshot)


def test_running_groups_nodes_by_the_bundle_they_run():
    statuses = {"alpha": {"current": {"hash": "a"}}, "bravo": {"current": None}, "charlie": {"current": {"hash": "a"}}}
    assert running(statuses) == {"a": ["alpha", "charlie"], None: ["bravo"]}


def test_a_script_line_runs_its_first_word():
    assert program('/opt/app/bin/start --fast "x y"') == "/opt/app/bin/start"
    assert program("/opt/unbalanced 'quote") == "/opt/unbalanced"


def test_a_signature_is_over_the_content_hash_under_the_key():
    sig = signature(b"key", "ab" * 32)
    assert signed_by(b"key", "ab" * 32, sig.upper() + "\n")
    assert not signed_by(b"other", "ab" * 32, sig)
    assert not signed_by(b"key", "cd" * 32, sig)


def fake_ssh(tmp_path: Path, strict: str) -> Path:
    """An `ssh` that answers -G with the given StrictHostKeyChecking and otherwise prints its arguments."""
    script = tmp_path / "ssh"
    script.write_text("#!/bin/sh\n"
                      f'case " $* " in *" -G "*) echo "stricthostkeychecking {strict}"; echo "port 22"; exit 0;; esac\n'
                      'for a in "$@"; do echo "$a"; done\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.mark.parametrize("strict, added", [("false", ["-o", "StrictHostKeyChecking=accept-new"]), ("ask", []),
                                           ("true", []), ("accept-new", [])])
def test_ssh_never_lets_a_changed_host_key_pass(tmp_path, strict, added):
    transport = SshTransport(command=[str(fake_ssh(tmp_path, strict))])
    done = transport.run(Target("alpha", "10.0.0.1", "root", 2222), ["python3", "-c", "print('a b')"])
    argv = done.stdout.splitlines()
    assert argv[:4] == ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
    assert argv[4:4 + len(added)] == added
    assert argv[-7:-1] == ["-p", "2222", "-l", "root", "10.0.0.1", "--"]
    assert argv[-1] == "python3 -c 'print('\"'\"'a b'\"'\"')'"  # one word for the remote shell, quoted


def test_an_ssh_that_cannot_connect_is_unreachable(tmp_path):
    from halang.deploy.transport import Unreachable

    script = tmp_path / "ssh"
    script.write_text("#!/bin/sh\necho 'Host key verification failed.' >&2\nexit 255\n")
    script.chmod(0o755)
    with pytest.raises(Unreachable, match="ssh to 10.0.0.1: Host key verification failed."):
        SshTransport(command=[str(script)]).run(Target("alpha", "10.0.0.1"), ["true"])


def test_an_ssh_that_is_not_installed_is_unreachable(tmp_path):
    from halang.deploy.transport import Unreachable

    with pytest.raises(Unreachable, match="cannot run .*no-ssh-here"):
        SshTransport(command=[str(tmp_path / "no-ssh-here")]).run(Target("alpha", "10.0.0.1"), ["true"])


def test_transport_names():
    assert isinstance(make_transport("ssh"), SshTransport)
    assert str(make_transport("local:/tmp/x").root("alpha")) == "/tmp/x/alpha"
    with pytest.raises(ValueError, match="--transport is ssh or local:DIR"):
        make_transport("telnet")


def test_the_node_agent_and_the_probe_are_python_3_9_and_the_standard_library():
    for path in (DEPLOY / "node_agent.py", ROOT / "runtime" / "node" / "preflight.py", ROOT / "runtime" / "core" / "signing.py"):
        tree = ast.parse(path.read_text(), str(path), feature_version=(3, 9))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module]
                assert not [name for name in names if name and name.split(".")[0] in ("halang", "pyroute2")], path


def test_deploy_planning_is_pure():
    tree = ast.parse((DEPLOY / "plan.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"time", "socket", "subprocess", "os", "threading", "pyroute2"}


def test_a_handover_is_taken_by_the_same_process_only_and_once(tmp_path):
    (tmp_path / HANDOVER).write_text(json.dumps({"pid": os.getpid(), "holds": ["ledger"], "addresses": []}))
    assert take_handover(str(tmp_path))["holds"] == ["ledger"]
    assert take_handover(str(tmp_path)) is None
    (tmp_path / HANDOVER).write_text(json.dumps({"pid": os.getpid() + 1, "holds": ["ledger"]}))
    assert take_handover(str(tmp_path)) is None  # another process's: a stale file, not adopted
    assert not (tmp_path / HANDOVER).exists()


def test_the_command_line_refuses_bad_transports_and_sides(tmp_path, capsys):
    example = str(ROOT / "examples" / "two_node_replace.ha")
    assert main(["deploy", example, "--transport", "telnet", "--yes"]) == 2
    assert "--transport is ssh or local:DIR, not 'telnet'" in capsys.readouterr().err
    assert main(["diff", "--deployed", example, example]) == 2
    assert "diff --deployed takes one FILE" in capsys.readouterr().err
    assert main(["diff", example]) == 2
    assert main(["deploy", str(tmp_path / "missing.ha"), "--transport", f"local:{tmp_path}", "--yes"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_deploy_from_the_command_line(tmp_path, capsys):
    from tests.deploy.nodes import make_nodes

    key = tmp_path / "k"
    key.write_bytes(os.urandom(16))
    example = ROOT / "examples" / "two_node_replace.ha"
    make_nodes(tmp_path / "nodes", snapshot_of(example), key.read_bytes())
    common = ["--transport", f"local:{tmp_path / 'nodes'}", "--key-file", str(key)]
    assert main(["deploy", str(example), "--yes", "--parallel", "1", *common]) == 0
    out = capsys.readouterr().out
    assert "alpha: staging" in out and "Nodes now:" in out
    assert main(["diff", "--deployed", str(example), "--transport", f"local:{tmp_path / 'nodes'}"]) == 0
    assert main(["rollback", str(example), "--yes", *common]) == 2
    assert "ran no bundle before this one" in capsys.readouterr().err


def test_the_groups_released_before_a_reload_are_those_the_plan_restarts_or_moves():
    from halang.deploy.command import released

    old = snapshot_of(ROOT / "examples" / "two_node_replace.ha")
    statuses = {"alpha": {"current": {"hash": "a", "snapshot": old}}, "bravo": {"current": {"hash": "a",
                                                                                           "snapshot": old}}}
    new = json.loads(json.dumps(old))
    assert released(statuses, new) == []
    new["heartbeat"]["interval_ms"] = 1000
    assert released(statuses, new) == []  # live
    new["groups"][0]["applications"][0]["start"] = "/opt/ledger/bin/start --fast"
    assert released(statuses, new) == ["ledger"]  # restart
    new["heartbeat"]["port"] = 7401
    assert released(statuses, new) == ["ledger", "gateway"]  # a cluster restart: every group
    assert released({"alpha": {"current": None}}, new) == []  # a first deploy holds nothing to release
