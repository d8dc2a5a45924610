"""Service addresses on the node's adapters: the executor of `engine.Addresses` and `engine.Announce`.

`AddressActuator` makes the node's addresses match what the decision says
(pyroute2, netlink): it adds each service address to its adapter with the
service's prefix, and removes the ones no longer held. Under `ipat =
replace` the service address takes the place of the adapter's own address,
which comes back when the service address leaves (LANGUAGE.md); under
`alias` it is added beside it. After adding, it announces the move:
gratuitous ARP for IPv4 (an ARP request and a reply for the address, from the
adapter's MAC), an unsolicited neighbour advertisement with the override
flag for IPv6, so switches and clients learn the new owner at once.

`route_around(ifnames)` keeps the adapters the view counts as failed out
of the routing table: their connected routes are removed, and put back
when the adapter is trusted again. The kernel does that by itself only when
the carrier drops (`ignore_routes_with_linkdown`); a hung switch leaves the
carrier up, and without this a reply to a client would still leave by the
dead adapter, whose route to the subnet comes first.

`clean()` at start removes every service address of the cluster found on
the node's adapters and puts the adapters' own addresses back: after a crash
the daemon holds nothing it has not decided to hold.

`RecordingActuator` is the fake the tests give the daemon: it records what
it was asked and holds it, without touching the system.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from typing import Dict, List, Optional, Tuple

from runtime.core.snapshot import ClusterSpec

Held = Tuple[Tuple[str, str, str], ...]  # (label, network, ifname)
IFA_F_NODAD = 0x02


class RecordingActuator:
    def __init__(self) -> None:
        self.held: Held = ()
        self.calls: List[Tuple[str, object]] = []

    def apply(self, held: Held) -> List[str]:
        self.calls.append(("apply", held))
        self.held = tuple(held)
        return []

    def announce(self, labels: Tuple[str, ...]) -> None:
        self.calls.append(("announce", tuple(labels)))

    def route_around(self, ifnames: Tuple[str, ...]) -> List[str]:
        self.calls.append(("route_around", tuple(ifnames)))
        return []

    def clean(self) -> List[str]:
        self.calls.append(("clean", ()))
        self.held = ()
        return []


class AddressActuator:
    def __init__(self, spec: ClusterSpec, node: str):
        from pyroute2 import IPRoute  # only the real executor needs netlink

        self.spec = spec
        self.node = node
        self.ipr = IPRoute()
        self.held: Held = ()
        self.avoided: Tuple[str, ...] = ()
        self.services = {service.name: service for service in spec.service_by_name.values()}
        self.own = {adapter.ifname: adapter for adapter in spec.adapters_by_node[node]}

    def _index(self, ifname: str) -> Optional[int]:
        found = self.ipr.link_lookup(ifname=ifname)
        return found[0] if found else None

    def _prefix(self, label: str, ifname: str) -> int:
        service = self.services[label]
        return service.prefix if service.prefix is not None else self.own[ifname].prefix

    def _addresses(self, index: int) -> List[Tuple[str, int]]:
        return [(item.get_attr("IFA_ADDRESS"), item["prefixlen"]) for item in self.ipr.get_addr(index=index)]

    def apply(self, held: Held) -> List[str]:
        """Make the node hold exactly `held`; the errors, as sentences (an adapter gone, say)."""
        errors: List[str] = []
        wanted = set(held)
        for item in self.held:
            if item not in wanted:
                errors += self._remove(*item)
        added = []
        for item in held:
            if item not in self.held:
                problem = self._add(*item)
                errors += problem
                if not problem:
                    added.append(item[0])
        self.held = tuple(held)
        if added:
            self.announce(tuple(added))
        if self.avoided:  # an address put back on an avoided adapter brings its connected route back with it
            errors += self._drop_routes(self.avoided)
        return errors

    def route_around(self, ifnames: Tuple[str, ...]) -> List[str]:
        """Keep exactly `ifnames` out of the routing table; the errors, as sentences."""
        errors = self._restore_routes(tuple(name for name in self.avoided if name not in ifnames))
        self.avoided = tuple(ifnames)
        return errors + self._drop_routes(self.avoided)

    def _connected(self, index: int) -> List[Tuple[int, str, int, str]]:
        """(family, network, prefix, own address) of the adapter's addresses, link-local ones aside."""
        found = []
        for item in self.ipr.get_addr(index=index):
            address = item.get_attr("IFA_ADDRESS")
            if item["family"] == socket.AF_INET6 and address.lower().startswith("fe80"):
                continue
            network = ipaddress.ip_interface(f"{address}/{item['prefixlen']}").network
            found.append((item["family"], str(network.network_address), item["prefixlen"], address))
        return found

    def _drop_routes(self, ifnames: Tuple[str, ...]) -> List[str]:
        errors = []
        for ifname in ifnames:
            index = self._index(ifname)
            if index is None:
                continue
            connected = {(family, network, prefix) for family, network, prefix, _ in self._connected(index)}
            for family in {family for family, _, _ in connected}:
                for route in self.ipr.get_routes(family=family, table=254, oif=index):
                    network, prefix = route.get_attr("RTA_DST"), route["dst_len"]
                    if (family, network, prefix) not in connected:
                        continue
                    try:  # scope "nowhere" matches a route of any scope, as `ip route del` asks
                        self.ipr.route("del", family=family, dst=network, dst_len=prefix, oif=index, table=254,
                                       **({"scope": 255} if family == socket.AF_INET else {}))
                    except Exception as exc:
                        errors.append(f"cannot remove the route to {network}/{prefix} through {ifname}: {exc}")
        return errors

    def _restore_routes(self, ifnames: Tuple[str, ...]) -> List[str]:
        errors = []
        for ifname in ifnames:
            index = self._index(ifname)
            if index is None:
                continue
            for family, network, prefix, address in self._connected(index):
                extra = {"scope": 253, "prefsrc": address} if family == socket.AF_INET else {"priority": 256}
                try:
                    self.ipr.route("replace", family=family, dst=network, dst_len=prefix, oif=index, table=254,
                                   proto=2, **extra)
                except Exception as exc:
                    errors.append(f"cannot put the route to {network}/{prefix} through {ifname} back: {exc}")
        return errors

    def _add(self, label: str, network: str, ifname: str) -> List[str]:
        index = self._index(ifname)
        if index is None:
            return [f"cannot add {label}: there is no interface {ifname}"]
        service = self.services[label]
        try:
            if self.spec.network(network).ipat == "replace":
                adapter = self.own[ifname]
                if (adapter.address, adapter.prefix) in self._addresses(index):
                    self.ipr.addr("del", index=index, address=adapter.address, prefixlen=adapter.prefix)
            extra = {"flags": IFA_F_NODAD} if service.version == 6 else {}  # usable at once, as a takeover needs
            self.ipr.addr("add", index=index, address=service.address, prefixlen=self._prefix(label, ifname), **extra)
        except Exception as exc:  # netlink says why in its own words: keep them
            if "exists" not in str(exc).lower():
                return [f"cannot add {label} {service.address} to {ifname}: {exc}"]
        return []

    def _remove(self, label: str, network: str, ifname: str) -> List[str]:
        index = self._index(ifname)
        if index is None:
            return []
        service = self.services[label]
        errors = []
        try:
            if (service.address, self._prefix(label, ifname)) in self._addresses(index):
                self.ipr.addr("del", index=index, address=service.address, prefixlen=self._prefix(label, ifname))
        except Exception as exc:
            errors.append(f"cannot remove {label} {service.address} from {ifname}: {exc}")
        if self.spec.network(network).ipat == "replace":
            errors += self._restore(ifname, index)
        return errors

    def _restore(self, ifname: str, index: int) -> List[str]:
        adapter = self.own[ifname]
        try:
            if (adapter.address, adapter.prefix) not in self._addresses(index):
                self.ipr.addr("add", index=index, address=adapter.address, prefixlen=adapter.prefix)
        except Exception as exc:
            if "exists" not in str(exc).lower():
                return [f"cannot put {ifname}'s own address {adapter.address} back: {exc}"]
        return []

    def clean(self) -> List[str]:
        """Remove every service address of the cluster from the node's adapters; what was found, as sentences."""
        found = []
        addresses = {service.address: service for service in self.services.values()}
        for ifname, adapter in self.own.items():
            index = self._index(ifname)
            if index is None:
                continue
            for address, prefix in self._addresses(index):
                if address in addresses:
                    self.ipr.addr("del", index=index, address=address, prefixlen=prefix)
                    found.append(f"removed {addresses[address].name} {address} from {ifname}, left by an earlier run")
            self._restore(ifname, index)
        self.held = ()
        self._restore_routes(tuple(self.own))  # a crash may have left an adapter routed around
        self.avoided = ()
        return found

    def announce(self, labels: Tuple[str, ...]) -> None:
        where: Dict[str, str] = {label: ifname for label, _, ifname in self.held}
        for label in labels:
            ifname = where.get(label)
            if ifname is None:
                continue
            service = self.services[label]
            try:
                if service.version == 4:
                    _gratuitous_arp(ifname, service.address)
                else:
                    _unsolicited_na(ifname, service.address)
            except OSError:
                pass  # an announcement is a courtesy to the switches: a failed one is retried at the next move

    def close(self) -> None:
        self.ipr.close()


