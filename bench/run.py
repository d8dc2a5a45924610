#!/usr/bin/env python3
"""`make bench`: time `halang verify` on generated clusters and write docs/performance.md.

Each measurement runs in a fresh process (peak memory is that process's
maximum resident set). Timings are wall-clock on this machine; the table
records the machine and the date, never a pass/fail threshold.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import engine_bench  # noqa: E402
from generate import generate  # noqa: E402

STATIC_SIZES = (50, 500, 5000)

STAGES = r"""
import gc, json, resource, sys, time
from halang.diagnostics import DiagnosticSink, SourceText
from halang.checks.context import CheckContext
from halang.checks.registry import static_checks
from halang.model import build_model
from halang.syntax import parse

gc.disable()  # as verify_source does
text = open(sys.argv[1]).read()
times = {}
start = time.perf_counter()
tree, findings = parse(text)
times["parse"] = time.perf_counter() - start
start = time.perf_counter()
sink = DiagnosticSink(findings)
cluster = build_model(tree, sink)
times["model"] = time.perf_counter() - start
start = time.perf_counter()
context = CheckContext(cluster, tree, 0)
for check in static_checks():
    sink.items.extend(check.run(context))
times["checks"] = time.perf_counter() - start
times["findings"] = len(sink.items)
print(json.dumps(times))
"""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def static_table(workdir: Path) -> list[str]:
    rows = ["| nodes | file size | tokens | verify --faults 0 | peak memory | parse | model | checks | findings |",
            "|---|---|---|---|---|---|---|---|---|"]
    for nodes in STATIC_SIZES:
        path = workdir / f"bench_{nodes}.ha"
        text = generate(nodes)
        path.write_text(text)
        tokens = sum(1 for _ in __import__("re").finditer(r'"[^"]*"|[\w.:/-]+|[{}\[\]=,]', text))
        elapsed, peak, _ = measure([sys.executable, "-m", "halang.cli", "verify", str(path), "--faults", "0",
                                    "--format", "json"])
        _, _, stages_out = measure([sys.executable, "-c", STAGES, str(path)])
        stages = json.loads(stages_out)
        total = stages["parse"] + stages["model"] + stages["checks"]
        share = {name: f"{stages[name]:.2f} s ({100 * stages[name] / total:.0f}%)" for name in ("parse", "model", "checks")}
        rows.append(f"| {nodes:,} | {len(text) / 2**20:.1f} MiB | {tokens:,} | {elapsed:.2f} s | {peak:.0f} MiB | "
                    f"{share['parse']} | {share['model']} | {share['checks']} | {stages['findings']} |")
        print(rows[-1], flush=True)
    return rows


def measure(command: list[str]) -> tuple[float, float, str]:
    """Run a command in a fresh process; wall seconds, its peak RSS in MiB, its stdout."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "start = time.perf_counter()\n"
               "result = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "elapsed = time.perf_counter() - start\n"
               "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
               "sys.stderr.write(result.stderr)\n"
               "print(f'{elapsed} {peak}')\n"
               "print(result.stdout, end='')\n")
    result = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True, cwd=ROOT)
    first, _, rest = result.stdout.partition("\n")
    elapsed, peak = (float(value) for value in first.split())
    return elapsed, peak, rest


ANALYSIS_RUNS = ((8, 1), (8, 2), (8, 3), (32, 1), (32, 2), (32, 3), (128, 1), (128, 2), (512, 1))

ENUMERATE = r"""
import itertools, json, math, random, sys, time
sys.path.insert(0, sys.argv[3])
from smt_bench import generate
from halang.diagnostics import SourceText
from halang.verify import load
from runtime.core.failures import all_components
from runtime.core.placement import place
from runtime.core.snapshot import load_snapshot
from runtime.core.topology import assess, hosts

nodes, faults = int(sys.argv[1]), int(sys.argv[2])
cluster, _, _ = load(SourceText(generate(nodes), "bench.ha"))
spec = load_snapshot(json.loads(cluster.to_json()))
components = all_components(spec)
start = place(spec, ())
total = sum(math.comb(len(components), k) for k in range(1, faults + 1))

def one(failed):
    status = assess(spec, failed)
    place(spec, status, start)
    for group in spec.groups:
        hosts(spec, status, group)

random.seed(1)
sample = [tuple(random.sample(components, random.randint(1, faults))) for _ in range(20)]
began = time.perf_counter()
for failed in sample:
    one(failed)
per_set = (time.perf_counter() - began) / len(sample)
if per_set * total <= 60:
    began = time.perf_counter()
    for k in range(1, faults + 1):
        for failed in itertools.combinations(components, k):
            one(failed)
    print(json.dumps({"sets": total, "seconds": time.perf_counter() - began, "estimated": False}))
else:
    print(json.dumps({"sets": total, "seconds": per_set * total, "estimated": True}))
"""


