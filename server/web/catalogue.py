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
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from schemas.codes import ENTITY_LABELS
from schemas.labels import FIELD_LABELS
from server.web.i18n import DEFAULT_LANG, LANGS, TRANSLATIONS

__all__ = ["extract", "update"]

_WEB = Path(__file__).parent
_KEYWORDS = {
    "_": None,
    "gettext": None,
    "lazy_gettext": None,
    "_l": None,
    "ngettext": (1, 2),
    "lazy_ngettext": (1, 2),
}
_METHODS = [
    ("translations/**", "ignore"),
    ("**.py", "python"),
    ("templates/**.html", "jinja2.ext:babel_extract"),
]


def extract() -> Catalog:
    """Every message the pages show, as a catalogue template (Indonesian ids)."""
    catalog = Catalog(locale=DEFAULT_LANG, project="pendamping-sync web", fuzzy=False)
    for filename, lineno, message, _comments, context in extract_from_dir(
        _WEB,
        _METHODS,
        keywords=_KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        catalog.add(message, None, [(f"server/web/{filename}", lineno)], context=context)
    for source, labels in (
        ("schemas/labels.py", FIELD_LABELS),
        ("schemas/codes.py", ENTITY_LABELS),
    ):
        for label in labels.values():
            catalog.add(label, None, [(source, 0)])
    return catalog


def update() -> list[str]:
    """Merge :func:`extract` into every language's ``.po``. :returns: the messages still
    without a translation, per language, for whoever ran it to fill in."""
    template = extract()
    missing = []
    for lang in LANGS:
        if lang == DEFAULT_LANG:
            continue  # the ids are the Indonesian text
        path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=lang)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, project="pendamping-sync web")
        template.creation_date = catalog.creation_date  # no churn in the header
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False
        with path.open("wb") as po:
            write_po(po, catalog, width=100, omit_header=False, sort_output=False)
        missing += [f"{lang}: {m.id!r}" for m in catalog if m.id and not _translated(m.string)]
    return missing


def _translated(string: object) -> bool:
    if isinstance(string, tuple | list):
        return all(string)
    return bool(string)


if __name__ == "__main__":
    untranslated = update()
    for line in untranslated:
        print(line)
    sys.exit(1 if untranslated else 0)