def _mac(ifname: str) -> bytes:
    with open(f"/sys/class/net/{ifname}/address") as handle:
        return bytes.fromhex(handle.read().strip().replace(":", ""))


def _gratuitous_arp(ifname: str, address: str) -> None:
    mac, ip = _mac(ifname), socket.inet_aton(address)
    broadcast = b"\xff" * 6
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((ifname, 0x0806))
        for operation in (1, 2):  # a request and a reply, as arping -U and -A send
            header = struct.pack("!HHBBH", 1, 0x0800, 6, 4, operation)
            target_mac = b"\x00" * 6 if operation == 1 else broadcast
            sock.send(broadcast + mac + b"\x08\x06" + header + mac + ip + target_mac + ip)


def _unsolicited_na(ifname: str, address: str) -> None:
    target = socket.inet_pton(socket.AF_INET6, address)
    option = struct.pack("!BB", 2, 1) + _mac(ifname)  # target link-layer address
    message = struct.pack("!BBHI", 136, 0, 0, 0x20000000) + target + option  # override flag; the kernel sums it
    with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6) as sock:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
        sock.setsockopt(socket.SOL_SOCKET, 25, ifname.encode())  # SO_BINDTODEVICE
        sock.sendto(message, ("ff02::1", 0, 0, socket.if_nametoindex(ifname)))
