from halang.checks.address._subnets import all_endpoints
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity


class DuplicateAddress(Check):
    """One address used twice anywhere in the cluster.

    Every adapter address and every service address must be unique in the
    whole cluster, across networks and whatever the spelling (`fd00::11`
    and `fd00:0:0::11` are one address). Two interfaces that
    carry one address both answer ARP or neighbour discovery for it, so
    traffic reaches whichever answered last; when a service address is also
    some adapter's address, the takeover that brings the service up on a
    surviving node knocks that adapter off the network, and its heartbeats
    with it, exactly when the cluster is recovering from a failure.

    The check compares addresses, not prefixes: 10.10.1.11/24 and
    10.10.1.11/25 are one address. The first use in the file is taken as
    the owner; every later use is reported, pointing back at the first.

    Bad:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.11/24
          service app_svc 10.10.1.11
        }

    Good:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
          service app_svc 10.10.1.100
        }
    """

    code = "HA201"
    name = "address.duplicate"
    severity = Severity.ERROR

    def run(self, context):
        first_use = {}
        for endpoint in all_endpoints(context):
            key = (endpoint.version, endpoint.value)
            first = first_use.setdefault(key, endpoint)
            if first is endpoint:
                continue
            where = "" if first.network.name == endpoint.network.name else f" on network {first.network.name}"
            yield self.finding(
                endpoint.span,
                f"address {endpoint.address} of {endpoint.label} is already used by {first.label}{where}",
                "give every adapter and service its own address: two interfaces with one address both answer "
                "for it, and a takeover of one knocks the other off the network",
                related=(Related(first.span, "first used here"),))
