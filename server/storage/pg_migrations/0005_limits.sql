-- The hub-wide back-pressure state of server/storage/pg_limits.py: token buckets, failures,
-- holds, the write queue and its pace, leases. Shared by every hub process on every
-- machine. UNLOGGED: no WAL is written for it (a rate check on every call pays for no
-- fsync) and a crashed server empties it, which costs a laptop a few seconds at most
-- (server/storage/limits.py). Times are wall-clock seconds from the caller, keys compare
-- byte-wise as in SQLite.

CREATE UNLOGGED TABLE limits_buckets (
    key     TEXT COLLATE "C" PRIMARY KEY,
    tokens  DOUBLE PRECISION NOT NULL,
    at      DOUBLE PRECISION NOT NULL,
    full_at DOUBLE PRECISION NOT NULL      -- when it is full again: forgotten from then on
);
CREATE INDEX limits_buckets_full ON limits_buckets (full_at);

CREATE UNLOGGED TABLE limits_failures (
    key        TEXT COLLATE "C" NOT NULL,
    at         DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX limits_failures_key ON limits_failures (key, at);
CREATE INDEX limits_failures_expiry ON limits_failures (expires_at);

CREATE UNLOGGED TABLE limits_holds (
    key   TEXT COLLATE "C" PRIMARY KEY,
    until DOUBLE PRECISION NOT NULL
);
CREATE INDEX limits_holds_until ON limits_holds (until);

-- A ticket is never reused (an identity, like SQLite's AUTOINCREMENT): a worker whose
-- ticket lapsed and who leaves late must not take a younger push's ticket out.
CREATE UNLOGGED TABLE limits_tickets (
    ticket     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    cost       INTEGER NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX limits_tickets_expiry ON limits_tickets (expires_at);

CREATE UNLOGGED TABLE limits_pace (
    name  TEXT COLLATE "C" PRIMARY KEY,
    value DOUBLE PRECISION NOT NULL
);

CREATE UNLOGGED TABLE limits_leases (
    name       TEXT COLLATE "C" PRIMARY KEY,
    owner      TEXT COLLATE "C" NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL
);
