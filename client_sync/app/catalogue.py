"""Keep the field app's catalogue in step with its code: ``python -m client_sync.app.catalogue``.

Extracts every string of ``client_sync/app`` (Python and templates), plus the words the app
shows from the shared tables (field and entity labels, the ABF assessment's questions), and
merges them into ``translations/en/LC_MESSAGES/messages.po`` (:mod:`schemas.po_catalogue`).
``tests/client_sync/app/test_app_catalogue.py`` fails while a string lacks its English.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog

from client_sync.abf import ASSESSMENT
from client_sync.app.i18n import DEFAULT_LANG, LANGS, TRANSLATIONS
from schemas.codes import ENTITY_LABELS
from schemas.labels import FIELD_LABELS
from schemas.po_catalogue import extract_dir, merge

__all__ = ["extract", "update"]

_APP = Path(__file__).parent
_PROJECT = "pendamping-sync field app"


def extract() -> Catalog:
    """Every message the app shows, as a catalogue template (Indonesian ids)."""
    labels = [("schemas/labels.py", label) for label in FIELD_LABELS.values()]
    labels += [("schemas/codes.py", label) for label in ENTITY_LABELS.values()]
    labels += [("client_sync/abf.py", q.label) for q in ASSESSMENT]
    labels += [("client_sync/abf.py", q.hint) for q in ASSESSMENT if q.hint]
    return extract_dir(_APP, "client_sync/app", _PROJECT, DEFAULT_LANG, labels)


def update() -> list[str]:
    """Merge :func:`extract` into the English ``.po``; :returns: what still lacks English."""
    return merge(extract(), TRANSLATIONS, LANGS, DEFAULT_LANG, _PROJECT)


if __name__ == "__main__":
    untranslated = update()
    for line in untranslated:
        print(line)
    sys.exit(1 if untranslated else 0)
