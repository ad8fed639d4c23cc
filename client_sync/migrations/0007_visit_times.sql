-- The field app's Kunjungan list (docs/field-app.md, "Kunjungan"): the laptop's pulled
-- visits newest first, a page at a time (keyset on the time and the id), from an index
-- instead of a sort of every visit the laptop holds. The overlaid visits (unsent work)
-- are few and sorted as they are read.

CREATE INDEX pulled_visits ON pulled (entity, visited_utc, id) WHERE deleted = 0;
