from halang.checks.registry import Check
from halang.diagnostics import Severity


class DuplicateName(Check):
    """Duplicate name: a name defined twice.

    Every node, network, link and resource group has a name of its own in the
    cluster; service labels are unique across all networks; an application, a
    filesystem's mount point and an event kind appear once in their group or
    cluster; and a node has one adapter line per interface, across all
    networks. Event scripts, `halang simulate` and the node logs name things by
    these names, as clRGinfo and the HACMP event scripts do, so a name that
    means two things would make every message about it ambiguous.

    The second definition is reported, pointing back at the first, and is left
    out; what refers to the name refers to the first. Rename one of the two, or
    merge them if they were meant to be one.

    Bad:
        cluster payments {
          node alpha { }
          node alpha { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter alpha en0 boot 10.10.1.12/24
          }
        }

    Good:
        cluster payments {
          node alpha { }
          node bravo { }
          network net_ether_01 {
            adapter alpha en0 boot 10.10.1.11/24
            adapter bravo en0 boot 10.10.1.12/24
          }
        }
    """

    code = "HA101"
    name = "model.duplicate-name"
    severity = Severity.ERROR
    phase = "model"
