"""The failure analysis: the only code in halang that imports z3.

    from halang.smt import analyse
    result = analyse(cluster, faults=2)          # AnalysisResult
    result.diagnostics()                          # HA213 HA301 HA302 HA306 HA406 HA502 HA604
    result.inconclusive, result.truncated         # what was not settled, what was cut short

Modules, in pipeline order: `topology` (components and heartbeat buses),
`evaluate` (one failure set, directly), `build` and `encode` (the z3 terms),
`properties` (what is asked, per code), `search` (minimal scenarios, level by
level), `timing` (HA604), `analysis` (`analyse`).
"""

from halang.smt.analysis import DEFAULT_BUDGET_MS, analyse
from halang.smt.result import AnalysisResult, Finding, Inconclusive, Truncation

__all__ = ["DEFAULT_BUDGET_MS", "AnalysisResult", "Finding", "Inconclusive", "Truncation", "analyse"]
