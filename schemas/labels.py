"""The records' fields as a pendamping or the district office names them.

Records keep English field names (DESIGN.md §3); people read these labels instead, on the
hub's pages and in the command lines, so one field has one name everywhere. Every field of
:data:`schemas.records.RECORD_SCHEMAS` has a label (a test holds this); a field shared by
several kinds means the same in each. Labels are lower case, to sit inside a sentence
(*isian nomor telepon*); acronyms stay capitals.
"""

from __future__ import annotations

__all__ = ["FIELD_LABELS", "field_label"]

FIELD_LABELS: dict[str, str] = {
    # every record
    "kelurahan": "kelurahan",
    "attachments": "foto",
    # beneficiary
    "nik": "NIK",
    "name": "nama",
    "birth_date": "tanggal lahir",
    "sex": "jenis kelamin",
    "address": "alamat",
    "categories": "kategori",
    "disability_types": "jenis disabilitas",
    "programs": "program bantuan",
    "dtsen_id": "ID DTSEN",
    "phone": "nomor telepon",
    # visit and device_request
    "beneficiary_id": "penerima manfaat",
    "caseworker_id": "petugas",
    "visited_at": "waktu kunjungan",
    "purpose": "tujuan kunjungan",
    "findings": "temuan",
    "assessment": "asesmen",
    "follow_up": "tindak lanjut",
    "lat": "garis lintang",
    "lon": "garis bujur",
    "verification_outcome": "hasil verifikasi",
    "device_type": "jenis alat",
    "reason": "alasan",
    "status": "status",
    # the office's: a request's rejection and handover, a visit's review (issue 12)
    "reject_reason": "alasan penolakan",
    "handover_date": "tanggal serah terima",
    "received_by": "penerima alat",
    "review": "tinjauan kantor",
}


def field_label(field: str) -> str:
    """The label of a record field; an unknown name comes back as it is, never an error."""
    return FIELD_LABELS.get(field, field)
