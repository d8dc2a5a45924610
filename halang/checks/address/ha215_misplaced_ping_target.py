from halang.checks.address._subnets import all_endpoints, network_of, subnet_text
from halang.checks.registry import Check
from halang.diagnostics import Related, Severity
from halang.model.literals import parse_address

# Subnets named in one message; a network with more is summed up.
_SHOWN = 4


class MisplacedPingTarget(Check):
    """A ping target that lies in no adapter subnet of its network, or that is an address of the cluster itself.

    A network's `ping_targets` are addresses outside the cluster (a router,
    a gateway, a switch's management address) that its adapters probe, so
    that an adapter which hears no peer can still tell its own silent
    failure from the peer's. Each adapter probes only the targets inside its
    own subnet. A target in none of the network's adapter subnets is probed
    by no adapter: it tells nothing, and the subnet it was meant for is left
    without one. A target that is an adapter or service address of the
    cluster answers only while some node of the cluster is up and holds it,
    so reaching it cannot show that the prober's own adapter works (a
    service address may even be up on the prober itself): a target must be
    outside the cluster.

    One finding per target; a target that is a cluster address is reported
    as that, wherever it lies.

    Bad:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot    10.10.1.11/24
          adapter alpha en1 standby 10.10.2.11/24
          adapter bravo en0 boot    10.10.1.12/24
          adapter bravo en1 standby 10.10.2.12/24
          service app_svc 10.10.1.100
          ping_targets = [10.10.3.1, 10.10.1.12]
        }

    Good:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot    10.10.1.11/24
          adapter alpha en1 standby 10.10.2.11/24
          adapter bravo en0 boot    10.10.1.12/24
          adapter bravo en1 standby 10.10.2.12/24
          service app_svc 10.10.1.100
          ping_targets = [10.10.1.1, 10.10.2.1]
        }
    """

    code = "HA215"
    name = "address.misplaced-ping-target"
    severity = Severity.ERROR

    def run(self, context):
        networks = [network for network in context.cluster.networks if network.ping_targets]
        if not networks:
            return
        owners = {}  # (version, value) -> the first adapter or service with that address
        for endpoint in all_endpoints(context):  # file order: the first use owns the address, as for HA201
            owners.setdefault((endpoint.version, endpoint.value), endpoint)
        for network in networks:
            subnets = {}  # (version, first address, prefix) -> the first adapter on that subnet
            for adapter in network.adapters:
                key = (adapter.version, network_of(adapter.version, adapter.value, adapter.prefix), adapter.prefix)
                subnets.setdefault(key, adapter)
            prefixes = sorted({(version, prefix) for version, _, prefix in subnets})
            for number, text in enumerate(network.ping_targets):
                target = parse_address(text)
                span = network.span(f"ping_targets[{number}]")
                owner = owners.get((target.version, target.value))
                if owner is not None:
                    where = "" if owner.network.name == network.name else f" on network {owner.network.name}"
                    yield self.finding(
                        span, f"ping target {text} of network {network.name} is the address of {owner.label}"
                              f"{where}: a target must be outside the cluster",
                        "a cluster address answers only while a node holds it, so reaching it shows nothing of "
                        "the prober's own adapter: name a router or gateway of the subnet",
                        related=(Related(owner.span, owner.label),))
                elif not any((version, network_of(version, target.value, prefix), prefix) in subnets
                             for version, prefix in prefixes if version == target.version):
                    yield self._outside(network, text, span, subnets)

    def _outside(self, network, text, span, subnets):
        if not subnets:
            return self.finding(span, f"ping target {text} of network {network.name} is probed by no adapter: "
                                      "the network has none", "add the network's adapters, or remove the target")
        shown = [subnet_text(version, first, prefix) for version, first, prefix in list(subnets)[:_SHOWN]]
        more = len(subnets) - len(shown)
        listed = ", ".join(shown) + (f" and {more} more" if more else "")
        return self.finding(
            span, f"ping target {text} of network {network.name} lies in none of its adapter subnets ({listed}): "
                  "no adapter probes it",
            "each adapter probes the targets inside its own subnet: name an address of one of them, such as its "
            "router")
