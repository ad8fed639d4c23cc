"""The forms of the office's decisions (Kunjungan's review, Permohonan ABF's moves).

Each carries its CSRF token and the record's seq as the page showed it (`seen`), which the
office-writes service uses as the change's base: a visit changed since is refused, a
request moved by a laptop since meets the conflict policy. The rules of the values
themselves (a reason required to return or reject, its length, the handover date, who
received the device, the photo's type) are the service's alone, which names the field in
its refusal; the forms check only what the page itself puts in them.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, Optional

from server.web.i18n import lazy_gettext as _l

__all__ = [
    "BulkAcceptForm",
    "DeliverForm",
    "RejectForm",
    "ReviewForm",
    "TransitionForm",
]

_SEEN = [InputRequired(), NumberRange(min=0)]


class ReviewForm(FlaskForm):
    """Accept (``terima``) or return (``kembalikan``) one visit; `back` is the list's
    query (its filters and page) to come back to."""

    action = StringField(validators=[InputRequired(), AnyOf(["terima", "kembalikan"])])
    reason = TextAreaField(_l("Alasan (wajib untuk mengembalikan)"))
    seen = IntegerField(validators=_SEEN)
    back = HiddenField(validators=[Optional(), Length(max=2000)])


class BulkAcceptForm(FlaskForm):
    """The confirm step's answer: the visits counted on it, as ``id:seq`` separated by
    commas (so exactly what was counted is accepted), and the list's query."""

    visits = HiddenField(validators=[InputRequired(), Length(max=60_000)])
    back = HiddenField(validators=[Optional(), Length(max=2000)])


class TransitionForm(FlaskForm):
    """Verify or approve: only the request's seq as shown."""

    seen = IntegerField(validators=_SEEN)


class RejectForm(TransitionForm):
    reason = TextAreaField(_l("Alasan penolakan"))


class DeliverForm(TransitionForm):
    """The handover: its date, who received the device, and the photo (its size is checked
    against ``ATTACHMENT_MAX_BYTES`` by the page, its type from its bytes by the service)."""

    handover_date = StringField(_l("Tanggal serah terima"))
    received_by = StringField(_l("Diterima oleh"))
    photo = FileField(
        _l("Foto serah terima (JPEG, PNG atau WebP)"),
        validators=[FileRequired(_l("Pilih foto serah terima."))],
    )
