"""The pages' forms (flask-wtf): each carries its CSRF token and checks its own fields.

Labels and messages are lazy gettext strings (server/web/i18n.py), so a form shows them in
the language of the page it is rendered on.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3
from wtforms.validators import AnyOf, DataRequired, Length, Optional, Regexp

from server.passwords import MAX_PASSWORD_LENGTH
from server.web.i18n import lazy_gettext as _l

__all__ = [
    "CHOICE_LABELS",
    "VALUE_MAX",
    "AddPendampingForm",
    "BundleForm",
    "ExportForm",
    "LoginForm",
    "LogoutForm",
    "ResolveForm",
    "RevokeForm",
    "WilayahForm",
    "wilayah_codes",
]

#: what each resolution choice (server/conflicts.py CHOICES) says on the page, per kind
CHOICE_LABELS = {
    "field": {
        "keep": _l("Pertahankan nilai yang tersimpan"),
        "take_lost": _l("Pakai nilai yang kalah"),
        "value": _l("Isi nilai lain"),
    },
    "status": {
        "keep": _l("Pertahankan status sekarang"),
        "take_lost": _l("Terapkan perpindahan status yang kalah"),
    },
    "delete": {
        "keep": _l("Tetap dihapus"),
        "take_lost": _l("Pulihkan data"),
    },
    "duplicate_person": {
        "merge": _l("Gabungkan: orang yang sama"),
        "distinct": _l("Dua orang berbeda"),
    },
}
#: the longest value a supervisor may type for a field
VALUE_MAX = 2000
_ALL_CHOICES = sorted({c for labels in CHOICE_LABELS.values() for c in labels})
#: a user name as the command line and the laptops' names use it (`laptop-siti`)
_NAME = r"^[a-z0-9][a-z0-9._-]*$"


def wilayah_codes(text: str | None) -> tuple[str, ...]:
    """The wilayah codes typed in one box, separated by commas or spaces."""
    return tuple(code for code in (text or "").replace(",", " ").split() if code)


class LoginForm(FlaskForm):
    name = StringField(_l("Nama pengguna"), validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        _l("Kata sandi"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class LogoutForm(FlaskForm):
    """Only its CSRF token: logging out is a POST a foreign page cannot make."""


class ResolveForm(FlaskForm):
    """One conflict's resolution; built with ``prefix=f"c{conflict_id}"`` so the forms of
    one page keep distinct field names. The page offers the choices of the conflict's kind
    (:data:`CHOICE_LABELS`) as radio buttons; ConflictService checks the choice against the
    kind again, with the value and the survivor."""

    choice = StringField(_l("Keputusan"), validators=[DataRequired(), AnyOf(_ALL_CHOICES)])
    value = StringField(_l("Nilai baru"), validators=[Optional(), Length(max=VALUE_MAX)])
    survivor = StringField(_l("Data yang dipertahankan"), validators=[Optional(), Length(max=40)])


class AddPendampingForm(FlaskForm):
    """A new pendamping: their user name and wilayah (UserService checks the codes and
    that they lie inside the supervisor's)."""

    name = StringField(
        _l("Nama pengguna"),
        validators=[
            DataRequired(_l("Isi nama pengguna.")),
            Length(max=64, message=_l("Nama pengguna paling panjang 64 karakter.")),
            Regexp(
                _NAME,
                message=_l(
                    "Nama pengguna hanya huruf kecil, angka, titik, garis bawah dan tanda "
                    "hubung, diawali huruf atau angka."
                ),
            ),
        ],
    )
    wilayah = StringField(
        _l("Wilayah"),
        validators=[
            DataRequired(_l("Isi kode wilayah, mis. 31.71.01.")),
            Length(max=500, message=_l("Terlalu banyak kode wilayah.")),
        ],
    )


class WilayahForm(FlaskForm):
    """A pendamping's new wilayah; built with ``prefix=f"w-{name}"`` per row."""

    wilayah = StringField(
        _l("Wilayah"),
        validators=[
            DataRequired(_l("Isi kode wilayah, mis. 31.71.01.")),
            Length(max=500, message=_l("Terlalu banyak kode wilayah.")),
        ],
    )


class RevokeForm(FlaskForm):
    """The confirm step of a revocation: the reason (kept in the audit entry)."""

    reason = StringField(
        _l("Alasan (mis. laptop hilang)"),
        validators=[Optional(), Length(max=200, message=_l("Alasan paling panjang 200 karakter."))],
    )


class BundleForm(FlaskForm):
    """A USB bundle (.zip) carried in from a laptop."""

    bundle = FileField(
        _l("Berkas bundle (.zip)"), validators=[FileRequired(_l("Pilih berkas bundle."))]
    )
    #: an admin's explicit word, as `import-bundle --allow-revoked` (ignored for others)
    allow_revoked = BooleanField(_l("Terima juga bundle dari laptop yang sudah dicabut"))


class ExportForm(FlaskForm):
    """A download: what (a kind of :data:`server.office.exports.KINDS`), which period (a
    month or a day), whose (a pendamping, a wilayah, a programme), and as what. The kind,
    pendamping and programme choices are set per request; OfficeQueries checks the rest."""

    kind = SelectField(_l("Data"), validate_choice=True)
    month = StringField(
        _l("Bulan"), validators=[Optional(), Length(max=7, message=_l("Bulan: YYYY-MM."))]
    )
    day = StringField(
        _l("Tanggal"), validators=[Optional(), Length(max=10, message=_l("Tanggal: YYYY-MM-DD."))]
    )
    pendamping = SelectField(_l("Pendamping"), validate_choice=True)
    wilayah = StringField(
        _l("Wilayah atau kelurahan"),
        validators=[Optional(), Length(max=40, message=_l("Terlalu banyak kode wilayah."))],
    )
    program = SelectField(_l("Program"), validate_choice=True)
    format = SelectField(
        _l("Format"),
        choices=[
            SelectChoice("xlsx", _l("XLSX (Excel)")),
            SelectChoice("csv", _l("CSV, dipisah koma")),
            SelectChoice("csv;", _l("CSV, titik koma (Excel Indonesia)")),
        ],
        validate_choice=True,
    )
