"""Schemas shared by the hub and the laptop: records, the sync envelope, validators, and the
protocol itself (:mod:`schemas.protocol`, :mod:`schemas.error_codes`, :mod:`schemas.pull_page`,
:mod:`schemas.bundle_format`).

No I/O here. The Indonesian validation messages come with :class:`schemas.messages.Schema`,
the base of every schema; nothing of marshmallow's is patched.
"""
