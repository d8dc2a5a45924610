#!/usr/bin/env python3
"""The node engine on a namespace lab (root): failover, the client's longest dark time, an idle daemon's CPU.

    python3 bench/engine_bench.py [--runs N] [--dark-runs M]   # the Markdown rows; bench/run.py puts them in the docs

The client (tests/lab/cluster.py, `Client`, the same the lab tests use): a
TCP server in each node namespace answers with its node's name; a prober in
the client namespace opens a new connection to the ledger's service address
every 10 ms, each given 100 ms to answer; every answer is kept with its time.

Failover: `failover_two_node.ha` (the two-node example at interval 100 ms,
miss limit 3). A run starts both daemons afresh, waits until alpha serves
the ledger, cuts every link of alpha at once (the lab's `node:alpha`) and
kills its daemon: the failover time is from the cut to the first answer
from bravo. The split: *decides* is the tick at which bravo's daemon
decided to take over (the `tick_ms` of its logged decision, the same
monotonic clock), the rest is from that decision to the first answer
(adding the address, the gratuitous ARP, the client's next connection).

The client's longest dark time: examples/two_node_replace.ha at interval
100 ms, miss limit 3 (as tests/lab/test_inferred_faults.py builds it), with
its ping targets (the router of each subnet) unless said otherwise. A run
starts both daemons afresh, waits until alpha serves the ledger, fails the
components, and takes the longest time without an answer from the moment
of the failure to 2 s after the detection time (counted from the failure
to the first answer, and between answers); the daemons then stop (they
release what they hold) and the components heal. *Node death* is the
failover above, measured the same way. *After a heal*: `quorum = none`, no
targets; both switches hang and the serial line is cut, each node holds both
groups, then everything heals; the dark time counts from the heal (the
client is cut off while the switches hang); the daemons run on from one
heal to the next; a second row flushes the client's neighbour table at each
heal, as if its entries had expired in a longer partition. Each run also
says who served the ledger at its end.

Idle CPU: `idle_two_networks.ha` (two IP networks and a disk link) at its
1 s default interval and at 100 ms; both daemons run for a minute after
they settle, and the CPU time of each (user + system, /proc) is divided by
the wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from halang.lab import Lab  # noqa: E402
from halang.lab.engines import Engines  # noqa: E402
from tests.lab.cluster import Client, seed_file, serve  # noqa: E402

NETWORK = "net_ether_01"
STARTUP = {"ledger_svc": ["alpha"], "gateway_svc": ["bravo"]}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def failover(runs: int, workdir: Path) -> tuple[list[str], list[float]]:
    """The failover rows, and the client's longest dark time of each run (from the cut)."""
    path = HERE / "failover_two_node.ha"
    lab = Lab.up(path, base_dir=workdir / "labs")
    times, decided, addressed, darks, missed = [], [], [], [], 0
    try:
        engines = Engines(lab, path, workdir)
        serve(lab)
        for run in range(runs):
            engines.start()
            client = _client_of_alpha(lab, engines, run)
            cut = time.monotonic()
            lab.fail("node:alpha")
            engines.kill("alpha")
            at = client.first("bravo", cut, within=10)
            survivor = None if at is None else (at - cut) * 1000
            if at is not None:
                time.sleep(max(0.0, cut + _window(engines) - time.monotonic()))
                darks.append(client.dark(cut, cut + _window(engines)) * 1000)
            client.stop()
            taken = _takeover(engines, cut * 1e9, time.monotonic() + 5)
            engines.stop("bravo")
            lab.heal("node:alpha")
            if survivor is None or not taken:
                missed += 1
                print(f"run {run + 1}: no answer from bravo" if survivor is None else
                      f"run {run + 1}: bravo logged no takeover", file=sys.stderr, flush=True)
                continue
            times.append(survivor)
            decided.append(taken[0])
            addressed.append(survivor - decided[-1])
            print(f"run {run + 1}: {survivor:.0f} ms (decided at {decided[-1]:.0f} ms)", file=sys.stderr, flush=True)
    finally:
        lab.down()
    if not times:
        return ["| failover (none answered) | | | | |"], darks
    budget = engines.spec.heartbeat.interval_ms * engines.spec.heartbeat.miss_limit
    return [
        f"Runs: {len(times)} measured, {missed} without an answer from bravo within 10 s. Detection budget: "
        f"{budget} ms.", "",
        "| measure | median | p99 | max | min |", "|---|---|---|---|---|",
        _row("cut -> first answer from bravo", times),
        _row("cut -> bravo decides to take over", decided),
        _row("decision -> first answer", addressed),
        "",
        f"The detection budget counts from the last beat bravo heard, which comes up to an interval before the "
        f"cut, so the failover median ({statistics.median(times):.0f} ms) sits about half an interval under "
        f"it; what the engine spends beyond detection is the last row: {statistics.median(addressed):.0f} ms "
        f"median, {max(addressed):.0f} ms at most.",
    ], darks


