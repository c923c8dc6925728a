"""0001: the first schema. Later migrations use explicit DDL (playhouse.migrate), never the live models."""

from ringback.storage import models


def up(db) -> None:
    db.create_tables(models.ALL_MODELS, safe=True)
