"""Write packaging/ringback.toml: every setting of ringback.config.Settings, commented out at its default.

    .venv/bin/python packaging/sample_config.py > packaging/ringback.toml

tests/unit/test_packaging.py fails when the file and the settings drift apart.
"""

from __future__ import annotations

import dataclasses
import json

from ringback.config import Settings

HEADER = """\
# ringback.toml — every setting, commented out at its default. Use with `ringback serve --config ringback.toml`.
# Keys are the RINGBACK_* environment variables in lower case without the prefix; environment variables win.
# Secrets are better kept out of this file: RINGBACK_<NAME>_FILE=/run/secrets/... reads one from a file.
"""


def _toml(value: object) -> str:
    if value is None:
        return '""'  # empty means unset
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value)


def sample() -> str:
    blocks = [HEADER]
    for f in dataclasses.fields(Settings):
        secret = " (secret)" if f.metadata["secret"] else ""
        blocks.append(f"# {f.metadata['help']}{secret}\n# {f.name} = {_toml(f.default)}\n")
    return "\n".join(blocks)


if __name__ == "__main__":
    print(sample(), end="")
