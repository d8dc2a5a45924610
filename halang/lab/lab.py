"""A lab: build it, change it, tear it down, from one process or from its state file in another.

    lab = Lab.up("examples/two_node_replace.ha")      # or Lab.up(cluster_model), base_dir=..., prefix=...
    lab.fail("adapter:alpha/en0"); lab.heal("adapter:alpha/en0")
    lab.flap("port:alpha/en0", times=3, every_s=0.3)    # fail, heal, ... in the foreground, ending healed
    lab.ping(lab.netns("alpha"), "10.10.1.12", ifname="en0")
    lab.down()                                         # idempotent

    Lab.load(state_file).fail("switch:sw1")            # another process, the state file alone
    down(state_file)                                   # likewise, without reading the cluster

The state file (`BASE/PREFIX/lab.json`) holds the plan (with the cluster's
snapshot), what has been created so far, the PIDs of the lab's processes
with their start times, and the failed components. It is rewritten
(atomically) before each thing is created and after each change, so a
build that stops halfway, or a process that is killed, leaves a state file
from which `down` removes everything that was made.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from halang.lab import DEFAULT_BASE
from halang.lab.faults import Wiring, canonical, wiring
from halang.lab.plan import LabError, LabPlan, plan_lab, valid_prefix
from halang.lab.system import System, end_process, same_process, signal_process, start_time
from runtime.core.failures import FORMS

STATE_FORMAT = 1
RELAY = Path(__file__).with_name("relay.py")
NODE_SYSCTLS = {
    # Boot and standby subnets share layer 2 through the core: answer ARP only on the interface that holds the
    # address, and speak from it, so each adapter is its own path (no ARP flux), as a cluster node is set up.
    "net.ipv4.conf.all.arp_ignore": "1",
    "net.ipv4.conf.all.arp_announce": "2",
}
SWITCH_SYSCTLS = {
    # The switch namespace holds only bridges and ports: no addresses, no IPv6 chatter of its own.
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
}
BRIDGE = "type bridge stp_state 0 forward_delay 0 mcast_snooping 0"
NFT_TABLE = "halang_lab"  # in the switch namespace's bridge family: the deaf and mute ports' drops


def load_cluster(path: str | os.PathLike[str]):
    """The model of a `.ha` file; LabError if halang cannot read it, or its addresses do not make a network."""
    from halang.diagnostics import SourceError, read_source
    from halang.verify import verify_source

    try:
        source = read_source(str(path))
    except SourceError as exc:
        raise LabError(str(exc)) from None
    report = verify_source(source, faults=0)
    # What the lab wires must be consistent: syntax, names, and the address plan (HA2xx). Other findings
    # (quorum, capacity, scripts) are what one may want to try out in a lab.
    blocking = [f for f in report.errors if f.code.startswith(("HA0", "HA1", "HA2"))]
    if report.cluster is None or blocking:
        first = "; ".join(f"line {source.locate(f.span).line}: {f.code} {f.message}"
                          for f in blocking[:3]) if blocking else "no cluster block"
        more = f" (and {len(blocking) - 3} more)" if len(blocking) > 3 else ""
        raise LabError(f"{path}: no lab can be built of this file until its errors are fixed: {first}{more} "
                       f"(see `halang verify {path}`)")
    return report.cluster


class Lab:
    """One lab on this machine (see the module docstring)."""

    def __init__(self, plan: LabPlan, state: dict[str, Any], system: System | None = None):
        self.plan = plan
        self.state = state
        self.system = system or System()
        self._spec = None

    # ------------------------------------------------------------ making one

    @classmethod
    def up(cls, source: Any, base_dir: str | os.PathLike[str] = DEFAULT_BASE, prefix: str | None = None,
           system: System | None = None) -> Lab:
        """Build the lab of a `.ha` file (a path) or of a `Cluster` model; LabError, with nothing left, if it
        cannot be built."""
        system = system or System()
        system.preflight()
        if isinstance(source, (str, os.PathLike)):
            cluster, where = load_cluster(source), str(Path(source).resolve())
        else:
            cluster, where = source, None
        if prefix is not None and not valid_prefix(prefix):
            raise LabError(f"'{prefix}' is not a lab prefix: write 'hl' and 6 lower-case hex digits")
        base = Path(base_dir).resolve()
        existing = system.namespaces()
        for _ in range(20):
            chosen = prefix or "hl" + secrets.token_hex(3)
            plan = plan_lab(cluster.snapshot(), chosen, str(base), where)
            taken = sorted(set(plan.namespaces) & existing)
            if not taken and not os.path.lexists(plan.workdir):
                break
            if prefix is not None:
                what = f"namespace{'s' if len(taken) > 1 else ''} {', '.join(taken)}" if taken else plan.workdir
                raise LabError(f"lab prefix {prefix} is in use: {what} already exists "
                               f"(tear that lab down with its state file, or leave the prefix to the lab)")
        else:  # pragma: no cover - 20 random prefixes all taken
            raise LabError("could not find a free lab prefix")
        lab = cls(plan, {"format": STATE_FORMAT, "phase": "building", "plan": plan.to_json(), "workdir": False,
                         "namespaces": [], "processes": [], "failed": []}, system)
        started = time.monotonic()
        try:
            lab._build(base)
        except BaseException as exc:
            try:
                lab.down()
            except LabError as second:
                raise LabError(f"{exc}; removing what was built failed too: {second}") from None
            if isinstance(exc, LabError):
                raise LabError(f"{exc} (the half-built lab {plan.prefix} was removed)") from None
            if isinstance(exc, OSError):
                raise LabError(f"cannot build the lab: {exc.filename or ''}: {exc.strerror or exc} "
                               f"(the half-built lab {plan.prefix} was removed)") from None
            raise
        lab.state["build_seconds"] = round(time.monotonic() - started, 3)
        lab.state["phase"] = "up"
        lab.save()
        return lab

    @classmethod
    def load(cls, state_file: str | os.PathLike[str], system: System | None = None) -> Lab:
        """The lab a state file describes; LabError if there is none there."""
        state = read_state(state_file)
        return cls(LabPlan.from_json(state["plan"]), state, system)

    def _build(self, base: Path) -> None:
        plan, system = self.plan, self.system
        if not system.dry:
            try:
                base.mkdir(parents=True, exist_ok=True)
                os.mkdir(plan.workdir, 0o700)
            except FileExistsError:
                raise LabError(f"{plan.workdir} already exists") from None
            except OSError as exc:
                raise LabError(f"cannot create {plan.workdir}: {exc.strerror}") from None
            self.state["workdir"] = True
        self.save()
        for name in plan.namespaces:
            self.state["namespaces"].append(name)
            self.save()
            try:
                system.add_namespace(name)
            except LabError as exc:
                self.state["namespaces"].remove(name)  # not ours: never delete what another made
                self.save()
                if "exists" in str(exc):
                    raise LabError(f"network namespace {name} already exists: another lab or program took the "
                                   f"name") from None
                raise
        system.sysctl(plan.switch_netns, SWITCH_SYSCTLS)
        for node in plan.nodes:
            if plan.adapters_of(node.name):
                system.sysctl(node.netns, NODE_SYSCTLS)
        system.ip_batch(plan.switch_netns, self._switch_commands())
        for node in plan.nodes:
            system.ip_batch(node.netns, ["link set lo up", *self._own_addresses(node.name)])
        for client in plan.clients:
            lines = ["link set lo up"]
            lines += [f"address add {address} dev {client.ifname}{_nodad(address)}" for address in client.addresses]
            lines.append(f"link set {client.ifname} up")
            lines += [f"route add {route} dev {client.ifname}" for route in client.routes]
            system.ip_batch(client.netns, lines)
        for target in plan.targets:  # the kernel answers echo requests (v4 and v6) at every address it holds
            lines = ["link set lo up"]
            lines += [f"address add {address} dev {target.ifname}{_nodad(address)}" for address in target.addresses]
            lines.append(f"link set {target.ifname} up")
            system.ip_batch(target.netns, lines)
        self._make_files()
        for serial in plan.serials:
            self._start_relay(serial)
        for node in [] if system.dry else plan.nodes:
            _write_json(plan.devices_file(node.name), {"cluster": plan.cluster, "node": node.name,
                                                       "devices": plan.devices(node.name)})

    def _own_addresses(self, node: str) -> list[str]:
        lines = []
        for adapter in self.plan.adapters_of(node):
            lines.append(f"address add {adapter.address} dev {adapter.ifname}{_nodad(adapter.address)}")
            lines.append(f"link set {adapter.ifname} up")
        return lines

    def _switch_commands(self) -> list[str]:
        plan = self.plan
        lines = [f"link add name {plan.core} {BRIDGE}", f"link set {plan.core} up"]
        for switch in plan.switches:
            lines += [f"link add name {switch.bridge} {BRIDGE}",
                      f"link add name {switch.uplink} type veth peer name {switch.core_port}",
                      f"link set {switch.uplink} master {switch.bridge} up",
                      f"link set {switch.core_port} master {plan.core} up",
                      f"link set {switch.bridge} up"]
        bridges = {switch.name: switch.bridge for switch in plan.switches}
        nodes = {node.name: node.netns for node in plan.nodes}
        for adapter in plan.adapters:
            # The node end is made inside the node's namespace under the file's name: it never exists elsewhere.
            lines += [f"link add name {adapter.port} type veth peer name {adapter.ifname} netns {nodes[adapter.node]}",
                      f"link set {adapter.port} master {bridges[adapter.switch]} up"]
        for far in (*plan.clients, *plan.targets):
            lines += [f"link add name {far.port} type veth peer name {far.ifname} netns {far.netns}",
                      f"link set {far.port} master {plan.core} up"]
        return lines

    def _make_files(self) -> None:
        if self.system.dry:
            return
        if self.plan.disks:
            os.mkdir(Path(self.plan.workdir) / "cut", 0o700)
        for disk in self.plan.disks:
            with open(disk.file, "wb") as out:
                out.truncate(disk.size)
            for path in disk.paths.values():
                _point(path, disk.file)

    def _start_relay(self, serial) -> None:
        a, b = (serial.paths[node] for node in serial.nodes)
        argv = [sys.executable, "-I", str(RELAY), a, b, serial.mode_file]
        self.system.commands.append(argv)
        if self.system.dry:
            return
        with open(serial.log_file, "ab") as log:
            try:
                done = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                      timeout=30)
            except subprocess.TimeoutExpired:
                raise LabError(f"the relay of link {serial.link} did not start within 30 s") from None
        words = done.stdout.split()
        if done.returncode != 0 or len(words) != 1 or not words[0].isdigit():
            said = Path(serial.log_file).read_text().strip()[-500:]
            raise LabError(f"the relay of link {serial.link} did not start: {said or 'it said nothing'}")
        pid = int(words[0])
        began = start_time(pid)
        if began is None:
            said = Path(serial.log_file).read_text().strip()[-500:]
            raise LabError(f"the relay of link {serial.link} ended at once: {said or 'it said nothing'}")
        self.state["processes"].append({"pid": pid, "start": began, "what": f"relay:{serial.link}"})
        self.save()

    # ------------------------------------------------------------ state

    def save(self) -> None:
        if self.system.dry or not self.state.get("workdir"):
            return
        _write_json(self.plan.state_file, self.state)

    @property
    def prefix(self) -> str:
        return self.plan.prefix

    @property
    def state_file(self) -> str:
        return self.plan.state_file

    @property
    def spec(self):
        if self._spec is None:
            self._spec = self.plan.spec()
        return self._spec

    @property
    def failed(self) -> tuple[str, ...]:
        self._refresh()
        return tuple(self.state["failed"])

    def _refresh(self) -> None:
        """Read the state file again: another process (`halang lab fail`) may have changed the lab."""
        if self.system.dry or not self.state.get("workdir") or self.state.get("phase") != "up":
            return
        try:
            self.state = read_state(self.plan.state_file)
        except LabError:
            self.state["phase"] = "down"  # its folder is gone: torn down from elsewhere

    @contextmanager
    def _locked(self):
        """One change at a time across processes: an exclusive lock on the lab's lock file."""
        self._need_up()
        if self.system.dry or not self.state.get("workdir"):
            yield
            return
        try:
            handle = open(Path(self.plan.workdir) / "lab.lock", "a")
        except FileNotFoundError:
            raise LabError(f"lab {self.prefix} is gone: its folder {self.plan.workdir} no longer exists") from None
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            self._refresh()
            self._need_up()
            yield

    @property
    def processes(self) -> list[dict[str, Any]]:
        return [dict(record) for record in self.state["processes"]]

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()

    # ------------------------------------------------------------ faults

    def fail(self, *components: str) -> None:
        """Fail components by name (`node:alpha`, `adapter:alpha/en0`, `switch:sw1`, `link:hb_serial`,
        `linkend:wh1/hb_disk`, `domain:rack_a`, `port:alpha/en0`, `deaf:alpha/en0`, `mute:alpha/en0`,
        `hung:sw1`); LabError for a name that is not one, or one already failed."""
        names = self._names(components)
        with self._locked():
            self._need_up()
            for name in names:
                if name in self.state["failed"]:
                    raise LabError(f"{name} has already failed")
            self._rewire(tuple(self.state["failed"]) + tuple(names))

    def heal(self, *components: str) -> None:
        """Bring failed components back; LabError for one that has not failed (saying what keeps it down)."""
        names = self._names(components)
        with self._locked():
            self._need_up()
            for name in names:
                if name not in self.state["failed"]:
                    cause = self._cause(name)
                    raise LabError(f"{name} has not failed, so it cannot heal" + (
                        f": it is down because {cause} failed; heal {cause}" if cause else ""))
            self._rewire(tuple(name for name in self.state["failed"] if name not in names))

    def flap(self, component: str | Sequence[str], times: int, every_s: float,
             step: Callable[[float, str], None] | None = None) -> list[tuple[float, str]]:
        """Fail and heal a component (or several together) `times` times, each change `every_s` seconds after the
        one before, in the foreground; it ends healed, also when interrupted. See `flapping`."""
        names = self._names([component] if isinstance(component, str) else component)
        return flapping(lambda: self.fail(*names), lambda: self.heal(*names), times, every_s, step)

    def _names(self, components: Sequence[str]) -> list[str]:
        if not components:
            raise LabError(f"name a component: {FORMS}")
        names = [canonical(self.spec, text) for text in components]
        for number, name in enumerate(names):
            if name in names[:number]:
                raise LabError(f"{name} is named twice")
        return names

    def _cause(self, name: str) -> str | None:
        mine = wiring(self.plan, self.spec, [name])
        if mine.empty():
            return None
        for cause in self.state["failed"]:
            if wiring(self.plan, self.spec, [cause]).covers(mine):
                return cause
        return None

    def _need_up(self) -> None:
        if self.state.get("phase") != "up":
            raise LabError(f"lab {self.prefix} is {self.state.get('phase')}, not up")

    def _rewire(self, failed: tuple[str, ...]) -> None:
        before = wiring(self.plan, self.spec, self.state["failed"])
        after = wiring(self.plan, self.spec, failed)
        if (after.deaf_ports, after.mute_ports) != (before.deaf_ports, before.mute_ports):
            # First: it is what can fail for want of a tool (nft), before anything else has changed.
            self.system.nft(self.plan.switch_netns, _drops(after))
        bridge = {adapter.port: self.plan.switch(adapter.switch).bridge for adapter in self.plan.adapters}
        lines = [f"link set {port} down" for port in sorted(after.ports_down - before.ports_down)]
        lines += [f"link set {port} nomaster" for port in sorted(after.ports_detached - before.ports_detached)]
        lines += [f"link set {name} down" for name in sorted(after.bridges_down - before.bridges_down)]
        lines += [f"link set {name} up" for name in sorted(before.bridges_down - after.bridges_down)]
        lines += [f"link set {port} master {bridge[port]}"
                  for port in sorted(before.ports_detached - after.ports_detached)]
        lines += [f"link set {port} up" for port in sorted(before.ports_down - after.ports_down)]
        self.system.ip_batch(self.plan.switch_netns, lines)
        disks = {disk.link: disk for disk in self.plan.disks}
        if not self.system.dry:
            for link, node in after.disk_paths_cut - before.disk_paths_cut:
                _point(disks[link].paths[node], disks[link].cut[node])
            for link, node in before.disk_paths_cut - after.disk_paths_cut:
                _point(disks[link].paths[node], disks[link].file)
        serials = {serial.link: serial for serial in self.plan.serials}
        for link in after.serials_cut - before.serials_cut:
            self._relay(serials[link], signal.SIGUSR1, "cut")
        for link in before.serials_cut - after.serials_cut:
            self._relay(serials[link], signal.SIGUSR2, "forward")
        self.state["failed"] = list(failed)
        self.save()

    def _relay(self, serial, number: int, mode: str) -> None:
        if self.system.dry:
            return
        record = next(r for r in self.state["processes"] if r["what"] == f"relay:{serial.link}")
        signal_process(record, number)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if Path(serial.mode_file).read_text().strip() == mode:
                    return
            except FileNotFoundError:
                pass
            time.sleep(0.002)
        raise LabError(f"the relay of link {serial.link} did not say '{mode}' within 5 s")

    def reset_addresses(self, node: str) -> None:
        """The node's adapters as the build left them, and as a reboot would: only the file's own address on
        each. A crashed engine leaves service addresses, and adapters routed around, behind."""
        lines = [f"address flush dev {adapter.ifname} scope global" for adapter in self.plan.adapters_of(node)]
        self.system.ip_batch(self.netns(node), lines + self._own_addresses(node))

    # ------------------------------------------------------------ using it

    def netns(self, node: str) -> str:
        """The namespace of a node."""
        return self.plan.netns(node)

    def client(self, network: str):
        """The client of a network: `.netns`, `.ifname`, `.ips` (one in each boot subnet)."""
        return self.plan.client(network)

    def devices(self, node: str) -> dict[str, str]:
        """Link -> the path the node uses for it in the lab (its file's device path rewritten)."""
        return self.plan.devices(node)

    def device_args(self, node: str) -> list[str]:
        """The node engine's options for the lab's devices: `["--device", "hb_serial=/run/...", ...]`."""
        return self.plan.device_args(node)

    def devices_file(self, node: str) -> str:
        return self.plan.devices_file(node)

    def exec(self, netns: str, argv: Sequence[str], timeout: float = 30, input: str | None = None,
             check: bool = False) -> subprocess.CompletedProcess:
        """Run a command inside one of the lab's namespaces and wait for it."""
        self._own(netns)
        return self.system.run(["ip", "netns", "exec", netns, *argv], input=input, timeout=timeout, check=check)

    def ping(self, netns: str, address: str, ifname: str | None = None, wait: float = 1.0) -> bool:
        """Whether one echo request from a lab namespace (through `ifname`, if given) to a lab address is
        answered within `wait` seconds. The address must be one of the lab's own (the file's or a client's)."""
        self._lab_address(address)
        version = ipaddress.ip_address(address).version
        argv = ["ping", f"-{version}", "-n", "-q", "-c1", f"-W{wait:g}", *(["-I", ifname] if ifname else []),
                address]
        return self.exec(netns, argv, timeout=wait + 10).returncode == 0

    def addresses(self) -> set[str]:
        """Every address the lab may send to: the file's adapters, services and ping targets, and the clients'."""
        spec = self.spec
        found = {adapter.address for adapter in spec.adapters}
        found |= {service.address for network in spec.networks for service in network.services}
        found |= {ip for far in (*self.plan.clients, *self.plan.targets) for ip in far.ips}
        return {str(ipaddress.ip_address(address)) for address in found}

    def _lab_address(self, address: str) -> None:
        try:
            text = str(ipaddress.ip_address(address))
        except ValueError:
            raise LabError(f"'{address}' is not an IP address") from None
        if text not in self.addresses():
            raise LabError(f"{address} is not an address of lab {self.prefix}: the lab sends only to its own "
                           f"addresses (the file's, its ping targets' and its clients')")

    def spawn(self, node_or_netns: str, argv: Sequence[str], **popen: Any) -> subprocess.Popen:
        """Start a process in a node's (or any lab) namespace, recorded so that `down` ends it if it still runs."""
        netns = self._netns(node_or_netns)
        with self._locked():
            process = subprocess.Popen(["ip", "netns", "exec", netns, *argv], **popen)
            began = start_time(process.pid)
            if began is not None:
                self.state["processes"].append({"pid": process.pid, "start": began, "what": f"spawn:{netns}",
                                                "argv": list(argv)})
                self.save()
        return process

    def _netns(self, name: str) -> str:
        if name in self.plan.namespaces:
            return name
        return self.plan.netns(name)

    def _own(self, netns: str) -> None:
        if netns not in self.plan.namespaces:
            raise LabError(f"{netns} is not a namespace of lab {self.prefix} (its namespaces: "
                           f"{', '.join(self.plan.namespaces)})")

    # ------------------------------------------------------------ tearing down

    def down(self) -> dict[str, Any]:
        """Remove everything of the lab (idempotent): see `teardown`."""
        self._refresh()
        report = teardown(self.state, self.system)
        self.state["phase"] = "down"
        return report


