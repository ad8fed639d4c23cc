"""The hub's OpenAPI description as committed in docs/openapi.json, and the way to renew it.

flask-smorest builds the description from the views and schemas and serves it at
``/openapi.json``; the committed copy lets a review see what a change does to the API.
Keys are sorted and indented so that diffs read line by line. After changing the API::

    python -m server.api.spec --write docs/openapi.json

tests/server/test_openapi_committed.py fails while the committed copy is not current.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from flask import Flask

__all__ = ["OPENAPI_FILE", "REGENERATE", "render", "served_spec"]

#: Where the description is committed, from the project's root.
OPENAPI_FILE = Path("docs") / "openapi.json"
REGENERATE = "python -m server.api.spec --write docs/openapi.json"


def served_spec(app: Flask) -> dict[str, Any]:
    """The description `app` serves at /openapi.json."""
    response = app.test_client().get("/openapi.json", headers={"Accept-Encoding": "identity"})
    return json.loads(response.get_data())


def render(spec: dict[str, Any]) -> str:
    """The committed text of a description: sorted keys, two-space indent, final newline."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _main(argv: list[str]) -> int:
    from server.app import create_app
    from server.state import hub_state

    if argv and (argv[0] != "--write" or len(argv) != 2):
        print(f"usage: {REGENERATE}  (or no argument: print it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app({"DATA_DIR": data_dir, "TESTING": True})
        text = render(served_spec(app))
        hub_state(app).storage.close()
    if argv:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
