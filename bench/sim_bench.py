#!/usr/bin/env python3
"""The whole-cluster simulator's speed: wall time of one schedule of 200 simulated seconds of chaos on a
4-node cluster, and of the CI share.

    python bench/sim_bench.py [SCHEDULES]

The 4-node schedules take the first seeds whose drawn cluster has four nodes
and stretch their chaos to 200 s (the schedule's events are those drawn; the
quiet phase that follows is timed too, and reported apart from the chaos).
Prints one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.sim.run import draw_schedule, load_cluster, run_schedule  # noqa: E402


def main() -> None:
    wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    walls, simulated, steps = [], [], []
    seed = 0
    while len(walls) < wanted:
        schedule = draw_schedule(seed, chaos_s=(200, 201))
        seed += 1
        if schedule is None or len(load_cluster(schedule.cluster).node_names) != 4:
            continue
        started = time.perf_counter()
        result = run_schedule(schedule)
        walls.append(time.perf_counter() - started)
        simulated.append(result.simulated_ms / 1000)
        steps.append(result.steps)
    print(json.dumps({"schedules": len(walls), "median_s": statistics.median(walls), "max_s": max(walls),
                      "simulated_s": statistics.median(simulated), "steps": statistics.median(steps),
                      "ratio": statistics.median(simulated) / statistics.median(walls)}))


if __name__ == "__main__":
    main()