def analysis_table() -> list[str]:
    rows = ["| nodes | K | analyse (z3) | peak memory | findings | failure sets | enumeration | ratio |",
            "|---|---|---|---|---|---|---|---|"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for nodes, faults in ANALYSIS_RUNS:
        solver = subprocess.run([sys.executable, str(HERE / "smt_bench.py"), str(nodes), str(faults)],
                                capture_output=True, text=True, cwd=ROOT, env=env)
        enumeration = subprocess.run([sys.executable, "-c", ENUMERATE, str(nodes), str(faults), str(HERE)],
                                     capture_output=True, text=True, cwd=ROOT, env=env)
        if solver.returncode or enumeration.returncode:
            rows.append(f"| {nodes} | {faults} | failed: {(solver.stderr or enumeration.stderr).strip()[-200:]} "
                        "| | | | | |")
            continue
        run = json.loads(solver.stdout.strip().splitlines()[-1])
        enum = json.loads(enumeration.stdout.strip().splitlines()[-1])
        found = ", ".join(f"{code} {count}" for code, count in sorted(run["findings"].items())) or "none"
        if run["inconclusive"]:
            found += f"; INCONCLUSIVE {run['inconclusive']}"
        estimated = " est." if enum["estimated"] else ""
        ratio = enum["seconds"] / max(run["analyse_s"], 0.01)
        rows.append(f"| {nodes} | {faults} | {run['analyse_s']:.2f} s | {run['peak_mb']} MiB | {found} | "
                    f"{enum['sets']:,} | {enum['seconds']:.1f} s{estimated} | {ratio:.1f}x |")
        print(rows[-1], flush=True)
    return rows


REACHABLE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[4])
from halang.diagnostics import SourceText
from halang.smt import analyse
from halang.verify import load
from smt_bench import generate

