"""The network-namespace lab: a cluster of a `.ha` file on one machine, for the node engine's tests and
`halang lab` (docs/lab.md).

- `plan_lab(snapshot, prefix, base_dir)`: pure; names and addresses everything (`LabPlan`, JSON).
- `Lab.up(path_or_cluster, base_dir, prefix)`: builds it (root); `Lab.load(state_file)` in another process.
- `lab.fail(component)`, `lab.heal(component)`: faults by the names `halang simulate` uses.
- `lab.down()`, `down(state_file)`: remove everything, idempotently, from the state file alone.

Every error is a `LabError` whose message says what went wrong and what to do.
"""

from halang.lab.faults import Wiring, wiring
from halang.lab.lab import DEFAULT_BASE, Lab, down, find_labs, load_cluster, read_state, teardown
from halang.lab.plan import LabError, LabPlan, plan_lab
from halang.lab.system import System

__all__ = ["DEFAULT_BASE", "Lab", "LabError", "LabPlan", "System", "Wiring", "down", "find_labs", "load_cluster",
           "plan_lab", "read_state", "teardown", "wiring"]
