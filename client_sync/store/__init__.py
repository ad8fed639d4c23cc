"""The laptop's local store: the one owner of its SQL, split by subject.

- :mod:`~client_sync.store.field_store`: `FieldStore`, the facade everything else calls;
- :mod:`~client_sync.store.db`: the one connection, its transactions, the `meta` table;
- :mod:`~client_sync.store.meta`: identity, sync notes, status;
- :mod:`~client_sync.store.entry` and :mod:`~client_sync.store.records`: recording and
  reading records (the outbox laid over the pulled copies);
- :mod:`~client_sync.store.outbox` and :mod:`~client_sync.store.pull`: the sync side's SQL,
  executing the plans of the pure :mod:`~client_sync.store.receipts` (what a receipt does
  to the outbox) and :mod:`~client_sync.store.pages` (what a pulled page does);
- :mod:`~client_sync.store.attachments` and :mod:`~client_sync.store.exports`: the photo
  queue and the USB bundle exports.

Dependencies point down this list's modules to :mod:`client_sync.database`,
:mod:`client_sync.migrations` and :mod:`schemas`; nothing here imports the sync engine,
the photos' upload or the bundles.
"""

from client_sync.store.attachments import NewAttachment
from client_sync.store.field_store import FieldStore
from client_sync.store.meta import Identity
from client_sync.store.outbox import OutboxBatch

__all__ = ["FieldStore", "Identity", "NewAttachment", "OutboxBatch"]
