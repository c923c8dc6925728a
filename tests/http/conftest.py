"""An API on each database: for behaviour that differed between SQLite and PostgreSQL."""

from __future__ import annotations

import falcon.testing
import pytest

from ringback.demo import bootstrap
from tests.conftest import POSTGRES_URL, Api
from tests.storage.conftest import _reset_postgres


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_api(request, make_node, clock) -> Api:
    """The demo workspace's API on a node over a SQLite file, then over the local PostgreSQL server."""
    settings = {}
    if request.param == "postgres":
        _reset_postgres(POSTGRES_URL)
        settings["database_url"] = POSTGRES_URL
    node = make_node(**settings)
    demo = bootstrap(clock.now(), admin_emails=("admin@example.com",))
    return Api(falcon.testing.TestClient(node.app), demo.api_key, demo.workspace_id, demo.template_id)