def flapping(fail: Callable[[], object], heal: Callable[[], object], times: int, every_s: float,
             step: Callable[[float, str], None] | None = None) -> list[tuple[float, str]]:
    """fail, heal, fail, ... heal: `2 * times` changes, change K at K * `every_s` seconds from the start (at once if
    the one before took longer). Interrupted (Ctrl-C, or any error) while failed, it heals before passing the
    interruption on. Returns (seconds from the start, "failed" or "healed") for each change, as `step` is told."""
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise LabError(f"a flap is failing and healing 1 or more times, not {times!r}")
    if isinstance(every_s, bool) or not isinstance(every_s, (int, float)) or not every_s > 0:
        raise LabError(f"the time between a flap's changes must be more than 0 seconds, not {every_s!r}")
    start = time.monotonic()
    changes: list[tuple[float, str]] = []
    cut = False
    try:
        for number in range(2 * times):
            time.sleep(max(0.0, start + number * every_s - time.monotonic()))
            if number % 2 == 0:
                fail()
                cut = True
            else:
                cut = False  # a heal that fails is not tried twice
                heal()
            changes.append((round(time.monotonic() - start, 3), "healed" if number % 2 else "failed"))
            if step is not None:
                step(*changes[-1])
    except BaseException:
        if cut:
            heal()
        raise
    return changes


