-- The field app's Permohonan ABF list (docs/field-app.md): the laptop's requests by status,
-- the earliest filed first, and their counts per status, from one index range of the
-- pulled copies instead of decoding every request. The status and the filing time are read
-- from the hub's copy itself (an expression index: nothing else to keep in step); requests
-- with changes still shown from the outbox (`local_overlay`, the unsent work) are read
-- whole, being few.

CREATE INDEX pulled_requests
    ON pulled (json_extract(data, '$.status'), json_extract(data, '$.created_at'), id)
    WHERE entity = 'device_request' AND deleted = 0;
