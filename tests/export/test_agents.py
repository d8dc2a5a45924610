"""The OCF agents the export writes, run as Pacemaker runs them: an action as argument, parameters in OCF_RESKEY_*."""

import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from halang.diagnostics import SourceText
from halang.export.pacemaker import export_pacemaker
from halang.verify import verify_source

ROOT = Path(__file__).resolve().parents[2]
OCF_SUCCESS, OCF_ERR_GENERIC, OCF_ERR_CONFIGURED, OCF_NOT_RUNNING = 0, 1, 6, 7


@pytest.fixture
def agents(tmp_path) -> Path:
    path = ROOT / "examples" / "two_node_replace.ha"
    source = SourceText(path.read_text(), str(path))
    export = export_pacemaker(verify_source(source, faults=0).cluster, source)
    for name in ("application", "fstab"):
        agent = tmp_path / name
        agent.write_text(export.files[f"ocf/halang/{name}"])
        agent.chmod(0o755)
    return tmp_path


def script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def run(agent: Path, action: str, **params) -> int:
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "OCF_RESOURCE_INSTANCE": "web.app.web",
           "HA_RSCTMP": str(agent.parent / "run")}
    env.update({f"OCF_RESKEY_{key}": value for key, value in params.items()})
    return subprocess.run([str(agent), action], env=env, capture_output=True, check=False).returncode


def test_meta_data_is_xml_naming_the_parameters(agents):
    for name, expected in (("application", {"start", "stop", "monitor_command", "monitor_process", "stabilization"}),
                           ("fstab", {"directory"})):
        done = subprocess.run([str(agents / name), "meta-data"], capture_output=True, text=True, check=True)
        root = ET.fromstring(done.stdout.split("\n", 1)[1])
        assert {p.get("name") for p in root.iterfind("parameters/parameter")} == expected


def test_the_application_starts_is_monitored_and_stops(agents, tmp_path):
    marker = tmp_path / "running"
    params = {"start": script(tmp_path / "start", f"touch {marker}"),
              "stop": script(tmp_path / "stop", f"rm -f {marker}"),
              "monitor_command": script(tmp_path / "check", f"test -e {marker}")}
    agent = agents / "application"
    assert run(agent, "monitor", **params) == OCF_NOT_RUNNING  # a probe before any start
    assert run(agent, "stop", **params) == OCF_SUCCESS  # stopping what is stopped is no error
    assert run(agent, "start", **params) == OCF_SUCCESS and marker.exists()
    assert run(agent, "monitor", **params) == OCF_SUCCESS
    marker.unlink()  # the application died
    assert run(agent, "monitor", **params) == OCF_ERR_GENERIC
    assert run(agent, "monitor", **params, stabilization="60") == OCF_SUCCESS  # not judged while it settles
    assert run(agent, "stop", **params) == OCF_SUCCESS
    assert run(agent, "monitor", **params) == OCF_NOT_RUNNING


def test_a_failing_start_script_fails_the_start_and_a_process_monitor_looks_for_the_process(agents, tmp_path):
    agent = agents / "application"
    stop = script(tmp_path / "stop", "true")
    assert run(agent, "start", start=script(tmp_path / "bad", "exit 3"), stop=stop) == OCF_ERR_GENERIC
    params = {"start": script(tmp_path / "ok", "true"), "stop": stop}
    assert run(agent, "start", **params, monitor_process="no-such-process-here") == OCF_SUCCESS
    assert run(agent, "monitor", **params, monitor_process="no-such-process-here") == OCF_ERR_GENERIC
    assert run(agent, "validate-all", start="relative/start", stop=stop) == OCF_ERR_CONFIGURED


def test_the_fstab_agent_reports_a_plain_directory_as_not_mounted(agents, tmp_path):
    agent = agents / "fstab"
    assert run(agent, "monitor", directory=str(tmp_path)) == OCF_NOT_RUNNING
    assert run(agent, "stop", directory=str(tmp_path)) == OCF_SUCCESS
    assert run(agent, "validate-all", directory=str(tmp_path / "not-in-fstab")) == OCF_ERR_CONFIGURED
