"""The fault-point spec: an armed point must be one the code has, on a pass that can happen."""

from __future__ import annotations

import pytest

from ringback import faults


def test_points_and_passes_are_parsed():
    assert faults.parse("during_generation:3, after_send_before_record") == {
        "during_generation": 3,
        "after_send_before_record": 1,
    }
    assert faults.parse("") == {}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("nowhere:1", "unknown fault point 'nowhere'"),
        ("during_generation:0", "positive pass number"),
        ("during_generation:x", "positive pass number"),
    ],
)
def test_an_unknown_point_or_a_bad_pass_is_refused_not_ignored(spec, message):
    with pytest.raises(faults.FaultSpecError, match=message):
        faults.parse(spec)


def test_a_disarmed_point_is_passed_without_effect():
    faults.arm("")
    for point in faults.POINTS:
        faults.reach(point)  # would SIGKILL this test process if armed
