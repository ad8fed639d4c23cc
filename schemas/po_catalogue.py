"""Message catalogues kept as ``.po`` files: compiled in memory, extracted and merged.

The generic part of the office's pages (server/web) and the laptop's field app
(client_sync/app) languages: both use Indonesian text as message ids, keep
``translations/<lang>/LC_MESSAGES/messages.po`` as the only source (no ``.mo`` on disk, no
shell-out, babel's own API), and keep that file in step with the code by extracting and
merging. Each side keeps its own small flask-babel glue and its own catalogue.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from io import BytesIO
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from babel.support import NullTranslations, Translations

__all__ = ["KEYWORDS", "CompiledCatalogues", "compile_po", "extract_dir", "merge", "po_path"]

#: the gettext calls both sides use
KEYWORDS = {
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


def po_path(translations: Path, lang: str) -> Path:
    """Where the catalogue of `lang` lives under a ``translations`` folder."""
    return translations / lang / "LC_MESSAGES" / "messages.po"


def compile_po(translations: Path, lang: str) -> NullTranslations:
    """The catalogue of `lang` compiled from its ``.po`` (fuzzy entries left out, as msgfmt
    does); the ids themselves when there is none."""
    source = po_path(translations, lang)
    if not source.is_file():
        return NullTranslations()
    with source.open("rb") as po:
        catalog = read_po(po, locale=lang)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


class CompiledCatalogues:
    """Each language's ``.po`` under `translations`, compiled once per process."""

    def __init__(self, translations: Path) -> None:
        self.translations = translations
        self._lock = threading.Lock()
        self._compiled: dict[str, NullTranslations] = {}

    def get(self, lang: str) -> NullTranslations:
        found = self._compiled.get(lang)
        if found is None:
            with self._lock:
                found = self._compiled.get(lang) or compile_po(self.translations, lang)
                self._compiled[lang] = found
        return found


def extract_dir(
    root: Path, prefix: str, project: str, default_lang: str, labels: Iterable[tuple[str, str]] = ()
) -> Catalog:
    """Every message of the Python and ``templates/**.html`` under `root`, plus `labels`
    (``(source, text)`` pairs of strings looked up by their text), as a catalogue template.

    :param prefix: how `root` is named in the locations (e.g. ``server/web``).
    """
    catalog = Catalog(locale=default_lang, project=project, fuzzy=False)
    for filename, lineno, message, _comments, context in extract_from_dir(
        root,
        _METHODS,
        keywords=KEYWORDS,
        options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}},
    ):
        catalog.add(message, None, [(f"{prefix}/{filename}", lineno)], context=context)
    for source, text in labels:
        catalog.add(text, None, [(source, 0)])
    return catalog


def merge(
    template: Catalog, translations: Path, langs: Mapping[str, str], default_lang: str, project: str
) -> list[str]:
    """Merge `template` into every language's ``.po`` but the default's (its ids are its
    text): a new string arrives with an empty translation, one no longer used is dropped.

    :returns: the messages still without a translation, as ``lang: 'id'`` lines.
    """
    missing = []
    for lang in langs:
        if lang == default_lang:
            continue
        path = po_path(translations, lang)
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=lang)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=lang, project=project)
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
