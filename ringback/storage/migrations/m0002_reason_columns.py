"""0002: the reason columns hold every reason the API accepts (engine/fields.py REASON).

`step.note` (300) and `suppression.reason` (200) were narrower than a cancel reason (500), which PostgreSQL
refused mid-transition. SQLite does not enforce lengths, so only PostgreSQL's columns change.
"""

from ringback.engine import fields
from ringback.storage.db import is_sqlite

_COLUMNS = (("step", "note"), ("suppression", "reason"), ("enrollment", "status_reason"))


def up(db) -> None:
    if is_sqlite(db):
        return
    for table, column in _COLUMNS:
        db.execute_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE varchar({fields.REASON})')