def _client_of_alpha(lab, engines: Engines, run: int) -> Client:
    """Once the cluster has started as the placement says, a client of the ledger that alpha answers."""
    if engines.wait_for(STARTUP, within=20) != STARTUP:
        raise SystemExit(f"run {run + 1}: the cluster did not start as the placement says")
    client = Client(lab, lab.client(NETWORK).netns, engines.services["ledger_svc"])
    if client.first("alpha", 0, within=10) is None:
        client.stop()
        raise SystemExit(f"run {run + 1}: the client gets no answer from alpha")
    return client


def _window(engines: Engines) -> float:
    """How long after a failure or a heal the client is watched: the detection time and 2 s."""
    return engines.detection_s + 2


# (what the row says, whether the file has its ping targets, the components failed)
SILENCES = (
    ("the backup's ports silent (`port:bravo/en0`, `port:bravo/en1`)", True, ("port:bravo/en0", "port:bravo/en1")),
    ("the primary's boot port silent (`port:alpha/en0`): swap to en1", True, ("port:alpha/en0",)),
    ("the primary's ports silent (`port:alpha/en0`, `port:alpha/en1`): bravo takes over", True,
     ("port:alpha/en0", "port:alpha/en1")),
)
PARTITION = ("hung:sw1", "hung:sw2", "link:hb_serial")


def silenced(what: str, targets: bool, failed: tuple[str, ...], runs: int, workdir: Path) -> str:
    """The row of one failure that keeps the carrier up: the client's longest dark time over `runs` runs."""
    path = seed_file(workdir, targets=targets)
    lab = Lab.up(path, base_dir=workdir / "labs")
    darks, ends = [], []
    try:
        engines = Engines(lab, path, workdir / "silenced" / failed[-1].replace("/", "_").replace(":", "_"))
        serve(lab)
        for run in range(runs):
            engines.start()
            client = _client_of_alpha(lab, engines, run)
            cut = time.monotonic()
            lab.fail(*failed)
            time.sleep(_window(engines))
            darks.append(client.dark(cut, cut + _window(engines)) * 1000)
            ends.append(",".join(sorted(client.served_by(cut + _window(engines) - 0.5, cut + _window(engines))))
                        or "nobody")
            client.stop()
            engines.stop()
            lab.heal(*failed)
            print(f"{what}, run {run + 1}: dark {darks[-1]:.0f} ms, served by {ends[-1]}", file=sys.stderr,
                  flush=True)
    finally:
        lab.down()
    return _dark_row(what + ("" if targets else ", no targets"), darks, ends)


def healed(runs: int, workdir: Path, afresh: bool = False) -> str:
    """The row of a healed split brain: the client's longest dark time from each heal (`afresh`: the client's
    neighbour table flushed at the heal)."""
    path = seed_file(workdir, targets=False, quorum="none")
    lab = Lab.up(path, base_dir=workdir / "labs")
    both = {"ledger_svc": ["alpha", "bravo"], "gateway_svc": ["alpha", "bravo"]}
    darks, ends, missed = [], [], 0
    try:
        engines = Engines(lab, path, workdir / ("healed-afresh" if afresh else "healed"))
        serve(lab)
        engines.start()
        client = _client_of_alpha(lab, engines, 0)
        for run in range(runs):
            lab.fail(*PARTITION)
            split = engines.wait_for(both, within=10) == both
            time.sleep(engines.detection_s)
            lab.heal(*PARTITION)
            at = time.monotonic()
            if afresh:
                lab.exec(lab.client(NETWORK).netns, ["ip", "neigh", "flush", "all"], check=True)
            time.sleep(_window(engines))
            if not split:
                missed += 1
                print(f"heal, run {run + 1}: the two sides never both held both groups", file=sys.stderr, flush=True)
                continue
            darks.append(client.dark(at, at + _window(engines)) * 1000)
            ends.append(",".join(sorted(client.served_by(at + _window(engines) - 0.5, at + _window(engines))))
                        or "nobody")
            print(f"heal, run {run + 1}: dark {darks[-1]:.0f} ms, served by {ends[-1]}", file=sys.stderr, flush=True)
        client.stop()
        engines.stop()
    finally:
        lab.down()
    what = ("after a split brain heals (`hung:sw1`, `hung:sw2`, `link:hb_serial`, `quorum = none`, no targets), "
            "from the heal" + (", the client's neighbour table flushed then" if afresh else ""))
    return _dark_row(what + (f"; {missed} runs never split" if missed else ""), darks, ends)


def _dark_row(what: str, darks: list[float], ends: list[str]) -> str:
    if not darks:
        return f"| {what} | 0 | | | | |"
    served = ", ".join(f"{name} {ends.count(name)}" for name in sorted(set(ends)))
    return (f"| {what} | {len(darks)} | {statistics.median(darks):.0f} ms | {max(darks):.0f} ms | "
            f"{min(darks):.0f} ms | {served} |")