def _drops(cut: Wiring) -> str:
    """The nft script that makes the switch namespace's drops exactly those of `cut` (deleting any there were):
    one transaction, so no frame passes between the old rules and the new."""
    lines = [f"table bridge {NFT_TABLE}", f"delete table bridge {NFT_TABLE}"]  # the first makes the delete safe
    rules = [f'oifname "{port}" drop' for port in sorted(cut.deaf_ports)]
    rules += [f'iifname "{port}" drop' for port in sorted(cut.mute_ports)]
    if rules:
        lines += [f"table bridge {NFT_TABLE} {{", "  chain forward {",
                  "    type filter hook forward priority 0; policy accept;",
                  *(f"    {rule}" for rule in rules), "  }", "}"]
    return "\n".join(lines) + "\n"


def _nodad(address: str) -> str:
    # IPv6 duplicate address detection would hold the address tentative for a second; the file's addresses are
    # unique (HA201) and the client's are chosen outside them.
    return " nodad" if ":" in address else ""


def _point(link: str, target: str) -> None:
    temporary = f"{link}.new"
    if os.path.lexists(temporary):
        os.unlink(temporary)
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _write_json(path: str, data: Any) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as out:
        json.dump(data, out, indent=1, sort_keys=True)
        out.write("\n")
    os.replace(temporary, path)


