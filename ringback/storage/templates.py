"""Template rows. Bodies are validated by `engine.template` before they get here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ringback.engine.template import TemplateDef, template_from_json
from ringback.ids import new_id
from ringback.storage import fastsql
from ringback.storage.models import Template
from ringback.storage.timestamps import iso


def create_template(workspace_id: str, template: TemplateDef, now: datetime) -> str:
    template_id = new_id("tpl")
    Template.create(
        id=template_id,
        workspace=workspace_id,
        name=template.name,
        definition=template.to_json(),
        created_at=now,
    )
    return template_id


_PARSED: dict[str, TemplateDef] = {}  # template id → definition; bounded by the templates that exist


def get_template(workspace_id: str, template_id: str) -> TemplateDef | None:
    """The workspace's template; parsed once per process (a template never changes once created)."""
    row = fastsql.select_one(Template, ("definition",), id=template_id, workspace=workspace_id)
    if row is None:
        return None
    parsed = _PARSED.get(template_id)
    if parsed is None:
        parsed = _PARSED[template_id] = template_from_json(row["definition"])
    return parsed


def template_view(workspace_id: str, template_id: str) -> dict[str, Any] | None:
    row = Template.get_or_none(Template.id == template_id, Template.workspace == workspace_id)
    return _view(row) if row else None


def list_template_views(workspace_id: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = (
        Template.select().where(Template.workspace == workspace_id).order_by(Template.created_at).limit(limit)
    )
    return [_view(row) for row in rows]


def _view(row: Template) -> dict[str, Any]:
    return {"id": row.id, **row.definition, "created_at": iso(row.created_at)}
