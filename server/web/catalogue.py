"""Keep the pages' catalogue in step with the code: ``python -m server.web.catalogue``.

Extracts every string the pages show (gettext calls in ``server/web`` Python and
templates, and the field and entity labels of :mod:`schemas.labels` / :mod:`schemas.codes`,
which the cards look up by their Indonesian text), then merges them into each
``translations/<lang>/LC_MESSAGES/messages.po``: a new string arrives with an empty
translation to fill in, a string no longer used is dropped. Babel's own API, no shell-out.
``tests/web/test_catalogue.py`` fails while a string lacks its English.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog

from schemas.codes import ENTITY_LABELS
from schemas.labels import FIELD_LABELS
from schemas.po_catalogue import extract_dir, merge
from server.web.i18n import DEFAULT_LANG, LANGS, TRANSLATIONS

__all__ = ["extract", "update"]

_WEB = Path(__file__).parent
_PROJECT = "pendamping-sync web"


def extract() -> Catalog:
    """Every message the pages show, as a catalogue template (Indonesian ids)."""
    labels = [("schemas/labels.py", label) for label in FIELD_LABELS.values()]
    labels += [("schemas/codes.py", label) for label in ENTITY_LABELS.values()]
    return extract_dir(_WEB, "server/web", _PROJECT, DEFAULT_LANG, labels)


def update() -> list[str]:
    """Merge :func:`extract` into every language's ``.po``. :returns: the messages still
    without a translation, per language, for whoever ran it to fill in."""
    return merge(extract(), TRANSLATIONS, LANGS, DEFAULT_LANG, _PROJECT)


if __name__ == "__main__":
    untranslated = update()
    for line in untranslated:
        print(line)
    sys.exit(1 if untranslated else 0)
