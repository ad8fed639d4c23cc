"""schemas.click_words has Indonesian for every word click asks gettext for, and puts click
back as it found it."""

from __future__ import annotations

import ast
import gettext
from pathlib import Path

import click
import click.core
import click.types

from schemas.click_words import PLURALS, WORDS, indonesian_click

CLICK = Path(click.__file__).parent


def click_msgids() -> tuple[set[str], set[str]]:
    """The constant msgids of every `_()` and `ngettext()` call in click's source."""
    words, plurals = set(), set()
    for path in CLICK.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
                continue
            first = node.args[0] if node.args else None
            if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                continue
            if node.func.id == "_":
                words.add(first.value)
            elif node.func.id == "ngettext":
                plurals.add(first.value)
    return words, plurals


def test_every_word_click_asks_for_has_an_indonesian_one():
    words, plurals = click_msgids()
    assert words, "click's source no longer calls _(): see how it translates now"
    assert sorted(words - WORDS.keys()) == []
    assert sorted(plurals - PLURALS.keys()) == []


def test_words_click_filled_in_before_asking_become_indonesian_too():
    path = click.Path(exists=True, dir_okay=False)  # made outside: names itself "file"
    with indonesian_click():
        try:
            path.convert("tidak-ada.jpg", None, None)
        except click.BadParameter as exc:
            message = exc.format_message()
        integer = click.INT
        try:
            integer.convert("lima", None, None)
        except click.BadParameter as exc:
            number = exc.format_message()
    assert message == "Nilai tidak valid: Berkas 'tidak-ada.jpg' tidak ada."
    assert number == "Nilai tidak valid: 'lima' bukan bilangan bulat yang valid."


def test_the_block_puts_back_what_it_found_even_nested():
    with indonesian_click():
        with indonesian_click():
            assert click.core._("Options") == "Opsi"
        one = click.types.ngettext("{value!r} is not {choice}.", "", 1)
        assert one == "{value!r} bukan {choice}."
    assert click.core._ is gettext.gettext
    assert click.types.ngettext is gettext.ngettext
