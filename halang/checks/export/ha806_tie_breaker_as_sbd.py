from halang.checks.registry import Check
from halang.diagnostics import Severity


class TieBreakerAsSbd(Check):
    """Corosync has no disk tie-breaker: the `tie_breaker` disk becomes SBD's disk, which fences but gives no vote.

    In halang, when a partition holds exactly half the nodes, the half that
    reaches the `tie_breaker` disk keeps quorum. Corosync's votequorum
    counts votes only: with four nodes split two and two, neither half is
    quorate and Pacemaker stops every group (`no-quorum-policy=stop`). With
    two nodes, `two_node: 1` keeps both quorate when they lose each other,
    and the first to fence the other wins. The export writes SBD's settings
    for the disk (`sbd.conf`: poison-pill fencing with a watchdog), so the
    disk still protects the data, but it no longer decides who runs.

    Fix: a corosync-qdevice on a third machine gives the tie-breaking vote;
    or accept the finding.

    Bad:
        cluster shop {
          heartbeat { quorum = majority  tie_breaker = hb_disk }
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          link hb_disk { type = disk  device = "/dev/mapper/hb"  nodes = [alpha, bravo] }
          resource_group web { nodes = [alpha, bravo] }
        }

    Good:
        cluster shop {
          heartbeat { quorum = majority }
          node alpha { }
          node bravo { }
          node charlie { }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24
            adapter bravo   en0 boot 10.10.1.12/24
            adapter charlie en0 boot 10.10.1.13/24
          }
          resource_group web { nodes = [alpha, bravo] }
        }
    """

    code = "HA806"
    name = "export.tie-breaker-as-sbd"
    severity = Severity.WARNING
    phase = "export"
