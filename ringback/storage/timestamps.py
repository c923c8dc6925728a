"""One timestamp format in every API view: ISO-8601 UTC with a trailing Z."""

from __future__ import annotations

from datetime import datetime


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None
