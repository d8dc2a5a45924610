"""Ping targets for the tests' clusters: the lab reads them from the cluster's spec (`NetworkSpec.ping_targets`),
and these tests give them to the spec directly, whatever files the examples hold."""

import dataclasses

import halang.lab.plan as lab_plan


def give_ping_targets(monkeypatch, targets: dict[str, tuple[str, ...]]) -> None:
    """Every spec the lab reads from a snapshot, while the test runs, has these targets (network -> addresses)."""
    read = lab_plan.load_snapshot

    def load(data):
        spec = read(data)
        networks = tuple(dataclasses.replace(network, ping_targets=targets.get(network.name, network.ping_targets))
                         for network in spec.networks)
        return dataclasses.replace(spec, networks=networks)

    monkeypatch.setattr(lab_plan, "load_snapshot", load)
