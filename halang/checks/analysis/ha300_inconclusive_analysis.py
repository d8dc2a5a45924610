from halang.checks.registry import Check
from halang.diagnostics import Severity


class InconclusiveAnalysis(Check):
    """The failure analysis was inconclusive: not every scenario of at most K faults was settled.

    The failure analysis looks at every set of up to K simultaneous failures
    (`--faults K`), and with `--reachable` at every placement the nodes can
    reach first. It works within a time budget (`--budget`, two minutes by
    default). When the budget runs out, or z3 cannot answer a question, some
    scenarios were not looked at, and a problem may hide among them. That is
    not a pass: `verify` reports this error, says how far the analysis got
    (which codes and subjects were checked up to how many failures), and
    exits 1, and `compile` writes no bundle.

    The fixes, in the order to try them:

    - give the analysis more time: `halang verify --budget 10m FILE` (the
      same option on `compile`); `make bench` in the project shows what a
      cluster of a given size costs;
    - ask about fewer failures at once (a smaller `--faults`), if the site's
      plan does not need more;
    - accept it in the file when the site has weighed it: `accept HA300 "why"`.
      The bundle's `proof.json` then records that the analysis was not
      complete, so everyone can see what the nodes run was not fully proved.

    Bad:
        halang verify --faults 3 --budget 1s big_cluster.ha

    Good:
        halang verify --faults 3 --budget 10m big_cluster.ha
    """

    code = "HA300"
    name = "analysis.inconclusive"
    severity = Severity.ERROR
    phase = "analysis"
