"""/api/v1/workspace: the calling key's own workspace settings (there is no way to name another one)."""

from __future__ import annotations

import falcon

from ringback.commands.setup import WorkspaceSetup
from ringback.engine.workspace_settings import parse_changes
from ringback.http.errors import not_found
from ringback.http.resources.common import json_body, principal
from ringback.storage import accounts


class WorkspaceResource:
    def __init__(self, setup: WorkspaceSetup) -> None:
        self._setup = setup

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = _view(principal(req).workspace_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response) -> None:
        workspace_id = principal(req).workspace_id
        self._setup.update_workspace(workspace_id, parse_changes(json_body(req)))
        resp.media = _view(workspace_id)


def _view(workspace_id: str) -> dict:
    info = accounts.get_workspace(workspace_id)
    if info is None:  # deleted after its key was resolved
        raise not_found("workspace not found")
    return info.settings_view()