what, faults = sys.argv[1], int(sys.argv[2])
text = generate(int(what)) if what.isdigit() else open(what).read()
cluster, _, _ = load(SourceText(text, "bench.ha"))
began = time.perf_counter()
plain = analyse(cluster, faults, budget_ms=int(sys.argv[3]))
plain_s = time.perf_counter() - began
began = time.perf_counter()
result = analyse(cluster, faults, budget_ms=int(sys.argv[3]), reachable=True)
print(json.dumps({"plain_s": plain_s, "seconds": time.perf_counter() - began, **result.stats["reachable"],
                  "findings": len(result.findings), "plain_findings": len(plain.findings),
                  "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""
REACHABLE_RUNS = (("examples/two_node_replace.ha", 1), ("examples/two_node_replace.ha", 2),
                  ("examples/three_node_quorum.ha", 1), ("examples/three_node_quorum.ha", 2),
                  ("examples/capacity_dependencies.ha", 1), ("8", 1), ("32", 1), ("8", 2))
REACHABLE_BUDGET_MS = 120_000


def reachable_table() -> list[str]:
    rows = ["| cluster | K | analyse | analyse --reachable | states walked | placements | complete | peak memory "
            "| findings (plain, reachable) |", "|---|---|---|---|---|---|---|---|---|"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for what, faults in REACHABLE_RUNS:
        run = subprocess.run([sys.executable, "-c", REACHABLE, what, str(faults), str(REACHABLE_BUDGET_MS), str(HERE)],
                             capture_output=True, text=True, cwd=ROOT, env=env)
        name = f"smt_bench {what} nodes" if what.isdigit() else f"`{what}`"
        if run.returncode:
            rows.append(f"| {name} | {faults} | failed: {run.stderr.strip()[-200:]} | | | | | | |")
            continue
        data = json.loads(run.stdout.strip().splitlines()[-1])
        complete = "yes" if data["complete"] else "no: HA300"
        rows.append(f"| {name} | {faults} | {data['plain_s']:.2f} s | {data['seconds']:.2f} s | {data['states']:,} | "
                    f"{data['placements']:,} | {complete} | {data['peak_mb']} MiB | "
                    f"{data['plain_findings']}, {data['findings']} |")
        print(rows[-1], flush=True)
    return rows


SECTIONS = ("static", "analysis", "reachable", "engine", "sim")


def sim_table() -> list[str]:
    run = subprocess.run([sys.executable, str(HERE / "sim_bench.py"), "20"], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    if run.returncode:
        return [f"failed: {run.stderr.strip()[-300:]}"]
    data = json.loads(run.stdout.strip().splitlines()[-1])
    return ["| schedules | chaos | simulated (median, with the quiet phase) | wall (median) | wall (max) | steps "
            "(median) | simulated / wall |", "|---|---|---|---|---|---|---|",
            f"| {data['schedules']} | 200 s | {data['simulated_s']:.0f} s | {data['median_s']:.2f} s | "
            f"{data['max_s']:.2f} s | {data['steps']:.0f} | {data['ratio']:.0f}x |"]


def sections(today: str, workdir: Path) -> dict:
    """Each section of docs/performance.md, by name, as a function that measures and returns its lines."""
    return {
        "static": lambda: [f"## verify, static checks only ({today})", "", f"Machine: {machine()}.", "",
                           "Generated by `bench/generate.py`: per node four adapters and ten groups with a service "
                           "address each. Stage shares come from a separate run of the same file.", ""]
        + static_table(workdir),
        "analysis": lambda: [f"## verify, failure analysis ({today})", "", f"Machine: {machine()}.", "",
                             "Clusters from `bench/smt_bench.py` (eight groups per node, two networks with two "
                             "switches each, a disk link that is also the tie-breaker, racks of 8 as failure "
                             "domains, capacities). `analyse` is the z3 analysis alone (the file is already "
                             "parsed); *enumeration* applies every failure set of up to K components through the "
                             "runtime's placement function (`assess`, `hosts`, `place`), timed on a sample and "
                             "multiplied out where the whole run would take over a minute (marked *est.*).", ""]
        + analysis_table(),
        "reachable": lambda: [f"## verify --reachable ({today})", "", f"Machine: {machine()}.", "",
                              "The same analysis from every placement the nodes can reach through earlier failures "
                              "that have since recovered (halang/smt/reachable.py): *states walked* are (placement, "
                              "failed components, waiting fallbacks) states of the cluster, explored breadth first "
                              f"with the runtime's `transition` within a budget of {REACHABLE_BUDGET_MS // 1000} s "
                              "and at most 200,000 states; *placements* are the distinct placements with nothing "
                              "failed (startup included), each analysed for HA213, HA406 and HA502. Where the walk "
                              "cannot finish, verify reports HA300.", ""]
        + reachable_table(),
        "engine": lambda: [f"## The node engine on a namespace lab ({today})", "", f"Machine: {machine()}.", "",
                           "bench/engine_bench.py (its docstring says how each number is taken).", ""]
        + engine_bench.rows(),
        "sim": lambda: [f"## The whole-cluster simulator ({today})", "", f"Machine: {machine()}.", "",
                        "bench/sim_bench.py: schedules of 200 simulated seconds of chaos on 4-node clusters (the "
                        "first seeds that draw one), each followed by its quiet phase, one process (docs/testing.md)."
                        , ""]
        + sim_table(),
    }


def main() -> None:
    """`bench/run.py [SECTION ...]`: measure the sections named (all by default) and rewrite those sections of
    docs/performance.md, keeping the others as they were."""
    chosen = sys.argv[1:] or list(SECTIONS)
    unknown = [name for name in chosen if name not in SECTIONS]
    if unknown:
        raise SystemExit(f"no section {', '.join(unknown)}: choose from {', '.join(SECTIONS)}")
    target = ROOT / "docs" / "performance.md"
    kept = _read_sections(target)
    with tempfile.TemporaryDirectory() as workdir:
        measure_section = sections(datetime.date.today().isoformat(), Path(workdir))
        for name in chosen:
            kept[name] = "\n".join(measure_section[name]())
    lines = ["# Performance", "", "Written by `make bench` (bench/run.py); numbers are wall-clock on the machine named,",
             "one run each, in fresh processes. Targets are in the issues; tests never assert timings.", ""]
    for name in list(SECTIONS) + [name for name in kept if name not in SECTIONS]:  # then the hand-written ones
        if name in kept:
            lines += [kept[name], ""]
    target.write_text("\n".join(lines).rstrip("\n") + "\n")
    print(f"wrote {target.relative_to(ROOT)}")


HEADINGS = {"## verify, static": "static", "## verify, failure": "analysis", "## verify --reachable": "reachable",
            "## The node engine": "engine", "## The whole-cluster simulator": "sim"}


def _read_sections(path: Path) -> dict:
    found: dict = {}
    if not path.exists():
        return found
    name = None
    for line in path.read_text().splitlines():
        if line.startswith("## "):  # a section make bench does not measure is kept under its own heading
            name = next((section for heading, section in HEADINGS.items() if line.startswith(heading)), line)
            found[name] = []
        if name:
            found[name].append(line)
    return {section: "\n".join(lines).rstrip("\n") for section, lines in found.items()}


if __name__ == "__main__":
    main()
