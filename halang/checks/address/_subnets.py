"""What the address checks share: every address of the file as an `Endpoint`, subnet arithmetic, and
one sort-and-sweep that finds overlapping subnets without comparing every pair.

Subnets are CIDR blocks, so two of them either are disjoint or one contains the other. Sorted by
start address (the larger block first when two start together), the blocks that contain the
current one are exactly those still open on a stack, and the stack is never deeper than the
number of prefix lengths (33 for IPv4, 129 for IPv6). `earliest_overlaps` uses that to find, for
every entry, the earliest entry (in file order) of another kind whose subnet overlaps its own,
in O(n log n) for the sort and O(n) for the sweep.
"""

from __future__ import annotations

import ipaddress
from typing import Hashable, NamedTuple, Sequence

from halang.diagnostics import Span
from halang.model.cluster import Adapter, Network, Service

BITS = {4: 32, 6: 128}


def network_of(version: int, value: int, prefix: int) -> int:
    """The first address of the subnet `value/prefix`."""
    host_bits = BITS[version] - prefix
    return (value >> host_bits) << host_bits


def last_of(version: int, value: int, prefix: int) -> int:
    """The last address of the subnet `value/prefix`."""
    return network_of(version, value, prefix) | ((1 << (BITS[version] - prefix)) - 1)


