"""`halang deploy` over real OpenSSH to the nodes of a namespace lab, with the engine running on them.

Each node namespace runs its own `sshd` (Debian's openssh-server) with a host key made for the run, in a
mount namespace of its own whose /run is a fresh tmpfs (sshd wants /run/sshd; the host's is not touched).
The client key, authorized_keys, known_hosts and ssh_config are made for the run in the test's folder,
and `ssh` runs in the lab's client namespace of the administration network. The nodes share this
machine's files, so each has its own root (SshTransport's `roots`) under the test's folder. Every sshd and
daemon is started by PID and ended by PID in a finalizer, passed or failed; the lab goes with its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from halang.deploy import Console, Options, SshTransport, deploy_command, diff_deployed, rollback_command
from halang.outcome import EXIT_FINDINGS, EXIT_OK, EXIT_TROUBLE
from tests.deploy.nodes import make_node, snapshot_of

pytestmark = pytest.mark.root

CLUSTER = Path(__file__).with_name("admin_network.ha")
NODES = ("alpha", "bravo")
LEDGER, GATEWAY = "10.10.1.100", "10.10.1.101"
PATIENCE = 120  # seconds a state may take to come about on 2 busy cores; a deadline, not a measurement


def wait_for(condition, what: str, patience: float = PATIENCE):
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"never saw {what}", pytrace=False)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Said:
    def __init__(self):
        self.lines: list[str] = []

    def console(self) -> Console:
        return Console(self.lines.append, self.lines.append, lambda node, text: self.lines.append(f"{node}: {text}"))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


class SshSite:
    def __init__(self, lab, tmp: Path):
        self.lab, self.tmp = lab, tmp
        self.file = tmp / "payments.ha"
        self.file.write_text(CLUSTER.read_text())
        self.snapshot = snapshot_of(self.file)
        self.key = tmp / "cluster.key"
        self.key.write_bytes(os.urandom(32))
        self.sshd: dict[str, subprocess.Popen] = {}
        self.daemons: dict[str, subprocess.Popen] = {}
        self.roots = {node: tmp / "nodes" / node for node in NODES}
        for node in NODES:
            make_node(self.roots[node], self.snapshot, node, self.key.read_bytes(), interfaces=False)
        self.keys = tmp / "ssh"
        self.keys.mkdir()
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.keys / "client")], check=True)
        (self.keys / "authorized_keys").write_text((self.keys / "client.pub").read_text())
        hosts = {"alpha": "192.168.50.11", "bravo": "192.168.50.12"}
        known = []
        for node in NODES:
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.keys / f"host_{node}")],
                           check=True)
            public = (self.keys / f"host_{node}.pub").read_text().split()[:2]
            known.append(f"{hosts[node]} {' '.join(public)}")
        (self.keys / "known_hosts").write_text("\n".join(known) + "\n")
        (self.keys / "ssh_config").write_text(
            "Host *\n"
            f"  IdentityFile {self.keys / 'client'}\n  IdentitiesOnly yes\n  User root\n"
            f"  UserKnownHostsFile {self.keys / 'known_hosts'}\n  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n  LogLevel ERROR\n")
        client = lab.client("net_admin").netns
        self.transport = SshTransport(command=["ip", "netns", "exec", client, "ssh"],
                                      options=["-F", str(self.keys / "ssh_config")],
                                      python=sys.executable, roots={node: str(self.roots[node]) for node in NODES})

    # ------------------------------------------------------------ processes

    def start_sshd(self, node: str) -> None:
        config = self.keys / f"sshd_config_{node}"
        config.write_text(
            f"ListenAddress 0.0.0.0:22\nHostKey {self.keys / f'host_{node}'}\nPidFile none\n"
            f"AuthorizedKeysFile {self.keys / 'authorized_keys'}\nPermitRootLogin prohibit-password\n"
            "PasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            "PrintMotd no\n")
        log = self.keys / f"sshd_{node}.log"
        # unshare and sh exec in turn, so the PID recorded is sshd's own.
        self.sshd[node] = self.lab.spawn(node, [
            "unshare", "--mount", "--propagation", "private", "sh", "-c",
            "mount -t tmpfs -o mode=755 halang-sshd /run && mkdir -m 755 /run/sshd && "
            f"exec /usr/sbin/sshd -D -e -f {config}"], stdout=subprocess.DEVNULL, stderr=log.open("w"))
        wait_for(lambda: "Server listening" in log.read_text() or self.sshd[node].poll() is not None,
                 f"sshd on {node} listening")
        assert self.sshd[node].poll() is None, log.read_text()

    def stop_sshd(self, node: str) -> None:
        stop(self.sshd[node])

    def home(self, node: str) -> Path:
        return self.roots[node] / "var/lib/halang"

    def start_daemons(self) -> None:
        for node in NODES:
            home = self.home(node)
            self.daemons[node] = self.lab.spawn(node, [
                sys.executable, str(home / "current.pyz"), "run", "--node", node, "--state-dir", str(home),
                "--key-file", str(self.roots[node] / "etc/halang/payments.key"), *self.lab.device_args(node),
                # The file's scripts and volume groups are not on this machine: only the addresses are real.
                "--resource-drivers", "recorded"],
                stdout=subprocess.DEVNULL, stderr=(self.tmp / f"daemon_{node}.log").open("w"))

    def close(self) -> None:
        for process in list(self.daemons.values()) + list(self.sshd.values()):
            stop(process)

    # ------------------------------------------------------------ looking

    def runs(self, node: str) -> str | None:
        link = self.home(node) / "current.pyz"
        return Path(os.readlink(link)).stem if link.is_symlink() else None

    def all_run(self) -> dict[str, str | None]:
        return {node: self.runs(node) for node in NODES}

    def holders(self, address: str) -> set[str]:
        found = set()
        for node in NODES:
            done = subprocess.run(["ip", "-n", self.lab.netns(node), "-o", "addr", "show"], capture_output=True,
                                  text=True)
            if f" {address}/" in done.stdout:
                found.add(node)
        return found

    def events(self, node: str) -> list[dict]:
        path = self.home(node) / "events.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def daemon_bundle(self, node: str) -> str | None:
        path = self.home(node) / "daemon.json"
        return json.loads(path.read_text())["bundle"] if path.exists() else None

    # ------------------------------------------------------------ doing

    def edit(self, old: str, new: str) -> None:
        text = self.file.read_text()
        assert old in text
        self.file.write_text(text.replace(old, new, 1))

    def deploy(self, transport=None, **options) -> tuple[int, Said]:
        said = Said()
        options = {"yes": True, "faults": 0, "key_file": str(self.key), **options}
        return deploy_command(str(self.file), transport or self.transport, said.console(), Options(**options)), said


@pytest.fixture
def site(request, lab_factory, tmp_path) -> SshSite:
    lab = lab_factory(CLUSTER)
    made = SshSite(lab, tmp_path)
    request.addfinalizer(made.close)  # runs before the lab's teardown: sshd and daemons end by their PIDs
    for node in NODES:
        made.start_sshd(node)
    return made


class Watch:
    """Samples who holds each service address, from now until `stop`, and keeps every sample."""

    def __init__(self, site: SshSite):
        self.site = site
        self.samples: list[tuple[frozenset, frozenset]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((frozenset(self.site.holders(LEDGER)), frozenset(self.site.holders(GATEWAY))))
            self._stop.wait(0.05)

    def stop(self) -> list[tuple[frozenset, frozenset]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def settled_after_reload(site: SshSite, node: str, holds: list[str]) -> bool:
    """The reloaded daemon has adopted and then decided, holding `holds`."""
    events = site.events(node)
    adopted = [index for index, event in enumerate(events) if event["event"] == "adopt"]
    return bool(adopted) and any(event["event"] == "decision" and event["holds"] == holds
                                 for event in events[adopted[-1]:])


def test_a_first_deploy_then_a_live_change_and_a_move_on_running_daemons(site):
    code, said = site.deploy(faults=1)
    assert code == EXIT_OK, said.text
    first = site.runs("alpha")
    assert site.all_run() == {"alpha": first, "bravo": first}
    assert "alpha: staged (first deploy to this node: nothing runs here, so there is no key to check the " \
           "signature with)" in said.lines
    site.start_daemons()
    wait_for(lambda: site.holders(LEDGER) == {"alpha"} and site.holders(GATEWAY) == {"bravo"},
             "ledger on alpha and gateway on bravo")

    # A live change: the daemons reload in place, the same processes, and no group is let go.
    site.edit("interval   = 500ms", "interval   = 1s")
    pids = {node: process.pid for node, process in site.daemons.items()}
    watch = Watch(site)
    code, said = site.deploy()
    assert code == EXIT_OK, said.text
    assert "~ heartbeat: interval  500ms -> 1s  live" in said.text
    second = site.runs("alpha")
    assert second != first and site.runs("bravo") == second
    for node, holds in (("alpha", ["ledger"]), ("bravo", ["gateway"])):
        wait_for(lambda: settled_after_reload(site, node, holds), f"{node} deciding on the new bundle")
        assert site.daemon_bundle(node) == second[:16]
        assert json.loads((site.home(node) / "daemon.json").read_text())["pid"] == pids[node]
    samples = watch.stop()
    assert samples and all(sample == (frozenset({"alpha"}), frozenset({"bravo"})) for sample in samples)
    assert not [event for node in NODES for event in site.events(node) if event["event"] in ("stop", "release")]

    # A move: ledger's list now starts with bravo; alpha lets it go before reloading, bravo takes it.
    site.edit("nodes         = [alpha, bravo]", "nodes         = [bravo, alpha]")
    code, said = site.deploy()
    assert code == EXIT_OK, said.text
    assert "move ledger from alpha to bravo" in said.text
    wait_for(lambda: site.holders(LEDGER) == {"bravo"}, "ledger moved to bravo")
    assert site.holders(GATEWAY) == {"bravo"}
    assert [event["groups"] for event in site.events("alpha") if event["event"] == "release" and "groups" in event] == [["ledger"]]


def test_no_change_then_drift_after_a_node_was_changed_by_hand(site):
    assert site.deploy()[0] == EXIT_OK
    first = site.runs("alpha")
    outcome = diff_deployed(str(site.file), site.transport)
    assert outcome.code == EXIT_OK, outcome.output
    assert "No changes: both sides describe the same cluster." in outcome.output
    site.edit("interval   = 500ms", "interval   = 1s")
    assert site.deploy()[0] == EXIT_OK
    link = site.home("bravo") / "current.pyz"
    link.unlink()
    link.symlink_to(f"bundles/{first}.pyz")  # an administrator on bravo, by hand
    outcome = diff_deployed(str(site.file), site.transport)
    assert outcome.code == EXIT_FINDINGS
    assert "Drift: the nodes run different snapshots:" in outcome.output
    assert f"  {first[:12]}  bravo" in outcome.output


class StopsSshd:
    """The ssh transport, except that bravo's sshd is stopped as the first bundle is being sent."""

    def __init__(self, site: SshSite):
        self.site, self.inner = site, site.transport
        self.python = self.inner.python

    def root(self, node: str) -> str:
        return self.inner.root(node)

    def sysfs(self, node: str) -> str:
        return self.inner.sysfs(node)

    def run(self, target, argv, data=b"", label=""):
        if label == "stage" and self.site.sshd["bravo"].poll() is None:
            self.site.stop_sshd("bravo")
        return self.inner.run(target, argv, data, label)


