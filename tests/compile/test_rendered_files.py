"""The files rendered from templates: event wrappers run the site's commands in order; the unit and README."""

import os
import stat
import subprocess
from pathlib import Path

import pytest

from halang.compile import compile_source, read_bundle
from halang.compile.plans import EVENT_ARGUMENTS
from halang.diagnostics import SourceText

from .conftest import TWO_NODE

SITE_COMMAND = """#!/bin/sh
echo "{role} $* phase=$HALANG_PHASE cluster=$HALANG_CLUSTER event=$HALANG_EVENT group=$HALANG_GROUP \
from=$HALANG_FROM_NODE to=$HALANG_TO_NODE" >> "$EVENT_LOG"
exit "${{{role}_STATUS:-0}}"
"""


@pytest.fixture(scope="module")
def wrappers(tmp_path_factory) -> tuple[Path, Path]:
    """A bundle whose rg_move and node_up events call site commands that log their calls."""
    tmp = tmp_path_factory.mktemp("events")
    site = tmp / "site dir"  # a space, to prove the paths are quoted
    site.mkdir()
    for role in ("PRE", "NOTIFY", "RECOVERY", "POST"):
        command = site / role.lower()
        command.write_text(SITE_COMMAND.format(role=role))
        command.chmod(0o755)
    text = TWO_NODE.read_text().replace(
        '  event node_down    { notify = "/usr/local/sbin/ha_page" }',
        f'  event rg_move {{ pre = "{site}/pre"  notify = "{site}/notify"  recovery = "{site}/recovery"'
        f'  post = "{site}/post" }}\n  event node_up {{ post = "{site}/post" }}')
    result = compile_source(SourceText(text, "events.ha"), tmp / "out")
    assert not result.refused, [f.message for f in result.report.errors]
    bundle = read_bundle(result.bundle)
    out = tmp / "events"
    out.mkdir()
    for name in ("events/rg_move.sh", "events/node_up.sh"):
        (out / Path(name).name).write_bytes(bundle.members[name])
    return out, tmp / "log"


def call(wrappers, script, *args, **statuses) -> tuple[int, list[str], str]:
    folder, log = wrappers
    log.write_text("")
    env = {"PATH": os.environ["PATH"], "EVENT_LOG": str(log), **{f"{k}_STATUS": str(v) for k, v in statuses.items()}}
    done = subprocess.run(["sh", str(folder / script), *args], capture_output=True, text=True, env=env, timeout=30)
    return done.returncode, log.read_text().splitlines(), done.stderr


def test_begin_notifies_then_runs_pre_with_the_details(wrappers):
    status, calls, _ = call(wrappers, "rg_move.sh", "begin", "ledger", "alpha", "bravo")
    assert status == 0
    detail = "cluster=payments event=rg_move group=ledger from=alpha to=bravo"
    assert calls == [f"NOTIFY rg_move ledger alpha bravo phase=begin {detail}",
                     f"PRE rg_move ledger alpha bravo phase=begin {detail}"]


def test_a_failing_pre_is_said_and_its_status_returned(wrappers):
    status, calls, stderr = call(wrappers, "rg_move.sh", "begin", "ledger", "alpha", "bravo", PRE=7)
    assert status == 7
    assert [line.split()[0] for line in calls] == ["NOTIFY", "PRE"]
    assert "failed with exit status 7: the event goes on" in stderr


def test_end_runs_post_then_notify(wrappers):
    status, calls, _ = call(wrappers, "rg_move.sh", "end", "ledger", "alpha", "bravo", NOTIFY=1)
    assert status == 0  # a failing notify is reported, not fatal
    assert [line.split()[0] for line in calls] == ["POST", "NOTIFY"]


def test_failed_notifies_then_runs_recovery(wrappers):
    status, calls, _ = call(wrappers, "rg_move.sh", "failed", "ledger", "alpha", "bravo", RECOVERY=4)
    assert status == 4
    assert [line.split()[0] for line in calls] == ["NOTIFY", "RECOVERY"]


def test_a_wrapper_without_recovery_stays_failed(wrappers):
    status, calls, stderr = call(wrappers, "node_up.sh", "failed", "alpha")
    assert status == 1 and calls == []
    assert "no recovery command" in stderr


def test_a_wrapper_called_wrongly_says_how_to_call_it(wrappers):
    for args in ([], ["begin"], ["sideways", "ledger", "alpha", "bravo"]):
        status, calls, stderr = call(wrappers, "rg_move.sh", *args)
        assert status == 2 and calls == []
        assert "usage: " in stderr and "begin|end|failed GROUP FROM_NODE TO_NODE" in stderr


def test_wrappers_are_valid_sh_for_every_event_kind(tmp_path):
    events = "\n".join(f'  event {kind} {{ notify = "/bin/true" }}' for kind in EVENT_ARGUMENTS)
    text = TWO_NODE.read_text().replace('  event node_down    { notify = "/usr/local/sbin/ha_page" }\n', "")
    text = text.replace('  event adapter_down { notify = "/usr/local/sbin/ha_page" }', events)
    result = compile_source(SourceText(text, "all.ha"), tmp_path)
    assert not result.refused, [f.message for f in result.report.errors]
    bundle = read_bundle(result.bundle)
    for kind, arguments in EVENT_ARGUMENTS.items():
        script = tmp_path / f"{kind}.sh"
        script.write_bytes(bundle.members[f"events/{kind}.sh"])
        assert subprocess.run(["sh", "-n", str(script)], capture_output=True).returncode == 0, kind
        details = ["x"] * len(arguments)
        done = subprocess.run(["sh", str(script), "begin", *details], capture_output=True, text=True)
        assert done.returncode == 0, (kind, done.stderr)


def test_the_unit_runs_the_current_bundle_for_its_instance(two_node_bundle):
    unit = read_bundle(two_node_bundle).text("systemd/halang-node@.service")
    assert "ExecStart=/usr/bin/python3 /var/lib/halang/current.pyz run --node %i\n" in unit
    assert "Description=halang node %i of cluster payments\n" in unit
    assert "TimeoutStopSec=210s\n" in unit  # ledger's 120s and gateway's default 60s, and 30s more


def test_the_readme_tells_the_operator_how_to_inspect(two_node_bundle):
    readme = read_bundle(two_node_bundle).text("README.txt")
    assert readme.startswith("halang bundle for cluster payments\n" + "=" * len("halang bundle for cluster payments"))
    assert "/usr/bin/python3 /var/lib/halang/current.pyz info --node NODE" in readme
    assert "Nodes: alpha, bravo" in readme


def test_the_bundle_file_is_executable_with_a_shebang(two_node_bundle):
    assert two_node_bundle.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert two_node_bundle.stat().st_mode & stat.S_IXUSR
