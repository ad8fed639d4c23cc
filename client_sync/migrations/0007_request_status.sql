-- The field app's Permohonan ABF list (docs/field-app.md): the laptop's live requests by
-- status, oldest filed first, and their counts per status, from an index instead of a scan
-- of every record the laptop holds.

CREATE INDEX local_requests ON local_records (status, created_at, id)
    WHERE entity = 'device_request' AND live = 1;