# ------------------------------------------------------------------ from the state file alone


def read_state(state_file: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        with open(state_file) as handle:
            state = json.load(handle)
    except FileNotFoundError:
        raise LabError(f"{state_file}: no lab state there (torn down already, or never built)") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise LabError(f"{state_file}: not a lab state file: {exc}") from None
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or "plan" not in state:
        raise LabError(f"{state_file}: not a lab state file of format {STATE_FORMAT}")
    return state


def teardown(state: dict[str, Any], system: System | None = None) -> dict[str, Any]:
    """Remove what the state says the lab made: its processes (by PID and start time), its namespaces (with
    every bridge and veth in them), its folder. Idempotent; tries everything, then raises LabError listing
    what could not be removed. Returns what was done."""
    system = system or System()
    plan = LabPlan.from_json(state["plan"])
    report: dict[str, Any] = {"prefix": plan.prefix, "processes": [], "namespaces": [], "workdir": None,
                              "left_alone": []}
    problems = []
    for record in state.get("processes", []):
        try:
            if end_process(record):
                report["processes"].append(record["pid"])
        except OSError as exc:
            problems.append(f"process {record['pid']} ({record['what']}): {exc}")
    existing = system.namespaces() if state.get("namespaces") else set()
    ours = {record["pid"] for record in state.get("processes", [])}
    for name in reversed(state.get("namespaces", [])):
        if name not in existing:
            continue
        others = [pid for pid in system.namespace_pids(name) if pid not in ours]
        if others:
            report["left_alone"].append({"netns": name, "pids": others})
        try:
            system.delete_namespace(name)
            report["namespaces"].append(name)
        except LabError as exc:
            problems.append(str(exc))
    if state.get("workdir") and not system.dry and os.path.lexists(plan.workdir):
        try:
            shutil.rmtree(plan.workdir)
            report["workdir"] = plan.workdir
        except OSError as exc:
            problems.append(f"cannot remove {plan.workdir}: {exc.strerror}")
    if problems:
        raise LabError(f"lab {plan.prefix} was not torn down completely: " + "; ".join(problems))
    return report


def down(state_file: str | os.PathLike[str], system: System | None = None) -> dict[str, Any]:
    """Tear down the lab of a state file, reading nothing else; a missing state file is a lab already gone."""
    if not os.path.exists(state_file):
        return {"prefix": None, "processes": [], "namespaces": [], "workdir": None, "left_alone": [],
                "note": f"{state_file}: no lab state there (torn down already, or never built)"}
    return teardown(read_state(state_file), system)


def find_labs(base_dir: str | os.PathLike[str] = DEFAULT_BASE) -> list[str]:
    """The state files of the labs under a base folder, oldest first."""
    base = Path(base_dir)
    if not base.is_dir():
        return []
    found = [path for path in base.glob("hl*/lab.json") if valid_prefix(path.parent.name)]
    return [str(path) for path in sorted(found, key=lambda path: path.stat().st_mtime)]


def processes_alive(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in records if same_process(record)]
