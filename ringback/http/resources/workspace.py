"""/api/v1/workspace: the calling key's own workspace settings (there is no way to name another one)."""

from __future__ import annotations

from collections.abc import Callable

import falcon

from ringback.engine.errors import InvalidInput
from ringback.engine.workspace_settings import parse_changes
from ringback.http.errors import not_found
from ringback.http.resources.common import from_invalid, json_body, principal
from ringback.storage import accounts


class WorkspaceResource:
    def __init__(self, on_change: Callable[[str], None]) -> None:
        """`on_change(workspace_id)` tells the node to drop what it cached about the workspace (its policy)."""
        self._on_change = on_change

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = _view(principal(req).workspace_id)

    def on_patch(self, req: falcon.Request, resp: falcon.Response) -> None:
        workspace_id = principal(req).workspace_id
        try:
            changes = parse_changes(json_body(req))
        except InvalidInput as error:
            raise from_invalid(error) from None
        accounts.update_workspace(workspace_id, **changes)
        self._on_change(workspace_id)
        resp.media = _view(workspace_id)


def _view(workspace_id: str) -> dict:
    info = accounts.get_workspace(workspace_id)
    if info is None:  # deleted after its key was resolved
        raise not_found("workspace not found")
    return info.settings_view()
