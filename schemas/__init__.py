"""Schemas shared by the hub and the laptop: records, the sync envelope, validators.

No I/O here. Importing the package installs the Indonesian validation messages.
"""

from schemas.messages import install as _install_messages

_install_messages()
