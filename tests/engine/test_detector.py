"""Failure detection, as rows: given beats and carriers at times, then the paths heard."""

from __future__ import annotations

import pytest

from runtime.core.detector import Detector
from tests.runtime.helpers import TWO_NODE, spec

TWO = spec(TWO_NODE)  # interval 1s, miss_limit 5: detection 5 s
BOOT = "net_ether_01:alpha/en0-bravo/en0"
STANDBY = "net_ether_01:alpha/en1-bravo/en1"
SERIAL = "hb_serial:alpha-bravo"


def test_the_node_has_a_path_per_adapter_pair_and_link():
    assert set(Detector(TWO, "alpha", 0).paths) == {BOOT, STANDBY, SERIAL}


# given the last beat on each path (ms) and alpha's carriers, at `now`, then the paths heard (and kept)
ROWS = [
    ("all fresh", {BOOT: 9000, STANDBY: 9500, SERIAL: 9900}, {}, 10_000, {BOOT, STANDBY, SERIAL},
     {BOOT, STANDBY, SERIAL}),
    ("four beats missed: heard, but no longer kept on", {BOOT: 6000, STANDBY: 9500, SERIAL: 9900}, {}, 10_000,
     {BOOT, STANDBY, SERIAL}, {STANDBY, SERIAL}),
    ("five beats missed: down", {BOOT: 5000, STANDBY: 9500, SERIAL: 9900}, {}, 10_000, {STANDBY, SERIAL},
     {STANDBY, SERIAL}),
    ("never heard", {STANDBY: 9500}, {}, 10_000, {STANDBY}, {STANDBY}),
    ("carrier lost: down at once", {BOOT: 9999, STANDBY: 9999, SERIAL: 9999}, {"en0": False}, 10_000,
     {STANDBY, SERIAL}, {STANDBY, SERIAL}),
    ("carrier back: heard again on the next beat", {BOOT: 9999, STANDBY: 9999, SERIAL: 9999},
     {"en0": False, "en1": True}, 10_000, {STANDBY, SERIAL}, {STANDBY, SERIAL}),
]


@pytest.mark.parametrize("beats, carriers, now, heard, kept", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_paths_heard(beats, carriers, now, heard, kept):
    detector = Detector(TWO, "alpha", 0)
    for path, at in beats.items():
        assert detector.beat(path, at)
    for ifname, up in carriers.items():
        detector.carrier(ifname, up, 0)
    assert detector.heard(now) == heard
    assert detector.heard(now, keep=True) == kept


def test_a_beat_on_a_path_the_node_does_not_have_is_refused():
    assert not Detector(TWO, "alpha", 0).beat("net_ether_01:bravo/en0-charlie/en0", 10)


def test_silence_means_nothing_before_a_whole_detection_time():
    detector = Detector(TWO, "alpha", 1000)
    assert not detector.settled(5999) and detector.settled(6000)


def test_silence_means_nothing_for_a_detection_time_after_a_carrier_came_back_to_a_node_cut_off():
    detector = Detector(TWO, "alpha", 0)
    detector.carrier("en0", False, 10_000)
    assert detector.settled(10_000)
    detector.carrier("en0", True, 12_000)
    assert not detector.settled(16_999) and detector.settled(17_000)


def test_a_carrier_that_comes_back_while_the_node_hears_a_peer_changes_nothing():
    detector = Detector(TWO, "alpha", 0)
    detector.carrier("en0", False, 10_000)
    assert detector.beat(SERIAL, 11_500)
    detector.carrier("en0", True, 12_000)
    assert detector.settled(12_000)
