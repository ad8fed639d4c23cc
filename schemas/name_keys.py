"""How a beneficiary's name is searched on the laptop: folded for case and accents, in words.

A pendamping types "nur" and expects "Siti NURAINI", "Nur'aini" and "Nûr Aini" alike; the
field app's search matches the start of any word of the name. The laptop's read model keeps
each name's words (:func:`name_words`) in an index and sorts on :func:`name_key`. Pure, no
I/O: the store and its tests use the same functions, so a key written at pull time and a
key typed in the search box agree.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["fold", "name_key", "name_words", "prefix_end"]

#: letters and digits of any script; everything else separates words
_WORD = re.compile(r"[^\W_]+")
#: apostrophes join (Nur'aini is one word, typed "nuraini" as often as not)
_JOINERS = str.maketrans("", "", "'\u2019\u02bc`\u00b4")


def fold(text: str) -> str:
    """`text` without case or accents: NFKD, combining marks dropped, case-folded."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_JOINERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def name_words(text: str) -> list[str]:
    """The folded words of `text`, each once, in order: what a typed prefix is matched to."""
    return list(dict.fromkeys(_WORD.findall(fold(text))))


def name_key(text: str) -> str:
    """A name as it sorts in the laptop's lists: its folded words joined by one space."""
    return " ".join(_WORD.findall(fold(text)))


def prefix_end(prefix: str) -> str:
    """The least string above every string that starts with `prefix`, for an index range
    ``prefix <= value < prefix_end(prefix)``. `prefix` must not be empty."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
