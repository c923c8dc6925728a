"""``GET /openapi.json``: the OpenAPI description of the API.

The document is written by hand as YAML (``ringback/http/openapi.yaml``, shipped as package data so an
installed ringback serves it too; ``docs/openapi.yaml`` points at it). It is parsed and serialised once, at
start-up, so a broken document stops the node instead of failing the first client that asks.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import falcon
import yaml

SPEC_FILE = "openapi.yaml"


def load_spec() -> dict[str, Any]:
    """The packaged document as plain JSON-compatible data."""
    text = resources.files("ringback.http").joinpath(SPEC_FILE).read_text(encoding="utf-8")
    return yaml.safe_load(text)


class OpenApiResource:
    """Serves the document with ``servers`` naming this node's public URL, so "try it" tools call it."""

    def __init__(self, public_url: str) -> None:
        spec = {**load_spec(), "servers": [{"url": public_url}]}
        self._body = json.dumps(spec, ensure_ascii=False).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body
