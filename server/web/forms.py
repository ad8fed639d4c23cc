"""The pages' forms (flask-wtf): each carries its CSRF token and checks its own fields."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import AnyOf, DataRequired, Length, Optional

from server.passwords import MAX_PASSWORD_LENGTH

__all__ = ["CHOICE_LABELS", "VALUE_MAX", "LoginForm", "LogoutForm", "ResolveForm"]

#: what each resolution choice (server/conflicts.py CHOICES) says on the page, per kind
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "field": {
        "keep": "Pertahankan nilai yang tersimpan",
        "take_lost": "Pakai nilai yang kalah",
        "value": "Isi nilai lain",
    },
    "status": {
        "keep": "Pertahankan status sekarang",
        "take_lost": "Terapkan perpindahan status yang kalah",
    },
    "delete": {
        "keep": "Tetap dihapus",
        "take_lost": "Pulihkan data",
    },
    "duplicate_person": {
        "merge": "Gabungkan: orang yang sama",
        "distinct": "Dua orang berbeda",
    },
}
#: the longest value a supervisor may type for a field
VALUE_MAX = 2000
_ALL_CHOICES = sorted({c for labels in CHOICE_LABELS.values() for c in labels})


class LoginForm(FlaskForm):
    name = StringField("Nama pengguna", validators=[DataRequired(), Length(max=100)])
    password = PasswordField(
        "Kata sandi", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class LogoutForm(FlaskForm):
    """Only its CSRF token: logging out is a POST a foreign page cannot make."""


class ResolveForm(FlaskForm):
    """One conflict's resolution; built with ``prefix=f"c{conflict_id}"`` so the forms of
    one page keep distinct field names. The page offers the choices of the conflict's kind
    (:data:`CHOICE_LABELS`) as radio buttons; ConflictService checks the choice against the
    kind again, with the value and the survivor."""

    choice = StringField("Keputusan", validators=[DataRequired(), AnyOf(_ALL_CHOICES)])
    value = StringField("Nilai baru", validators=[Optional(), Length(max=VALUE_MAX)])
    survivor = StringField("Data yang dipertahankan", validators=[Optional(), Length(max=40)])