def test_a_node_whose_sshd_stops_mid_rollout_changes_no_node(site):
    assert site.deploy()[0] == EXIT_OK
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    code, said = site.deploy(StopsSshd(site), parallel=1)
    assert code == EXIT_TROUBLE
    assert any(line.startswith("bravo: NOT staged: unreachable: ssh to 192.168.50.12:") for line in said.lines), \
        said.text
    assert "halang: deploy: staging failed on bravo: no node was activated" in said.lines
    assert site.all_run() == before


def test_an_activation_failure_on_running_daemons_is_rolled_back(site):
    assert site.deploy()[0] == EXIT_OK
    first = site.runs("alpha")
    site.start_daemons()
    wait_for(lambda: site.holders(LEDGER) == {"alpha"} and site.holders(GATEWAY) == {"bravo"},
             "ledger on alpha and gateway on bravo")
    site.edit("interval   = 500ms", "interval   = 1s")
    (site.home("bravo") / "current.pyz.new" / "in-the-way").mkdir(parents=True)
    code, said = site.deploy()
    assert code == EXIT_TROUBLE
    assert "halang: deploy: activation failed on bravo: every node goes back" in said.lines
    assert site.all_run() == {"alpha": first, "bravo": first}
    assert any(line.startswith(f"  alpha  back on {first[:12]} (daemon ") for line in said.lines), said.text
    wait_for(lambda: site.daemon_bundle("alpha") == first[:16], "alpha's daemon back on the first bundle")
    wait_for(lambda: site.holders(LEDGER) == {"alpha"} and site.holders(GATEWAY) == {"bravo"},
             "the groups where they were")


