from halang.checks.registry import Check
from halang.diagnostics import Severity


class LinkWithoutTransport(Check):
    """A non-IP link has no Corosync transport: Pacemaker's nodes hear each other only over IP.

    Corosync's knet transport carries heartbeats over IP links only. A serial
    line (`rs232`), a target-mode SCSI or SSA link (`tmscsi`, `tmssa`) or a
    heartbeat disk is not exported, so what halang verified with it (a split
    brain averted when the whole LAN goes, HA302 and HA303) does not hold in
    Pacemaker: losing every IP network looks like a node failure there, and
    fencing decides which node survives. A `disk` link named as the
    `tie_breaker` becomes SBD's disk instead (HA806).

    Fix: give the nodes a second IP network on other switches (another knet
    link), or accept the finding.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group web { nodes = [alpha, bravo] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24 switch sw1
            adapter bravo en0 boot 10.10.1.12/24 switch sw1
          }
          network net_heartbeat {
            adapter alpha en2 boot 10.10.8.11/24 switch sw2
            adapter bravo en2 boot 10.10.8.12/24 switch sw2
          }
          resource_group web { nodes = [alpha, bravo] }
        }
    """

    code = "HA802"
    name = "export.link-without-transport"
    severity = Severity.WARNING
    phase = "export"
