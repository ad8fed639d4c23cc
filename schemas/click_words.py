"""click's own words (help, usage errors, prompts) in Bahasa Indonesia, for both command lines.

click asks :mod:`gettext` for every word it prints (``Show this message and exit.``,
``Error: {message}``, ``Invalid value for {param_hint}: {message}``, ``The two entered values
do not match.``), through a ``_`` and an ``ngettext`` bound in each of its modules. gettext
itself only reads compiled catalogues chosen by the user's locale, and the laptop and the
office must read Indonesian whatever their Windows is set to; so while one of our commands
runs (:class:`IndonesianGroup`, or :func:`indonesian_click` around the code that words its
failures), those names point at :data:`WORDS` instead, and are put back afterwards. Nothing
is changed on import, nor outside our own commands (the same care as
:mod:`schemas.messages` takes with marshmallow).

It lives in ``schemas`` because both `pendamping` (client_sync/cli) and `pendamping-hub`
(server/cli) use it and neither may import the other; it does no I/O. A word click adds in a
later version and :data:`WORDS` lacks stays English, and tests/schemas/test_click_words.py,
which reads every word click's source asks for, fails.
"""

from __future__ import annotations

import contextlib
import gettext
import sys
from collections.abc import Iterator
from typing import Any

import click

__all__ = ["PLURALS", "WORDS", "IndonesianGroup", "indonesian_click"]

#: click's words (the msgid it passes to gettext) and ours
WORDS: dict[str, str] = {
    # help pages
    "Usage:": "Penggunaan:",
    "Options": "Opsi",
    "Commands": "Perintah",
    "Positional arguments": "Argumen",
    "Show this message and exit.": "Tampilkan bantuan ini lalu keluar.",
    "Show the version and exit.": "Tampilkan versi lalu keluar.",
    "%(prog)s, version %(version)s": "%(prog)s, versi %(version)s",
    "default: {default}": "bawaan: {default}",
    "env var: {var}": "variabel lingkungan: {var}",
    "required": "wajib",
    "(dynamic)": "(dinamis)",
    "deprecated": "usang",
    "Choose from:\n\t{choices}": "Pilih salah satu:\n\t{choices}",
    "Choice({choices})": "Pilihan({choices})",
    "Do you want to continue?": "Lanjutkan?",
    "Confirm the action without prompting.": "Setujui tanpa ditanya.",
    # failures
    "Error: {message}": "Galat: {message}",
    "Aborted!": "Dibatalkan.",
    "unknown error": "galat tak dikenal",
    "Try '{command} {option}' for help.": "Lihat '{command} {option}' untuk bantuan.",
    "Missing command.": "Perintah belum diberikan.",
    "No such command {name!r}.": "Perintah {name!r} tidak ada.",
    "No such option {name!r}.": "Opsi {name!r} tidak ada.",
    "Missing argument": "Kurang argumen",
    "Missing option": "Kurang opsi",
    "Missing parameter": "Kurang parameter",
    "Missing {param_type}": "Kurang {param_type}",
    "Missing parameter: {param_name}": "Kurang parameter: {param_name}",
    "Invalid value for {param_hint}: {message}": "Nilai tidak valid untuk {param_hint}: {message}",
    "Invalid value: {message}": "Nilai tidak valid: {message}",
    "Could not open file {filename!r}: {message}": (
        "Berkas {filename!r} tidak dapat dibuka: {message}"
    ),
    "Value must be an iterable.": "Nilai harus berupa daftar.",
    "Invalid start character for option ({option})": "Awal opsi tidak valid ({option})",
    "Option {name!r} does not take a value.": "Opsi {name!r} tidak menerima nilai.",
    "Argument {name!r} takes {nargs} values.": "Argumen {name!r} butuh {nargs} nilai.",
    "{value!r} is not a valid {number_type}.": "{value!r} bukan {number_type} yang valid.",
    "{value} is not in the range {range}.": "{value} di luar rentang {range}.",
    "{value!r} is not a valid boolean. Recognized values: {states}": (
        "{value!r} bukan nilai ya/tidak. Nilai yang dikenal: {states}"
    ),
    "{value!r} is not a valid UUID.": "{value!r} bukan UUID yang valid.",
    "{name} {filename!r} does not exist.": "{name} {filename!r} tidak ada.",
    "{name} {filename!r} is a file.": "{name} {filename!r} adalah berkas.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} adalah folder.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} tidak dapat dibaca.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} tidak dapat ditulisi.",
    "{name} {filename!r} is not executable.": "{name} {filename!r} tidak dapat dijalankan.",
    "file": "berkas",
    "directory": "folder",
    "path": "jalur",
    # prompts
    "Repeat for confirmation": "Ulangi untuk konfirmasi",
    "Error: The two entered values do not match.": "Galat: kedua isian tidak sama.",
    "Error: invalid input": "Galat: isian tidak valid",
    "Press any key to continue...": "Tekan tombol apa saja untuk melanjutkan...",
    "{editor}: Editing failed": "{editor}: penyuntingan gagal",
    "{editor}: Editing failed: {e}": "{editor}: penyuntingan gagal: {e}",
    "Windows error: {error}": "Galat Windows: {error}",
    "d": "h",  # days, in a progress bar's time left
    # deprecations and mistakes in a command's own definition (a programmer reads these)
    "DeprecationWarning: The command {name!r} is deprecated.{extra_message}": (
        "Peringatan: perintah {name!r} sudah usang.{extra_message}"
    ),
    "DeprecationWarning: The {param_type} {name!r} is deprecated.{extra_message}": (
        "Peringatan: {param_type} {name!r} sudah usang.{extra_message}"
    ),
    "Could not determine name for option with declarations {decls!r}": (
        "Nama opsi tidak dapat ditentukan dari deklarasi {decls!r}"
    ),
    "No options defined but a name was passed ({name}). Did you mean to declare an argument"
    " instead? Did you mean to pass '--{name}'?": (
        "Tidak ada opsi yang dideklarasikan, tetapi ada nama ({name}). Maksudnya argumen?"
        " Atau '--{name}'?"
    ),
    "Arguments take exactly one parameter declaration, got {length}: {decls}.": (
        "Argumen butuh tepat satu deklarasi, ada {length}: {decls}."
    ),
    "Name '{name}' defined twice": "Nama '{name}' dideklarasikan dua kali",
    "Boolean option {decl!r} cannot use the same flag for true/false.": (
        "Opsi ya/tidak {decl!r} tidak boleh memakai tanda yang sama untuk ya dan tidak."
    ),
    "Unknown color {colour!r}": "Warna {colour!r} tidak dikenal",
    "Unknown standard stream '{name}'": "Aliran standar '{name}' tidak dikenal",
    "Shell completion is not supported for Bash versions older than 4.4.": (
        "Pelengkapan otomatis butuh Bash 4.4 atau lebih baru."
    ),
    "Couldn't detect Bash version, shell completion is not supported.": (
        "Versi Bash tidak terdeteksi; pelengkapan otomatis tidak didukung."
    ),
}

