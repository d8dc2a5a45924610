from halang.checks.registry import Check
from halang.diagnostics import Severity


class SilentAdapterKeepsGroup(Check):
    """A group stays on an adapter that passes no traffic, because the nodes cannot tell which side failed.

    A cable, a switch port, a VLAN change or a hung NIC can stop an adapter
    passing frames while its link stays up. The node then sees its carrier
    up and hears nothing on that subnet; so does its peer. From silence
    alone neither can tell whose side failed: in a two-adapter subnet the
    two see exactly the same thing. halang treats such silence as doubt, not
    evidence: an adapter in doubt keeps what its node holds and gives
    nothing to another node (LANGUAGE.md, "Who can host a group"), so a
    fault on the backup never takes the primary's group down. The price is
    this finding: when the silent adapter is the one holding a service
    address, the group stays there, and clients are dark until the fault
    is repaired.

    `halang verify` reports it for every minimal failure scenario of at
    most K faults (`port:`, `deaf:`, `mute:`, `hung:`, alone or with
    others) after which a group holds a service address on an adapter that
    passes no frames. Ping targets settle the doubt (PowerHA's netmon.cf,
    which its manuals require for two-node clusters; Serviceguard's polling
    targets; Pacemaker's ping agent): with a router or gateway of each
    subnet in `ping_targets`, an adapter that reaches none while a peer does
    has failed, and the address moves to a working adapter or the group to
    another node.

    Bad:
        cluster payments {    # halang verify --faults 1
          node alpha { }
          node bravo { }
          network net_ether_01 {
            ipat = replace
            adapter alpha en0 boot    10.10.1.11/24 switch sw1
            adapter alpha en1 standby 10.10.2.11/24 switch sw2
            adapter bravo en0 boot    10.10.1.12/24 switch sw1
            adapter bravo en1 standby 10.10.2.12/24 switch sw2
            service app_svc 10.10.1.100
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app { nodes = [alpha, bravo]  service_ips = [app_svc] }
        }

    Good:
        cluster payments {    # halang verify --faults 1
          node alpha { }
          node bravo { }
          network net_ether_01 {
            ipat         = replace
            ping_targets = [10.10.1.1, 10.10.2.1]
            adapter alpha en0 boot    10.10.1.11/24 switch sw1
            adapter alpha en1 standby 10.10.2.11/24 switch sw2
            adapter bravo en0 boot    10.10.1.12/24 switch sw1
            adapter bravo en1 standby 10.10.2.12/24 switch sw2
            service app_svc 10.10.1.100
          }
          link hb_serial { type = rs232  alpha = "/dev/ttyS1"  bravo = "/dev/ttyS1" }
          resource_group app { nodes = [alpha, bravo]  service_ips = [app_svc] }
        }
    """

    code = "HA309"
    name = "analysis.silent-adapter-keeps-group"
    severity = Severity.ERROR
    phase = "analysis"
