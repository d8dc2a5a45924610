from halang.checks.registry import Check
from halang.diagnostics import Severity


class NoFencing(Check):
    """No fencing: Pacemaker needs a fencing device, and a .ha file describes none.

    Pacemaker recovers a group from a node that stopped answering only after
    it has fenced that node (powered it off or cut it from the storage), so
    that two nodes never run the group at once. halang's own engine releases
    groups on quorum loss instead, and a `.ha` file names no power switch or
    management board. The export therefore leaves `stonith-enabled=true` in
    `cib.xml`: until the site adds a fencing device, Pacemaker starts no
    group, which is safe, and `crm_verify` says why. Every export reports
    this; once the site has added its device, `accept HA801 "why"` records it.

    Bad:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web { nodes = [alpha, bravo] }
        }

    Good:
        cluster shop {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
          resource_group web { nodes = [alpha, bravo] }
          accept HA801 "fence_ipmilan on both iLO boards, configured with pcs stonith create"
        }
    """

    code = "HA801"
    name = "export.no-fencing"
    severity = Severity.WARNING
    phase = "export"
