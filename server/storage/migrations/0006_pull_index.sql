-- The two ways a pull finds the records above a laptop's cursor inside its wilayah
-- (server/storage/sqlite.py `pull` names them with INDEXED BY):
--
-- records_kelurahan_seq: a wilayah of whole kelurahan codes (a pendamping's) reads just
-- its own kelurahan's records above the cursor, however many others the district pushed;
-- records_seq_kelurahan: any other wilayah (a kecamatan, a district) walks seq order and
-- checks the kelurahan in the index, so records outside it are never read (each ~1 KB of
-- JSON) and no sort is needed, however large the first sync.
CREATE INDEX records_kelurahan_seq ON records (kelurahan, seq);
CREATE INDEX records_seq_kelurahan ON records (seq, kelurahan);