def address_text(version: int, value: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def subnet_text(version: int, value: int, prefix: int) -> str:
    return f"{address_text(version, network_of(version, value, prefix))}/{prefix}"


def contains(version: int, value: int, prefix: int, address: int) -> bool:
    """Whether `address` lies in the subnet `value/prefix`."""
    return network_of(version, address, prefix) == network_of(version, value, prefix)


_LOOK_UP = object()


def first_boot_of(network: Network) -> Adapter | None:
    return next((adapter for adapter in network.adapters if adapter.role == "boot"), None)


def effective_prefix(network: Network, service: Service, first_boot=_LOOK_UP) -> int | None:
    """A service's prefix: as written, else the network's boot prefix; None when it has none that fits.

    The model gives a service without a /prefix the prefix of the network's first boot adapter.
    When that adapter is of the other IP version (a mixed network, HA210) the borrowed prefix means
    nothing for the service, so it counts as having none. Passing `first_boot` (the network's first
    boot adapter, or None) saves looking it up for every service.
    """
    prefix = service.prefix
    if prefix is None or prefix > BITS[service.version]:
        return None
    if first_boot is _LOOK_UP:
        first_boot = first_boot_of(network)
    if first_boot is not None and first_boot.version != service.version and prefix == first_boot.prefix:
        return None
    return prefix


class Endpoint(NamedTuple):
    """One address the file gives: an adapter's or a service's, with the network it is on."""

    network: Network
    item: Adapter | Service
    prefix: int | None  # the adapter's prefix, or the service's effective prefix
    version: int
    value: int
    order: int  # position in the file: the start of the adapter or service line
    is_adapter: bool

    @classmethod
    def of(cls, network: Network, item: Adapter | Service, prefix: int | None) -> "Endpoint":
        return cls(network, item, prefix, item.version, item.value, item.span().start, isinstance(item, Adapter))

    @property
    def span(self) -> Span:
        """The address as written: what a finding about this address points at."""
        return self.item.span("address")

    @property
    def label(self) -> str:
        """`adapter alpha/en0` or `service app_svc`."""
        item = self.item
        return f"adapter {item.node}/{item.ifname}" if self.is_adapter else f"service {item.name}"

    @property
    def address(self) -> str:
        return self.item.address

    @property
    def written(self) -> str:
        """The address with its prefix, as the check understands it."""
        return self.address if self.prefix is None else f"{self.address}/{self.prefix}"

    @property
    def subnet(self) -> str:
        return subnet_text(self.version, self.value, self.prefix) if self.prefix is not None else self.address


def network_endpoints(network: Network) -> list[Endpoint]:
    """A network's adapters and services, in file order."""
    first_boot = first_boot_of(network)
    found = [Endpoint.of(network, adapter, adapter.prefix) for adapter in network.adapters]
    found += [Endpoint.of(network, service, effective_prefix(network, service, first_boot))
              for service in network.services]
    found.sort(key=lambda endpoint: endpoint.order)
    return found


def endpoints_by_network(context) -> dict[str, list[Endpoint]]:
    """Each network's endpoints, made once per verify run and shared by the address checks."""
    return context.memo("address.endpoints", lambda: {network.name: network_endpoints(network)
                                                      for network in context.cluster.networks})


def all_endpoints(context) -> list[Endpoint]:
    """Every adapter and service of the cluster, in file order."""
    def collect() -> list[Endpoint]:
        found = [endpoint for endpoints in endpoints_by_network(context).values() for endpoint in endpoints]
        found.sort(key=lambda endpoint: endpoint.order)
        return found

    return context.memo("address.all-endpoints", collect)


class Summary(NamedTuple):
    """The earliest entry of a set, and the earliest whose kind differs from that one's."""

    first: tuple[int, Hashable, int] | None = None  # (order, kind, index)
    second: tuple[int, Hashable, int] | None = None

    def merge(self, other: "Summary") -> "Summary":
        candidates = sorted((c for c in (*self, *other) if c is not None), key=lambda c: c[0])
        if not candidates:
            return Summary()
        first = candidates[0]
        second = next((c for c in candidates if c[1] != first[1]), None)
        return Summary(first, second)

    def earliest_not(self, kind: Hashable) -> tuple[int, Hashable, int] | None:
        for candidate in self:
            if candidate is not None and candidate[1] != kind:
                return candidate
        return None


class Entry(NamedTuple):
    version: int
    value: int
    prefix: int
    order: int  # file position; smaller is earlier
    kind: Hashable  # entries only ever meet entries of another kind


def earliest_overlaps(entries: Sequence[Entry]) -> list[int | None]:
    """For each entry, the index of the earliest entry of another kind whose subnet overlaps its subnet.

    Overlap includes equal subnets and either one containing the other. Entries with equal subnets
    are gathered first; the distinct subnets are swept in address order with a stack of the subnets
    that contain the current one. Each subnet gets the summary of the path to it (the subnets that
    contain it) on the way down and of the subnets it contains on the way back up; the two together
    hold the earliest entry of every kind that overlaps it.
    """
    by_subnet: dict[tuple[int, int, int], list[int]] = {}
    for index, entry in enumerate(entries):
        key = (entry.version, network_of(entry.version, entry.value, entry.prefix), entry.prefix)
        by_subnet.setdefault(key, []).append(index)

    own: dict[tuple[int, int, int], Summary] = {}
    for key, members in by_subnet.items():
        summary = Summary()
        for index in members:
            summary = summary.merge(Summary((entries[index].order, entries[index].kind, index)))
        own[key] = summary

    total: dict[tuple[int, int, int], Summary] = {}
    # Stack items: [subnet key, last address, summary of the path to it, summary of its subtree so far].
    stack: list[list] = []

    def close() -> None:
        key, _, path, subtree = stack.pop()
        total[key] = path.merge(subtree)
        if stack:
            stack[-1][3] = stack[-1][3].merge(subtree)

    for key in sorted(by_subnet):  # version, start, then prefix: the larger block first
        version, start, prefix = key
        while stack and (stack[-1][0][0] != version or stack[-1][1] < start):
            close()
        path = stack[-1][2].merge(own[key]) if stack else own[key]
        stack.append([key, last_of(version, start, prefix), path, own[key]])
    while stack:
        close()

    result: list[int | None] = [None] * len(entries)
    for key, members in by_subnet.items():
        summary = total[key]
        for index in members:
            other = summary.earliest_not(entries[index].kind)
            result[index] = other[2] if other is not None else None
    return result
