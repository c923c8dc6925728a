"""/api/v1/templates: create, list and show outreach templates."""

from __future__ import annotations

import falcon

from ringback.commands.setup import WorkspaceSetup
from ringback.engine.template import parse_template
from ringback.engine.workspace_settings import with_default_sender
from ringback.http.errors import not_found
from ringback.http.resources.common import json_body, principal
from ringback.ids import looks_like
from ringback.storage import accounts, templates


class TemplatesResource:
    def __init__(self, setup: WorkspaceSetup) -> None:
        self._setup = setup

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        workspace_id = principal(req).workspace_id
        workspace = accounts.get_workspace(workspace_id)
        body = with_default_sender(json_body(req), workspace.default_sender if workspace else None)
        template_id = self._setup.create_template(workspace_id, parse_template(body))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/templates/{template_id}"
        resp.media = templates.template_view(workspace_id, template_id)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"data": templates.list_template_views(principal(req).workspace_id)}


class TemplateResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response, template_id: str) -> None:
        view = (
            templates.template_view(principal(req).workspace_id, template_id)
            if looks_like(template_id, "tpl")
            else None
        )
        if view is None:
            raise not_found("template not found")
        resp.media = view
