"""The network-namespace lab: a cluster of a `.ha` file on one machine, for the node engine's tests and
`halang lab` (docs/lab.md).

- `plan_lab(snapshot, prefix, base_dir)`: pure; names and addresses everything (`LabPlan`, JSON).
- `Lab.up(path_or_cluster, base_dir, prefix)`: builds it (root); `Lab.load(state_file)` in another process.
- `lab.fail(component)`, `lab.heal(component)`: faults by the names `halang simulate` uses.
- `lab.down()`, `down(state_file)`: remove everything, idempotently, from the state file alone.
- `LiveLab` (`live.py`): a lab with the node engine running on it, as `halang lab` (`command.py`) drives it.

Every error is a `LabError` whose message says what went wrong and what to do.

The names below load their module when first used: `halang` builds its parser with `halang.lab.command` on
every run, and the lab's modules (and the runtime they read) would add a tenth of a second to each command.
"""

from importlib import import_module

DEFAULT_BASE = "/run/halang-lab"  # a tmpfs that a reboot empties, like /run/netns

_MODULES = {
    "Lab": "lab", "down": "lab", "find_labs": "lab", "load_cluster": "lab", "read_state": "lab", "teardown": "lab",
    "LabError": "plan", "LabPlan": "plan", "plan_lab": "plan",
    "System": "system",
    "Wiring": "faults", "wiring": "faults",
    "LiveLab": "live",
}

__all__ = ["DEFAULT_BASE", *_MODULES]


def __getattr__(name: str):
    if name not in _MODULES:
        raise AttributeError(f"module 'halang.lab' has no attribute '{name}'")
    return getattr(import_module(f"halang.lab.{_MODULES[name]}"), name)
