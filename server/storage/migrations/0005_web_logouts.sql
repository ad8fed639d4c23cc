-- A supervisor's logout ends every web session of theirs, not only the cookie in that
-- browser: sessions are signed cookies, so the hub keeps when each user last logged out
-- and refuses a session that began before it.
CREATE TABLE web_logouts (
    user_name TEXT PRIMARY KEY REFERENCES users (name),
    after     INTEGER NOT NULL              -- unix seconds: sessions begun before are over
);
