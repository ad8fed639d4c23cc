-- The district office's read model (docs/office.md; SQLite's 0007): what its pages filter,
-- count and sort on, in plain columns and indexes that the writer fills in the same
-- transaction as every record write (server/storage/read_columns.py gives the values), so
-- no page query reads and decodes a record's JSON. Filled here from the JSON once, with
-- exactly read_columns' values (a non-string JSON value gives NULL).

-- Times without an offset are UTC, as SQLite's strftime() reads them.
SET LOCAL TimeZone = 'UTC';

ALTER TABLE records ADD COLUMN author TEXT COLLATE "C";
ALTER TABLE records ADD COLUMN visited_utc TEXT COLLATE "C";
ALTER TABLE records ADD COLUMN purpose TEXT COLLATE "C";
ALTER TABLE records ADD COLUMN review_state TEXT COLLATE "C";
ALTER TABLE records ADD COLUMN beneficiary_id TEXT COLLATE "C";
ALTER TABLE records ADD COLUMN request_status TEXT COLLATE "C";
ALTER TABLE records ADD COLUMN status_since TEXT COLLATE "C";
ALTER TABLE records ADD COLUMN name_key TEXT COLLATE "C";

-- Whose change created the record: the user of the device that pushed it, or the office
-- user of a hub-made write.
UPDATE records SET author = (
    SELECT COALESCE(d.user_name, CASE WHEN c.device_id = 'hub' THEN c.author_id END)
    FROM changes c LEFT JOIN devices d ON d.device_id = c.device_id
    WHERE c.record_id = records.id
      AND (c.receipt::jsonb ->> 'status') IN ('applied', 'merged', 'conflict')
    ORDER BY c.pos LIMIT 1
);

UPDATE records SET
    visited_utc = CASE
        WHEN jsonb_typeof(data::jsonb -> 'visited_at') = 'string'
         AND (data::jsonb ->> 'visited_at')
             ~ '^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$'
        THEN to_char((data::jsonb ->> 'visited_at')::timestamptz AT TIME ZONE 'UTC',
                     'YYYY-MM-DD"T"HH24:MI:SS"Z"')
    END,
    purpose = CASE WHEN jsonb_typeof(data::jsonb -> 'purpose') = 'string'
                   THEN data::jsonb ->> 'purpose' END,
    review_state = COALESCE(
        CASE WHEN jsonb_typeof(data::jsonb #> '{review,state}') = 'string'
             THEN data::jsonb #>> '{review,state}' END,
        'menunggu'),
    beneficiary_id = CASE WHEN jsonb_typeof(data::jsonb -> 'beneficiary_id') = 'string'
                          THEN data::jsonb ->> 'beneficiary_id' END
WHERE entity = 'visit';

UPDATE records SET
    request_status = CASE WHEN jsonb_typeof(data::jsonb -> 'status') = 'string'
                          THEN data::jsonb ->> 'status' END,
    status_since = COALESCE(
        CASE WHEN jsonb_typeof(data::jsonb -> 'status_history' -> -1 -> 'at') = 'string'
             THEN data::jsonb -> 'status_history' -> -1 ->> 'at' END,
        created_at),
    beneficiary_id = CASE WHEN jsonb_typeof(data::jsonb -> 'beneficiary_id') = 'string'
                          THEN data::jsonb ->> 'beneficiary_id' END
WHERE entity = 'device_request';

-- lower() in ASCII only, as SQLite's and read_columns.name_key do it.
UPDATE records SET name_key = CASE WHEN jsonb_typeof(data::jsonb -> 'name') = 'string'
    THEN translate(data::jsonb ->> 'name', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
                   'abcdefghijklmnopqrstuvwxyz') END
WHERE entity = 'beneficiary';

-- Kunjungan, Ringkasan, Cakupan: every filter a page offers over live visits, newest first.
CREATE INDEX office_visits ON records
    (visited_utc, kelurahan, author, review_state, purpose, beneficiary_id, entity, deleted)
    WHERE entity = 'visit' AND deleted = 0;

-- Permohonan ABF: live requests by status, oldest in that status first.
CREATE INDEX office_requests ON records
    (request_status, status_since, kelurahan, entity, deleted)
    WHERE entity = 'device_request' AND deleted = 0;

-- Penerima manfaat: search by name.
CREATE INDEX office_beneficiary_names ON records (name_key, kelurahan, entity, deleted)
    WHERE entity = 'beneficiary' AND deleted = 0;

-- Cakupan: each live beneficiary once per programme it is enrolled in, kept by the writer.
CREATE TABLE beneficiary_programs (
    program   TEXT COLLATE "C" NOT NULL,
    kelurahan TEXT COLLATE "C" NOT NULL,
    name_key  TEXT COLLATE "C" NOT NULL,
    record_id TEXT COLLATE "C" NOT NULL,
    author    TEXT COLLATE "C",
    PRIMARY KEY (program, kelurahan, name_key, record_id)
);

CREATE INDEX beneficiary_programs_record ON beneficiary_programs (record_id);

INSERT INTO beneficiary_programs (program, kelurahan, name_key, record_id, author)
SELECT p.value #>> '{}', r.kelurahan, COALESCE(r.name_key, ''), r.id, r.author
FROM records r
CROSS JOIN LATERAL jsonb_array_elements(
    CASE WHEN jsonb_typeof(r.data::jsonb -> 'programs') = 'array'
         THEN r.data::jsonb -> 'programs' ELSE '[]'::jsonb END) p
WHERE r.entity = 'beneficiary' AND r.deleted = 0 AND jsonb_typeof(p.value) = 'string'
ON CONFLICT DO NOTHING;
