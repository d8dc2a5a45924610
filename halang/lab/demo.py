"""`make demo` as root: a live failover of the two-node example on a namespace lab, timed from the client.

    python -m halang.lab.demo [--base DIR]

It builds the lab of examples/two_node_replace.ha under a temporary base with the node engine on both nodes
(`LiveLab`, what `halang lab up` does), waits until the client answers at every service address, kills
alpha's daemon and cuts its wiring (`halang lab fail node:alpha`), and times how long the client goes
unanswered at alpha's address until bravo answers it, beside the cluster's detection time. Who answers is
the client's own view: it pings the address and reads its neighbour entry, whose MAC names the node and
adapter. Everything is torn down on the way out, by Ctrl-C or SIGTERM too.

Exit status: 0 the failover happened within BOUND; 1 it did not; 2 the lab could not be built or torn down.
"""

from __future__ import annotations

import argparse
import json
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from halang.lab.engines import service_addresses
from halang.lab.live import LiveLab
from halang.lab.plan import LabError
from runtime.core.placement import place, startup_placement

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "two_node_replace.ha"
FAILED = "alpha"
PROBE_WAIT = 0.1  # seconds a probe waits for its echo reply: the resolution of the times measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m halang.lab.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--base", metavar="DIR", help="the folder of the lab (default: a new temporary folder)")
    args = parser.parse_args(argv)
    base = Path(args.base) if args.base else Path(tempfile.mkdtemp(prefix="halang-demo-"))
    # SIGTERM and a hang-up end the demo as Ctrl-C does: through the teardown below.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, _interrupt)
    live = None
    torn_down = False
    try:
        say(f"A live failover of {EXAMPLE.name} on a namespace lab (we are root).")
        say("Its scripts (/opt/ledger/bin/start, ...) and volume groups are not on this machine, so the daemons "
            "only record them (--drivers recorded); the service addresses, heartbeats and failover are real.")
        say("")
        live = LiveLab.up(EXAMPLE, base)
        code = run(live)
        torn_down = take_down(live)
        return code if torn_down else 2
    except LabError as exc:
        print(f"halang demo: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        say("\ninterrupted")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not stop the teardown halfway
        if live is not None and not torn_down:
            torn_down = take_down(live)
        if torn_down or live is None:
            if not args.base:
                shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"halang demo: the lab is not gone; try again with halang lab down --base {base}", file=sys.stderr)


def run(live: LiveLab) -> int:
    lab, spec = live.lab, live.lab.spec
    network = spec.networks[0].name
    client = lab.client(network)
    detection = spec.heartbeat.interval_ms * spec.heartbeat.miss_limit / 1000
    say(f"Lab {lab.prefix} under {live.base}: nodes "
        + ", ".join(f"{node.name} ({node.netns}, daemon pid {live.daemons[node.name]['pid']})"
                    for node in lab.plan.nodes)
        + f"; the client {client.netns} at {', '.join(client.ips)}.")

    expected = holders_of(startup_placement(spec))
    began = time.monotonic()
    view = wait_for(live, network, expected, within=3 * detection + 15)
    say(f"The client is answered at every service address {time.monotonic() - began:.1f} s after the daemons "
        "started.")
    if not answered_as(view, expected):
        say(render(lab, view))
        say("The service addresses did not come up where the startup placement puts them.")
        return 1
    survivors = sorted(set(holders_of(place(spec, [f"node:{FAILED}"])).values()))
    for node in survivors:
        wait_online(live, node, [group.name for group in spec.groups], within=3 * detection + 15)
    say("\nBefore: the client's view (who answers its ping at each service address, by the MAC of its "
        "neighbour entry)")
    say(render(lab, view))

    after = holders_of(place(spec, [f"node:{FAILED}"]))
    moving = {label: node for label, node in after.items() if expected.get(label) == FAILED}
    say(f"\nFailing node:{FAILED}: its daemon is killed (SIGKILL, as in a crash), then its adapters and its "
        "serial line are cut.")
    failed_at = time.monotonic()
    live.fail([f"node:{FAILED}"])
    bound = 10 * detection + 10
    times = {}
    while len(times) < len(moving) and time.monotonic() - failed_at < bound:
        for label, node in moving.items():
            if label not in times and client_view(live, network, [label])[label][0] == node:
                times[label] = time.monotonic() - failed_at
    view = client_view(live, network)
    say("\nAfter: the client's view")
    say(render(lab, view))
    say("")
    for label, node in moving.items():
        address = service_addresses(lab.spec)[label]
        if label in times:
            say(f"Failover: the client was answered by {node} at {label} {address} {times[label]:.2f} s after "
                f"{FAILED} died (probed every ~{PROBE_WAIT:g} s).")
        else:
            say(f"No failover: {label} {address} was not answered by {node} within {bound:g} s.")
    say(f"The cluster's detection time: interval {spec.heartbeat.interval_ms} ms x miss_limit "
        f"{spec.heartbeat.miss_limit} = {detection:.2f} s, counted from {FAILED}'s last beat (up to one interval "
        "before it died); then come agreement, the takeover and its ARP announcement.")
    for node in survivors:
        for record in events_since(live, node, failed_at):
            say(f"  {node}'s log: {record}")
    return 0 if len(times) == len(moving) else 1