#: click's singular msgid of an ngettext call, and our words for one and for several
PLURALS: dict[str, tuple[str, str]] = {
    "Got unexpected extra argument ({args})": (
        "Ada argumen lebih yang tidak dikenal ({args})",
        "Ada argumen lebih yang tidak dikenal ({args})",
    ),
    "Takes {nargs} values but 1 was given.": (
        "Butuh {nargs} nilai, tetapi hanya 1 yang diberikan.",
        "Butuh {nargs} nilai, tetapi {len} yang diberikan.",
    ),
    "Did you mean {possibility}?": (
        "Maksud Anda {possibility}?",
        "(Maksud Anda salah satu dari: {possibilities}?)",
    ),
    "Option {name!r} requires an argument.": (
        "Opsi {name!r} butuh nilai.",
        "Opsi {name!r} butuh {nargs} nilai.",
    ),
    "{value!r} is not {choice}.": (
        "{value!r} bukan {choice}.",
        "{value!r} bukan salah satu dari {choices}.",
    ),
    "{value!r} does not match the format {format}.": (
        "{value!r} tidak sesuai format {format}.",
        "{value!r} tidak sesuai format mana pun dari {formats}.",
    ),
    "{len_type} values are required, but {len_value} was given.": (
        "Dibutuhkan {len_type} nilai, tetapi diberikan {len_value}.",
        "Dibutuhkan {len_type} nilai, tetapi diberikan {len_value}.",
    ),
}

#: words click fills into a message before it asks for the message's template (a Path
#: type names itself "file" when the command is defined, at import): translated as they
#: are filled in, only for the format arguments that carry such a word
_FILLED_IN = {
    "name": {"file": "berkas", "directory": "folder", "path": "jalur"},
    "number_type": {"integer": "bilangan bulat", "float": "bilangan desimal"},
    "param_type": {"option": "opsi", "argument": "argumen", "parameter": "parameter"},
}


class _Template(str):
    """One of our templates: its click-filled words (:data:`_FILLED_IN`) become ours too."""

    __slots__ = ()

    def format(self, *args: Any, **kwargs: Any) -> str:
        for key, words in _FILLED_IN.items():
            value = kwargs.get(key)
            if isinstance(value, str) and value.lower() in words:
                ours = words[value.lower()]
                kwargs[key] = ours.capitalize() if value[:1].isupper() else ours
        return str(self).format(*args, **kwargs)


def _gettext(message: str) -> str:
    found = WORDS.get(message)
    return message if found is None else _Template(found)


def _ngettext(singular: str, plural: str, n: int) -> str:
    found = PLURALS.get(singular)
    if found is None:
        return singular if n == 1 else plural
    return _Template(found[0] if n == 1 else found[1])


def _click_modules() -> list[Any]:
    return [
        module
        for name, module in list(sys.modules.items())
        if (name == "click" or name.startswith("click.")) and module is not None
    ]


@contextlib.contextmanager
def indonesian_click() -> Iterator[None]:
    """Within the block, click prints Indonesian; after it, what it printed before.

    Nested blocks are fine (each puts back what it found). Not for threads running other
    click programs at the same time: click's modules are shared by the whole process.
    """
    swapped: list[tuple[Any, str, Any]] = []
    for module in _click_modules():
        for name, stock, ours in (
            ("_", gettext.gettext, _gettext),
            ("ngettext", gettext.ngettext, _ngettext),
        ):
            current = module.__dict__.get(name)
            if current is stock or current is ours:
                swapped.append((module, name, current))
                setattr(module, name, ours)
    try:
        yield
    finally:
        for module, name, before in reversed(swapped):
            setattr(module, name, before)


class IndonesianGroup(click.Group):
    """A click group whose runs (help pages, usage errors, prompts) speak Indonesian, also
    when click's own machinery runs it (standalone mode, :class:`click.testing.CliRunner`)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with indonesian_click():
            return super().main(*args, **kwargs)
