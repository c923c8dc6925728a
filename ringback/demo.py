"""The demo workspace created on first start (and by `ringback init`): ready to paste into curl."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from ringback.engine.template import parse_template
from ringback.storage import accounts, templates
from ringback.storage.models import database_proxy

DEMO_TEMPLATE = {
    "name": "Inbound lead callback",
    "description": "Call a fresh inbound lead back at once, then follow up by email.",
    "goal": "Call the lead back within a minute of their form submission, answer what they asked about and "
    "offer a 20-minute discovery call with a specialist.",
    "tone": "warm, concise and helpful",
    "allowed_channels": ["voice", "email"],
    "steps": [
        {"channel": "voice", "delay_seconds": 0},
        {"channel": "email", "delay_seconds": 120},
        {"channel": "email", "delay_seconds": 2 * 24 * 3600},
    ],
    "sender": {
        "name": "Dana Whitfield",
        "title": "Account Executive",
        "company": "Ringback",
        "email": "hello@example.com",
        "phone": "+14155550100",
    },
    "link_allowlist": ["example.com"],
    "value_proposition": "Every web lead is called back within a minute, in their own language.",
    "facts": ["Works with HubSpot and Salesforce", "Self-hosted: your server, your database, your Twilio account"],
}


@dataclass(frozen=True)
class Bootstrap:
    workspace_id: str
    workspace_name: str
    api_key: str
    template_id: str


def bootstrap(now: datetime, name: str = "Demo workspace", admin_emails: tuple[str, ...] = ()) -> Bootstrap:
    """A standard-plan workspace, one read+write test key and the demo template, in one transaction."""
    with database_proxy.atomic():
        workspace = accounts.create_workspace(name, now, plan="standard", admin_emails=admin_emails)
        _, key = accounts.create_key(workspace.id, now, live=False, name="demo")
        template_id = templates.create_template(workspace.id, parse_template(DEMO_TEMPLATE), now)
    return Bootstrap(workspace.id, workspace.name, key, template_id)


def seed_lead(template_id: str) -> dict:
    """The request from the product announcement: Maria, Spanish-speaking, in Madrid, asking about pricing."""
    return {
        "template_id": template_id,
        "contact": {
            "first_name": "Maria",
            "emails": ["maria@example.com"],
            "phone_numbers": ["+34911234567"],
            "notes": "Speaks Spanish. Located in Madrid. Submitted contact form 30 seconds ago asking about pricing.",
        },
        "auto_approve": True,
        "idempotency_key": "lead_20260506_84211",
    }


def banner(result: Bootstrap, base_url: str) -> str:
    body = seed_lead(result.template_id)
    return "\n".join(
        [
            f"workspace {result.workspace_name!r} created with a test key and the demo template "
            "(the key is shown once; only its hash is stored)",
            f"  workspace_id: {result.workspace_id}",
            f"  api_key:      {result.api_key}",
            f"  template_id:  {result.template_id}",
            "",
            "Try it:",
            f'curl -X POST "{base_url}/api/v1/sequences/start" \\',
            f'  -H "Authorization: Bearer {result.api_key}" -H "Content-Type: application/json" \\',
            f"  -d '{json.dumps(body, ensure_ascii=False)}'",
            "",
        ]
    )
