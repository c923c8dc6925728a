"""Template rows: a validated template comes back exactly as stored."""

from __future__ import annotations

from datetime import timedelta

from ringback.engine.template import parse_template
from ringback.ids import looks_like
from ringback.storage import templates
from tests.storage.conftest import NOW, TEMPLATE_BODY


def test_a_template_round_trips(workspace, template_def):
    template_id = templates.create_template(workspace.id, template_def, NOW)

    assert looks_like(template_id, "tpl")
    assert templates.get_template(workspace.id, template_id) == template_def


def test_optional_parts_round_trip(workspace):
    full = parse_template(
        {
            **TEMPLATE_BODY,
            "description": "Für Anfragen über das Formular",
            "tone": "herzlich",
            "connect_number": "+34911234567",
            "link_allowlist": ["Example.com", "docs.example.org"],
            "sender": {**TEMPLATE_BODY["sender"], "messaging_service_sid": "MG" + "0" * 32},
        }
    )
    template_id = templates.create_template(workspace.id, full, NOW)

    assert templates.get_template(workspace.id, template_id) == full


def test_the_view_shows_the_definition_with_id_and_creation_time(workspace, template_def):
    template_id = templates.create_template(workspace.id, template_def, NOW)

    view = templates.template_view(workspace.id, template_id)
    assert view == {"id": template_id, **template_def.to_json(), "created_at": NOW.isoformat().replace("+00:00", "Z")}


def test_the_listing_is_oldest_first_and_bounded(workspace, template_def):
    ids = [templates.create_template(workspace.id, template_def, NOW + timedelta(seconds=i)) for i in range(3)]

    assert [view["id"] for view in templates.list_template_views(workspace.id)] == ids
    assert len(templates.list_template_views(workspace.id, limit=2)) == 2
