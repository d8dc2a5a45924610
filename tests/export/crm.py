"""Pacemaker's own tools on an exported CIB: `crm_verify` and `crm_simulate`, reading and writing files only.

Tests add a stub fencing device (`with_stub_fencing`): the export leaves
fencing to the site (HA801), and without a device Pacemaker starts nothing.
`Simulator` replays node failures and returns with `crm_simulate -S`, each
step reading the state file the step before saved (`--save-output`), and
reads where every group runs from the revised status it prints as XML.
crm_simulate runs no agent, so for a CIB with ping clones each step also
does what their agents do on a real cluster before the next transition
(`crm_attribute` on the saved state, then crm_simulate again).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

TOOLS = ("crm_verify", "crm_simulate")
needs_pacemaker = pytest.mark.skipif(
    any(shutil.which(tool) is None for tool in TOOLS) and os.environ.get("CI") != "true",
    reason="Pacemaker's crm_verify and crm_simulate are not installed (apt-get install pacemaker-cli-utils "
           "pacemaker-remote); in CI (CI=true) these tests run regardless",
)
FENCING = "test-fencing"


def with_stub_fencing(cib: str) -> str:
    """The CIB with a fencing device every node may run (a stand-in for the site's, in tests only)."""
    root = ET.fromstring(cib)
    ET.SubElement(root.find("configuration/resources"), "primitive",
                  {"id": FENCING, "class": "stonith", "type": "fence_dummy"})
    constraints = root.find("configuration/constraints")
    for node in root.iterfind("configuration/nodes/node"):
        ET.SubElement(constraints, "rsc_location", {"id": f"{FENCING}.on.{node.get('uname')}", "rsc": FENCING,
                                                    "node": node.get("uname"), "score": "0"})
    return ET.tostring(root, encoding="unicode")


def ping_attributes(cib: str) -> dict[str, str]:
    """The node attribute each ping clone of the CIB writes, and its value on a node that reaches every target
    (multiplier × targets): in halang's model a target never fails, and only nodes fail in these tests."""
    found = {}
    for primitive in ET.fromstring(cib).iterfind(".//primitive[@type='ping']"):
        params = {pair.get("name"): pair.get("value") for pair in primitive.iterfind("instance_attributes/nvpair")}
        found[params.get("name", "pingd")] = str(int(params.get("multiplier", "1")) * len(params["host_list"].split()))
    return found


def crm_verify(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["crm_verify", "--xml-file", str(path), "-V"], capture_output=True, text=True, check=False)


def placement(result: ET.Element, section: str = "revised_cluster_status") -> dict[str, tuple[str, ...]]:
    """Group name -> the nodes it runs on, from crm_simulate's XML: a group runs on a node where all its members
    are started (a clone's instances, one a node). The stub fencing device is left out."""
    found: dict[str, set[str]] = {}
    status = result.find(section)
    for element in status.find("resources"):
        if element.tag == "clone":
            name = element.get("id").removesuffix(".clone")
            groups = element.findall("group")
        elif element.tag == "group":
            name, groups = element.get("id"), [element]
        else:
            continue
        nodes: set[str] = set()
        for group in groups:
            members = group.findall("resource")
            where = [{node.get("name") for node in member.findall("node")} if member.get("role") == "Started"
                     else set() for member in members]
            nodes |= set.intersection(*where) if where else set()
        found[name] = nodes
    return {name: tuple(sorted(nodes)) for name, nodes in found.items()}


def unclean_nodes(result: ET.Element) -> set[str]:
    nodes = result.find("revised_cluster_status/nodes")
    return {node.get("name") for node in nodes if node.get("unclean") == "true"}


class Simulator:
    """crm_simulate runs in `workdir`; each state is a saved CIB file there."""

    def __init__(self, workdir: Path, cib: str):
        self.workdir = workdir
        self.count = 0
        self.initial = self._file()
        self.initial.write_text(with_stub_fencing(cib))
        self.pings = ping_attributes(cib)

    def _file(self) -> Path:
        self.count += 1
        return self.workdir / f"state{self.count}.xml"

    def run(self, state: Path, fail=(), up=(), quorum: bool = True) -> tuple[Path, ET.Element]:
        """One event from `state`: nodes fail (`--node-fail`, then fenced by the stub) or come up; the saved
        state and the XML crm_simulate printed."""
        if self.pings and up:
            # A node that comes back has run its ping agents before it takes anything, as a halang node has probed
            # its targets for a detection time before it acts: its attributes are there when Pacemaker places.
            ready = self._file()
            ready.write_text(state.read_text())
            for node in up:  # an offline node has no transient attributes yet: a permanent one stands in
                self._attributes(ready, node, online=True, lifetime="forever")
            state = ready
        saved, printed = self._simulate(state, fail, up, quorum)
        if not self.pings:
            return saved, printed
        # What the ping agents do next on a real cluster: every node that is up writes its attribute (it reaches
        # the targets), a node that left has none; then Pacemaker places again.
        for node in printed.find("revised_cluster_status/nodes"):
            self._attributes(saved, node.get("name"), online=node.get("online") == "true")
        return self._simulate(saved, (), (), quorum)

    def _attributes(self, state: Path, node: str, online: bool, lifetime: str = "reboot") -> None:
        """What the node's ping agents write into the saved state: every target reached, or nothing (it left)."""
        for name, value in self.pings.items():
            change = ["--update", value] if online else ["--delete"]
            subprocess.run(["crm_attribute", "--node", node, "--name", name, "--lifetime", lifetime, *change],
                           env={**os.environ, "CIB_file": str(state)}, capture_output=True, text=True, check=True)

    def _simulate(self, state: Path, fail, up, quorum: bool) -> tuple[Path, ET.Element]:
        saved = self._file()
        command = ["crm_simulate", "--xml-file", str(state), "--simulate", "--save-output", str(saved),
                   "--output-as=xml", f"--quorum={'true' if quorum else 'false'}"]
        for node in fail:
            command += ["--node-fail", node]
        for node in up:
            command += ["--node-up", node]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        # Without quorum Pacemaker cannot fence a failed node, so the stops on it stay blocked and the
        # transition ends unfinished (exit 1): what a real cluster does too.
        blocked = not quorum and "Transition failed: terminated" in done.stdout
        assert done.returncode == 0 or blocked, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}"
        assert saved.exists(), f"{' '.join(command)} saved no state\n{done.stderr}"
        return saved, ET.fromstring(re.sub(r"^<\?xml[^>]*>", "", done.stdout))
