from halang.checks.registry import Check
from halang.diagnostics import Severity


class SubnetWithoutLink(Check):
    """A subnet is no Corosync link: some node has no adapter on it, or knet's eight links are taken.

    Each IP subnet of the file's networks that every node has an adapter on
    becomes one knet link of `corosync.conf` (boot subnets first, then
    standby subnets). A knet link has an address for every node of the
    nodelist, and a node has at most eight links, so a subnet only some
    nodes are on, or a ninth subnet, carries no Corosync heartbeat: the
    heartbeat paths halang counted on it are gone in Pacemaker. When no
    subnet joins every node, `corosync.conf` has no link at all and Corosync
    cannot form the cluster; that is reported at the cluster's name.

    Fix: put every node on the subnet, or let the other links carry the
    heartbeats and accept the finding.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          node charlie { }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24
            adapter bravo   en0 boot 10.10.1.12/24
            adapter charlie en0 boot 10.10.1.13/24
          }
          network net_backup {
            adapter alpha en2 boot 10.10.8.11/24
            adapter bravo en2 boot 10.10.8.12/24
          }
          resource_group web { nodes = [alpha, bravo, charlie] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          node charlie { }
          network net_ether_01 {
            adapter alpha   en0 boot 10.10.1.11/24
            adapter bravo   en0 boot 10.10.1.12/24
            adapter charlie en0 boot 10.10.1.13/24
          }
          network net_backup {
            adapter alpha   en2 boot 10.10.8.11/24
            adapter bravo   en2 boot 10.10.8.12/24
            adapter charlie en2 boot 10.10.8.13/24
          }
          resource_group web { nodes = [alpha, bravo, charlie] }
        }
    """

    code = "HA805"
    name = "export.subnet-without-link"
    severity = Severity.WARNING
    phase = "export"
