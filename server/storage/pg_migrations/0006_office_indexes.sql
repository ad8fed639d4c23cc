-- The office's reads on PostgreSQL (server/storage/pg_office.py): one index more than
-- SQLite's read model, because PostgreSQL chooses plans by statistics where SQLite is told
-- (INDEXED BY), and a hub fresh from `migrate-storage`, or filling up faster than
-- autovacuum analyses it, has none worth the name.
--
-- Each visit by its beneficiary, then its time (and whether it is deleted, so the index
-- alone answers). Cakupan asks of every beneficiary of a programme "when last visited?",
-- which also answers "visited since?": one descent of this index per beneficiary, whatever
-- the planner believes of the table. Without it, a district of 2,000 beneficiaries before
-- its first ANALYZE took seconds: each beneficiary walked `office_visits` whole.
CREATE INDEX office_visit_beneficiary ON records (beneficiary_id, visited_utc)
    INCLUDE (deleted) WHERE entity = 'visit';
