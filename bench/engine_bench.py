#!/usr/bin/env python3
"""The node engine on a namespace lab (root): failover time and the CPU an idle daemon uses.

    python3 bench/engine_bench.py [--runs N]     # prints the Markdown rows; bench/run.py puts them in the docs

Failover: `failover_two_node.ha` (the two-node example at interval 100 ms,
miss limit 3). A TCP server in each node namespace answers with its node's
name; a prober in the client namespace opens a new connection to the
ledger's service address every 10 ms, each given 100 ms to answer. A run
starts both daemons afresh, waits until alpha serves the ledger, cuts every
link of alpha at once (the lab's `node:alpha`) and kills its daemon: the
failover time is from the cut to the first answer from bravo. The split:
*decides* is the tick at which bravo's daemon decided to take over (the
`tick_ms` of its logged decision, the same monotonic clock), the rest is
from that decision to the first answer (adding the address, the gratuitous
ARP, the client's next connection).

Idle CPU: `idle_two_networks.ha` (two IP networks and a disk link) at its
1 s default interval and at 100 ms; both daemons run for a minute after
they settle, and the CPU time of each (user + system, /proc) is divided by
the wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from halang.lab import Lab  # noqa: E402
from halang.lab.engines import Engines  # noqa: E402

PORT = 8080
SERVER = r"""
import socket, sys
name = sys.argv[1].encode()
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[2])))
server.listen(128)
while True:
    connection, _ = server.accept()
    try:
        connection.sendall(name)
    except OSError:
        pass
    connection.close()
"""
# A new connection every 10 ms, each given 100 ms; prints "MONOTONIC_NS NAME" for every answer.
PROBER = r"""
import errno, selectors, socket, sys, time
address, port = sys.argv[1], int(sys.argv[2])
selector = selectors.DefaultSelector()
started = {}
next_at = time.monotonic()
while True:
    now = time.monotonic()
    if now >= next_at:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        code = sock.connect_ex((address, port))
        if code in (0, errno.EINPROGRESS):
            selector.register(sock, selectors.EVENT_READ)
            started[sock] = now
        else:
            sock.close()
        next_at += 0.010
    for key, _ in selector.select(max(0.0, next_at - time.monotonic())):
        sock = key.fileobj
        try:
            data = sock.recv(64)
        except OSError:
            data = b""
        if data:
            print(time.monotonic_ns(), data.decode(), flush=True)
        selector.unregister(sock)
        sock.close()
        started.pop(sock, None)
    for sock, began in list(started.items()):
        if time.monotonic() - began > 0.100:
            selector.unregister(sock)
            sock.close()
            del started[sock]
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def failover(runs: int, workdir: Path) -> list[str]:
    path = HERE / "failover_two_node.ha"
    lab = Lab.up(path, base_dir=workdir / "labs")
    times, decided, addressed, missed = [], [], [], 0
    try:
        engines = Engines(lab, path, workdir)
        service = engines.services["ledger_svc"]
        client = lab.client("net_ether_01").netns
        for node in engines.spec.node_names:
            lab.spawn(node, [sys.executable, "-c", SERVER, node, str(PORT)])
        for run in range(runs):
            engines.start()
            if engines.wait_for({"ledger_svc": ["alpha"], "gateway_svc": ["bravo"]}, within=20) != {
                    "ledger_svc": ["alpha"], "gateway_svc": ["bravo"]}:
                raise SystemExit(f"run {run + 1}: the cluster did not start as the placement says")
            prober = lab.spawn(client, [sys.executable, "-u", "-c", PROBER, service, str(PORT)],
                               stdout=subprocess.PIPE, text=True)
            if _first_answer(prober, "alpha", time.monotonic() + 10) is None:
                raise SystemExit(f"run {run + 1}: the client gets no answer from alpha")
            cut_ns = time.monotonic_ns()
            lab.fail("node:alpha")
            engines.kill("alpha")
            at = _first_answer(prober, "bravo", time.monotonic() + 10)
            survivor = None if at is None else (at - cut_ns) / 1e6
            prober.kill()
            prober.wait()
            taken = _takeover(engines, cut_ns, time.monotonic() + 5)
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
        return ["| failover (none answered) | | | | |"]
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
    ]


def _takeover(engines: Engines, cut_ns: int, deadline: float) -> list:
    """When, after the cut (ms), bravo decided to take the ledger over (its log is written after the actions)."""
    while True:
        taken = [record["tick_ms"] - cut_ns / 1e6 for record in engines.log("bravo")
                 if record.get("tick_ms", 0) > cut_ns / 1e6 and ["Acquire", "ledger"] in record.get("actions", ())]
        if taken or time.monotonic() > deadline:
            return taken
        time.sleep(0.05)


def _first_answer(prober: subprocess.Popen, name: str, deadline: float):
    """The time (monotonic ns) of the prober's first answer from `name`, or None by the deadline."""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([prober.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return None
        line = prober.stdout.readline()
        if not line:
            raise SystemExit("the prober stopped")
        at, _, answered = line.strip().partition(" ")
        if answered == name:
            return int(at)
    return None


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


def rows(runs: int = 40) -> list[str]:
    if os.geteuid() != 0:
        return ["Not measured: the lab needs root (run `make bench` as root)."]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    with tempfile.TemporaryDirectory() as workdir:
        lines = [f"Load average when it started (1, 5, 15 min): {load}.", "", "### Failover", ""]
        lines += failover(runs, Path(workdir))
        lines += ["", "### An idle daemon", ""] + idle_cpu(Path(workdir))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    print("\n".join(rows(parser.parse_args().runs)))


if __name__ == "__main__":
    main()
