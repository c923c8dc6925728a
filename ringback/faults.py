"""Named fault points: crash tests arm one and the process kills itself there, on a chosen pass.

Test-only. `RINGBACK_FAULTS=after_send_before_record:3` makes the process SIGKILL itself the third
time any thread passes `reach("after_send_before_record")`; several points may be armed, comma
separated. A crash window that is only hit by chance is not proven; an armed point hits it every
run. Disarmed (the default), `reach` is one dict lookup on an empty dict.

`POINTS` names them in the order a lead meets them; docs/operations.md says what each proves.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping

POINTS: Mapping[str, str] = {
    "during_group_commit": "a batch of units (starts, transitions, sends) is written but not yet committed",
    "during_generation": "content is being written: the enrollment is committed as generating, the writer runs",
    "after_state_commit_before_send": "the step is committed as sending; the provider has not been called",
    "after_send_before_record": "the provider accepted the message; its id is not yet committed",
}
ENV_VARIABLE = "RINGBACK_FAULTS"


class FaultSpecError(ValueError):
    """RINGBACK_FAULTS names an unknown point or a pass that is not a positive number."""


def parse(spec: str) -> dict[str, int]:
    """`"a:3,b"` → `{"a": 3, "b": 1}`; unknown points are an error, never silently ignored."""
    armed: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, count = part.partition(":")
        if name not in POINTS:
            raise FaultSpecError(f"{ENV_VARIABLE}: unknown fault point {name!r} (known: {', '.join(POINTS)})")
        if count and not (count.isdigit() and int(count) > 0):
            raise FaultSpecError(f"{ENV_VARIABLE}: {part!r} needs a positive pass number after the colon")
        armed[name] = int(count or 1)
    return armed


_armed: dict[str, int] = {}
_lock = threading.Lock()


def arm(spec: str) -> None:
    """Arm the points of `spec` (replacing what was armed); an empty spec disarms everything."""
    armed = parse(spec)
    with _lock:
        _armed.clear()
        _armed.update(armed)


def reach(point: str) -> None:
    """Mark that this thread passes `point`; on the armed pass, SIGKILL the whole process at once."""
    if point not in _armed:
        return
    with _lock:
        _armed[point] -= 1
        due = _armed[point] == 0
    if due:
        os.kill(os.getpid(), signal.SIGKILL)