def holders_of(placement) -> dict[str, str]:
    """Service label -> the node a placement puts its address on."""
    return {label: holding.node for holding in placement.addresses for label, _ in holding.services}


def wait_for(live: LiveLab, network: str, expected: dict[str, str], within: float) -> dict:
    deadline = time.monotonic() + within
    view = client_view(live, network)
    while not answered_as(view, expected) and time.monotonic() < deadline:
        time.sleep(0.1)
        view = client_view(live, network)
    return view


def answered_as(view: dict, expected: dict[str, str]) -> bool:
    return all(view.get(label, (None,))[0] == node for label, node in expected.items())


def client_view(live: LiveLab, network: str, labels: list[str] | None = None) -> dict[str, tuple]:
    """Service label -> (node, ifname, mac) that answers the client's ping at its address, as the client's
    neighbour entry says; (None, None, None) if nothing answers."""
    lab = live.lab
    client = lab.client(network)
    owners = adapter_macs(live)
    services = service_addresses(lab.spec, network)
    view = {}
    for label in labels or list(services):
        address = services[label]
        if not lab.ping(client.netns, address, wait=PROBE_WAIT):
            view[label] = (None, None, None)
            continue
        done = lab.exec(client.netns, ["ip", "-j", "neigh", "show", address, "dev", client.ifname], timeout=5)
        entries = json.loads(done.stdout or "[]") if done.returncode == 0 else []
        mac = entries[0].get("lladdr") if entries else None
        view[label] = (*owners.get(mac, ("an unknown MAC", None)), mac)
    return view


def adapter_macs(live: LiveLab) -> dict[str, tuple[str, str]]:
    """MAC -> (node, ifname) of every adapter of the lab."""
    found = {}
    for node in live.lab.plan.nodes:
        done = live.lab.exec(node.netns, ["ip", "-j", "link", "show"], timeout=5)
        for link in json.loads(done.stdout or "[]"):
            if link.get("ifname") != "lo":
                found[link.get("address")] = (node.name, link["ifname"])
    return found


def wait_online(live: LiveLab, node: str, groups: list[str], within: float) -> None:
    """Until the node's log says every group is online somewhere: the cluster has settled, as that node sees it."""
    path = Path(live.daemons[node]["state_dir"]) / "events.jsonl"
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
        online = {record["details"].get("group") for record in records if record.get("event") == "rg_online"}
        if online >= set(groups):
            return
        time.sleep(0.05)


def render(lab, view: dict[str, tuple]) -> str:
    addresses = service_addresses(lab.spec)
    width = max(len(f"{label} {addresses[label]}") for label in view)
    return "\n".join(f"  {label + ' ' + addresses[label]:<{width}}  "
                     + (f"answered by {node} {ifname} ({mac})" if node else "no answer")
                     for label, (node, ifname, mac) in view.items())


def events_since(live: LiveLab, node: str, since: float) -> list[str]:
    """The node's logged events (node_down, rg_move, ...) since a moment of `time.monotonic()`."""
    path = Path(live.daemons[node]["state_dir"]) / "events.jsonl"
    cutoff = time.time() - (time.monotonic() - since)
    said = []
    for line in path.read_text().splitlines():
        record = json.loads(line)
        if record.get("details") is not None and record.get("time", cutoff) >= cutoff:
            said.append(record.get("text", record["event"]))
    return said


def take_down(live: LiveLab) -> bool:
    """Stop the daemons and remove the lab; whether nothing of it is left."""
    prefix = live.lab.prefix
    try:
        stopped, report = live.down()
    except LabError as exc:
        print(f"halang demo: {exc}", file=sys.stderr)
        return False
    left = sorted(name for name in live.lab.system.namespaces() if name.startswith(prefix))
    say(f"\nTorn down: the daemons of {', '.join(stopped) or 'no node'} stopped, "
        f"{len(report['namespaces'])} namespaces removed; "
        + (f"still there: {', '.join(left)}" if left else f"ip netns list shows nothing of lab {prefix}."))
    return not left


def say(text: str) -> None:
    print(text, flush=True)


def _interrupt(number, frame) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
