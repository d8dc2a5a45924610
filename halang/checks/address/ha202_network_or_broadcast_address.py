from halang.checks.address._subnets import BITS, address_text, all_endpoints, network_of
from halang.checks.registry import Check
from halang.diagnostics import Severity


class NetworkOrBroadcastAddress(Check):
    """An address that is its subnet's network or broadcast address.

    An IPv4 address whose host bits are all zero is the subnet's network
    address, and one whose host bits are all ones its broadcast address:
    neither can be given to an interface as its own, and a service address
    of that kind is refused (or, worse, swallowed as a broadcast) when a
    takeover tries to bring it up on the surviving node. For IPv6 the
    address with all host bits zero is the subnet-router anycast address,
    which routers answer; it cannot be a host's address either.

    The check applies to IPv4 prefixes up to /30 and IPv6 prefixes up to
    /126; point-to-point /31 and /127 and host routes /32 and /128 use every
    address. Adapters are judged with their own prefix. A service written
    with a /prefix is judged with it; a service without one takes its
    network's boot prefix, as it does when it is brought up (a service whose
    network has no boot adapter of its IP version has no prefix and is not
    judged).

    Bad:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
          service app_svc 10.10.1.255
        }

    Good:
        network net_ether_01 {
          ipat = replace
          adapter alpha en0 boot 10.10.1.11/24
          adapter bravo en0 boot 10.10.1.12/24
          service app_svc 10.10.1.254
        }
    """

    code = "HA202"
    name = "address.network-or-broadcast"
    severity = Severity.ERROR

    def run(self, context):
        for endpoint in all_endpoints(context):
            version, value, prefix = endpoint.version, endpoint.value, endpoint.prefix
            if prefix is None or prefix > BITS[version] - 2:
                continue
            first = network_of(version, value, prefix)
            last = first | ((1 << (BITS[version] - prefix)) - 1)
            subnet = f"{address_text(version, first)}/{prefix}"
            if value == first:
                what = "network address" if version == 4 else "subnet-router anycast address"
            elif value == last and version == 4:
                what = "broadcast address"
            else:
                continue
            lowest, highest = address_text(version, first + 1), address_text(version, last - (version == 4))
            yield self.finding(
                endpoint.span,
                f"address {endpoint.address} of {endpoint.label} is the {what} of its subnet {subnet}",
                f"use a host address of {subnet}, from {lowest} to {highest}")