def dark_times(runs: int, workdir: Path, failover_darks: list[float]) -> list[str]:
    lines = ["| what fails | runs | longest dark time, median | max | min | the ledger served by, at the end |",
             "|---|---|---|---|---|---|",
             _dark_row("node death (`node:alpha`, its daemon killed; `failover_two_node.ha`, no targets)",
                       failover_darks, ["bravo"] * len(failover_darks))]
    for what, targets, failed in SILENCES:
        lines.append(silenced(what, targets, failed, runs, workdir))
        print(lines[-1], file=sys.stderr, flush=True)
    for afresh in (False, True):
        lines.append(healed(runs, workdir, afresh))
        print(lines[-1], file=sys.stderr, flush=True)
    return lines + ["", DARK_NOTE]


DARK_NOTE = (
    "The backup's silence costs the client nothing beyond its own 10 ms between connections: the ledger never "
    "leaves alpha's en0. A silent port drops no carrier: it is seen once its last answer from a target is a "
    "detection time old, and an address moves only on a view both nodes agree to (they still hear each other on "
    "the serial line), so the swap and the takeover take the detection time and a few intervals of agreement, and "
    "the takeover waits for alpha's release to reach bravo too; a dead node's peer, alone, acts at once. After a "
    "short partition the client's neighbour entry still names the node that keeps the address, and a heal costs "
    "it nothing either. A client that asks anew (its entry expired in a longer partition: the flushed row) is "
    "answered by both sides and here kept the MAC address of the side that then lets go; it is dark from that "
    "release until the keeper's announcement, which comes once the nodes have agreed on the view the release "
    "makes (the IP paths come back when the replaced addresses do).")


def _takeover(engines: Engines, cut_ns: float, deadline: float) -> list:
    """When, after the cut (ms), bravo decided to take the ledger over (its log is written after the actions)."""
    while True:
        taken = [record["tick_ms"] - cut_ns / 1e6 for record in engines.log("bravo")
                 if record.get("tick_ms", 0) > cut_ns / 1e6 and ["Acquire", "ledger"] in record.get("actions", ())]
        if taken or time.monotonic() > deadline:
            return taken
        time.sleep(0.05)


def _row(what: str, values: list[float]) -> str:
    return (f"| {what} | {statistics.median(values):.0f} ms | {percentile(values, 0.99):.0f} ms | "
            f"{max(values):.0f} ms | {min(values):.0f} ms |")


def idle_cpu(workdir: Path, seconds: float = 60) -> list[str]:
    rows = ["| interval | CPU of one idle daemon (mean of two) |", "|---|---|"]
    text = (HERE / "idle_two_networks.ha").read_text()
    for interval in ("1s", "100ms"):
        path = workdir / f"idle_{interval}.ha"
        path.write_text(text.replace("heartbeat {", f"heartbeat {{\n    interval = {interval}", 1))
        lab = Lab.up(path, base_dir=workdir / "labs")
        try:
            engines = Engines(lab, path, workdir / interval)
            engines.start()
            engines.wait_for({"web_svc": ["alpha"]}, within=30)
            time.sleep(3)
            before = {node: _cpu_seconds(process.pid) for node, process in engines.processes.items()}
            began = time.monotonic()
            time.sleep(seconds)
            elapsed = time.monotonic() - began
            shares = [(_cpu_seconds(process.pid) - before[node]) / elapsed
                      for node, process in engines.processes.items()]
            engines.stop()
        finally:
            lab.down()
        rows.append(f"| {interval} | {100 * statistics.mean(shares):.2f}% of a core |")
        print(rows[-1], file=sys.stderr, flush=True)
    return rows


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rows(runs: int = 40, dark_runs: int = 20) -> list[str]:
    if os.geteuid() != 0:
        return ["Not measured: the lab needs root (run `make bench` as root)."]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    with tempfile.TemporaryDirectory() as workdir:
        lines = [f"Load average when it started (1, 5, 15 min): {load}.", "", "### Failover", ""]
        failed_over, darks = failover(runs, Path(workdir) / "failover")
        lines += failed_over
        lines += ["", "### The client's longest dark time", "",
                  "Interval 100 ms, miss limit 3 (a 300 ms detection time); the ledger's client asks every 10 ms; "
                  "from the failure (or the heal) to 2 s after the detection time. The failures that keep the "
                  "carrier up are those of tests/lab/test_inferred_faults.py, on examples/two_node_replace.ha with its "
                  "ping targets unless the row says otherwise.", ""]
        lines += dark_times(dark_runs, Path(workdir), darks)
        lines += ["", "### An idle daemon", ""] + idle_cpu(Path(workdir))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="failover runs (default 40)")
    parser.add_argument("--dark-runs", type=int, default=20, help="runs of each dark-time scenario (default 20)")
    arguments = parser.parse_args()
    print("\n".join(rows(arguments.runs, arguments.dark_runs)))


if __name__ == "__main__":
    main()
