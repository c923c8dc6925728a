"""Numbered schema migrations. A number is never reused; each runs once, in order, in a transaction."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from datetime import UTC, datetime

from ringback.storage.models import SchemaVersion

log = logging.getLogger(__name__)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer ringback: running older code on it could corrupt it."""


def _available() -> list[tuple[int, str]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            found.append((int(info.name[1:5]), info.name))
    return sorted(found)


def latest_known() -> int:
    """The newest schema version this ringback can run on."""
    return max((number for number, _ in _available()), default=0)


def schema_version(db) -> int:
    """The version a database is at, without changing it (0 for an empty database)."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return 0
    return max((row.version for row in SchemaVersion.select()), default=0)


def migrate(db) -> int:
    """Apply every pending migration; return the schema version now in force."""
    db.create_tables([SchemaVersion], safe=True)
    applied = {row.version for row in SchemaVersion.select()}
    current = max(applied, default=0)
    known = latest_known()
    if current > known:
        raise SchemaTooNew(
            f"the database is at schema version {current} but this ringback knows only up to {known}: "
            "downgrades are refused. Run the newer version, or restore the backup taken before the upgrade."
        )
    for number, module_name in _available():
        if number in applied:
            continue
        module = importlib.import_module(f"{__name__}.{module_name}")
        with db.atomic():
            module.up(db)
            SchemaVersion.create(version=number, applied_at=datetime.now(UTC))
        log.info("applied migration %04d %s", number, module_name)
        current = max(current, number)
    return current
