import difflib

from halang.acceptance import UNACCEPTABLE_PREFIXES
from halang.checks.registry import Check, all_checks
from halang.diagnostics import Severity
from runtime.core.failures import FORMS, ComponentError, parse_component


class InvalidValue(Check):
    """Invalid value: an unknown attribute, or a value outside its allowed set or range.

    Every block has a fixed set of keys, and every key a kind of value. A
    misspelt key is reported with the closest known one rather than ignored:
    a silently ignored `fallback_dealy = 10m` would let a group move back the
    moment its home node returns, the very thing the delay was written to
    prevent. Values are checked too:

    - choices: `quorum` is `majority` or `none`, `fallover` is `next_priority`,
      `least_loaded` or `bring_offline`, an adapter's role is `boot` or
      `standby`, an event is one of the kinds the nodes raise (`node_down`,
      `rg_move`, ...);
    - ranges: `interval` 10ms to 60s, `miss_limit` 2 to 100, `port` 1 to
      65535, `restarts` 0 to 100;
    - kinds: a duration where a duration is due (`interval = 5` is not five
      seconds), an absolute path for `key_file`, link devices and mount
      points, a Linux interface name of 1 to 15 characters, `ssh` as
      `user@host:port`, a node at most once in a group's `nodes`;
    - the heartbeat's `tie_breaker` must name a `disk` link and cannot go
      with `quorum = none`, which ignores it;
    - `accept` takes a code that exists and that can be accepted: syntax and
      name errors (HA0xx, HA1xx) leave the file not understood until they are
      fixed, so they can never be accepted; the scenario of `accept ... when
      [...]` names components of this cluster, written as the findings and
      `halang simulate --fail` write them (`node:alpha`, `switch:sw1`).

    One HA104 is a warning: an `accept ... when` that matches no finding. A
    stale acceptance hides nothing today but would silently accept a
    different failure tomorrow if the cluster changed to show it; it is
    reported where that is certain (a static code, or an analysis that ran
    to the end at that depth), to be corrected or removed.

    The value is left out and the attribute keeps its default, so the rest of
    the file is still checked.

    Bad:
        cluster payments {
          heartbeat { intervall = 1s  port = 74000 }
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group app_a { nodes = [alpha, bravo]  fallover = next_node }
          accept HA102 "bravo is added next quarter"
          accept HA306 "both down is a site outage" when ["node:alpha", "node:brovo"]
        }

    Good:
        cluster payments {
          heartbeat { interval = 1s  port = 7400 }
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group app_a { nodes = [alpha, bravo]  fallover = next_priority }
          accept HA601 "the heartbeat VLAN carries nothing else"
          accept HA306 "both down is a site outage" when ["node:alpha", "node:bravo"]
        }
    """

    code = "HA104"
    name = "model.invalid-value"
    severity = Severity.ERROR
    phase = "model"

    # Most HA104 findings come from the model builder; the accept lines are checked here,
    # because only the registry knows which codes exist and only the whole cluster its components.
    def run(self, context):
        codes = all_checks()
        scenarios = []
        for accept in context.cluster.accepts:
            code = accept.code
            if code not in codes:
                if code.upper() in codes:
                    hint = f"codes are written in capitals: {code.upper()}"
                else:
                    close = difflib.get_close_matches(code.upper(), list(codes), n=1, cutoff=0.8)
                    hint = f"did you mean {close[0]}?" if close else "`halang explain` lists every code"
                yield self.finding(accept.span("code"), f"there is no code '{code}' to accept", hint)
            elif code.startswith(UNACCEPTABLE_PREFIXES):
                yield self.finding(accept.span("code"),
                                   f"{code} cannot be accepted: the file is not understood until it is fixed",
                                   f"fix what {code} reports and remove this accept line")
            elif accept.when:
                scenarios.append(accept)
        if not scenarios:
            return
        spec = context.spec
        if spec is None:
            return  # the model is incomplete where other findings say so: no component is certain
        for accept in scenarios:
            yield from self._scenario(accept, spec)

    def _scenario(self, accept, spec):
        """The scenario's components, read as `halang simulate --fail` reads them (runtime.core.failures)."""
        for number, name in enumerate(accept.when):
            span = accept.span(f"when[{number}]")
            try:
                component = parse_component(name, spec)
            except ComponentError as exc:
                message, _, suggestion = str(exc).partition("; ")
                yield self.finding(span, f"accept {accept.code} when: {message}",
                                   suggestion or f"components are named as in `halang simulate --fail`: {FORMS}")
                continue
            if component.text != name:
                yield self.finding(span, f"accept {accept.code} when: write the component as '{component.text}'",
                                   "findings name components exactly so, and a scenario matches them exactly")
