#!/usr/bin/env python3
"""Time the parsers on a large generated cluster: the regex fast path and the LALR driver.

    python bench/parse_profile.py [NODES] [--repeat N] [--profile]

NODES (default 5000: about 13 MB and 2.1 M tokens) goes to bench/generate.py.
Each parser runs N times (default 3) and the best time is printed; both must
build the same tree. --profile prints cProfile's top functions of one fast run.
"""

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import count_tokens, generate  # noqa: E402

from halang.syntax.fastpath import parse_fast  # noqa: E402
from halang.syntax.parser import TreeBuilder, table_parser  # noqa: E402


def best_of(repeat: int, run):
    """The fastest of `repeat` runs, in seconds, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None  # free the previous tree before building the next
        began = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - began)
    return best, result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("nodes", type=int, nargs="?", default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args(argv)

    text = generate(args.nodes)
    tokens = count_tokens(text)
    print(f"{args.nodes} nodes: {len(text) / 1e6:.1f} MB, ~{tokens / 1e6:.2f} M tokens")
    lalr = table_parser()
    parse_fast("cluster warm_up { }")  # compile the patterns outside the timing

    fast_time, fast_tree = best_of(args.repeat, lambda: parse_fast(text))
    print(f"parse_fast:  {fast_time:6.2f} s  ({fast_time / tokens * 1e9:.0f} ns/token)")
    if fast_tree is None:
        sys.exit("parse_fast gave up on the generated file")
    lalr_time, lalr_tree = best_of(args.repeat, lambda: lalr.parse(text, TreeBuilder()))
    print(f"TableParser: {lalr_time:6.2f} s  ({lalr_time / tokens * 1e9:.0f} ns/token)")
    print(f"speed-up:    {lalr_time / fast_time:6.1f} x")
    if fast_tree != lalr_tree:
        sys.exit("the two parsers built different trees")

    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(parse_fast, text)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(12)


if __name__ == "__main__":
    main()
