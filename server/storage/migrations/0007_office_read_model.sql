-- The district office's read model (docs/office.md): what its pages filter, count and sort
-- on, kept in plain columns and indexes that the writer fills in the same transaction as
-- every record write (server/storage/sqlite.py `_SQLiteWrite.save`, from the row's data it
-- already holds decoded), so no page query reads and decodes a record's JSON.
--
-- Plain columns, not VIRTUAL generated ones: SQLite 3.40 recomputes a virtual column from
-- the row (parsing its JSON) even when an index holds it, so such an index is never
-- covering; a STORED one cannot be added by ALTER TABLE. Filled here from the JSON once.

-- Whose change created the record: the user of the device that pushed it, or the office
-- user of a hub-made write. Set at insert, never changed by later writes.
ALTER TABLE records ADD COLUMN author TEXT;
-- A visit's visited_at as a UTC instant `YYYY-MM-DDTHH:MM:SSZ` (stored with the laptop's
-- offset, which does not sort as text); its purpose; its review state (the hub's `review`
-- object, absent = menunggu); the beneficiary of a visit or request.
ALTER TABLE records ADD COLUMN visited_utc TEXT;
ALTER TABLE records ADD COLUMN purpose TEXT;
ALTER TABLE records ADD COLUMN review_state TEXT;
ALTER TABLE records ADD COLUMN beneficiary_id TEXT;
-- A request's status, and since when it holds it (its last status_history entry).
ALTER TABLE records ADD COLUMN request_status TEXT;
ALTER TABLE records ADD COLUMN status_since TEXT;
-- A beneficiary's name, lower-cased (ASCII, as SQLite's lower()), for search and sorting.
ALTER TABLE records ADD COLUMN name_key TEXT;

UPDATE records SET author = (
    SELECT COALESCE(d.user_name, CASE WHEN c.device_id = 'hub' THEN c.author_id END)
    FROM changes c LEFT JOIN devices d ON d.device_id = c.device_id
    WHERE c.record_id = records.id
      AND json_extract(c.receipt, '$.status') IN ('applied', 'merged', 'conflict')
    ORDER BY c.rowid LIMIT 1
);

UPDATE records SET
    visited_utc = strftime('%Y-%m-%dT%H:%M:%SZ', json_extract(data, '$.visited_at')),
    purpose = json_extract(data, '$.purpose'),
    review_state = COALESCE(json_extract(data, '$.review.state'), 'menunggu'),
    beneficiary_id = json_extract(data, '$.beneficiary_id')
WHERE entity = 'visit';

UPDATE records SET
    request_status = json_extract(data, '$.status'),
    status_since = COALESCE(json_extract(data, '$.status_history[#-1].at'), created_at),
    beneficiary_id = json_extract(data, '$.beneficiary_id')
WHERE entity = 'device_request';

UPDATE records SET name_key = lower(json_extract(data, '$.name'))
WHERE entity = 'beneficiary';

-- Kunjungan, Ringkasan, Cakupan: one covering index over live visits. Every filter a page
-- offers (period, wilayah, kelurahan, pendamping, review state, purpose) is checked in the
-- index, newest first, without reading the row; the beneficiary id makes "who was visited
-- since" an index range too. Each index ends with `entity, deleted`, constant within it:
-- a query names the partial index's terms (INDEXED BY needs them), and SQLite counts an
-- index as covering only when it holds every column the query names.
CREATE INDEX office_visits ON records
    (visited_utc, kelurahan, author, review_state, purpose, beneficiary_id, entity, deleted)
    WHERE entity = 'visit' AND deleted = 0;

-- Permohonan ABF: live requests by status, oldest in that status first.
CREATE INDEX office_requests ON records
    (request_status, status_since, kelurahan, entity, deleted)
    WHERE entity = 'device_request' AND deleted = 0;

-- Penerima manfaat: search by name (a substring scan of this index, docs/office.md).
CREATE INDEX office_beneficiary_names ON records (name_key, kelurahan, entity, deleted)
    WHERE entity = 'beneficiary' AND deleted = 0;

-- Cakupan: each live beneficiary once per programme it is enrolled in, kept by the writer.
CREATE TABLE beneficiary_programs (
    program   TEXT NOT NULL,
    kelurahan TEXT NOT NULL,
    name_key  TEXT NOT NULL,
    record_id TEXT NOT NULL,
    author    TEXT,
    PRIMARY KEY (program, kelurahan, name_key, record_id)
) WITHOUT ROWID;

CREATE INDEX beneficiary_programs_record ON beneficiary_programs (record_id);

INSERT OR IGNORE INTO beneficiary_programs (program, kelurahan, name_key, record_id, author)
SELECT p.value, r.kelurahan, COALESCE(r.name_key, ''), r.id, r.author
FROM records r, json_each(r.data, '$.programs') p
WHERE r.entity = 'beneficiary' AND r.deleted = 0 AND p.type = 'text';