def test_a_bundle_signed_with_the_wrong_key_is_refused(site):
    assert site.deploy()[0] == EXIT_OK
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    wrong = site.tmp / "wrong.key"
    wrong.write_bytes(os.urandom(32))
    code, said = site.deploy(key_file=str(wrong))
    assert code == EXIT_TROUBLE
    assert any("is not signed with this node's cluster key (/etc/halang/payments.key)" in line
               for line in said.lines), said.text
    assert site.all_run() == before
    said_back = Said()
    assert rollback_command(str(site.file), site.transport, said_back.console(),
                            Options(yes=True, key_file=str(wrong))) == EXIT_TROUBLE  # nothing before either


def test_a_missing_script_on_one_node_changes_nothing_anywhere(site):
    assert site.deploy()[0] == EXIT_OK
    before = site.all_run()
    site.edit("interval   = 500ms", "interval   = 1s")
    (site.roots["bravo"] / "opt/gateway/bin/stop").unlink()
    code, said = site.deploy()
    assert code == EXIT_FINDINGS
    assert "error[HA701]: on node bravo, script /opt/gateway/bin/stop does not exist" in said.text
    assert site.all_run() == before
    assert not list((site.home("bravo") / "bundles").glob("*.partial"))
    assert len(list((site.home("alpha") / "bundles").glob("*.pyz"))) == 1


def test_a_changed_host_key_is_refused_and_nothing_changes(site):
    known = site.keys / "known_hosts"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(site.keys / "impostor")], check=True)
    lines = known.read_text().splitlines()
    lines[1] = "192.168.50.12 " + " ".join((site.keys / "impostor.pub").read_text().split()[:2])
    known.write_text("\n".join(lines) + "\n")
    code, said = site.deploy()
    assert code == EXIT_TROUBLE
    assert any(line.startswith("halang: bravo: cannot read what it runs: unreachable: ssh to 192.168.50.12:")
               for line in said.lines), said.text
    assert site.all_run() == {"alpha": None, "bravo": None}
