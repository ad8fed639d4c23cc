-- The poor-link protocol: a laptop's own plain writes are not echoed back to it, and each
-- sync reports the laptop's queue and version so the office sees laptops falling behind.

-- The device whose write at `seq` was applied exactly as sent on top of what it had: that
-- laptop already holds this state, so its pulls skip the record (NULL: everyone gets it).
ALTER TABLE records ADD COLUMN quiet_device TEXT;

ALTER TABLE devices ADD COLUMN client_version TEXT;   -- as the laptop last reported it
ALTER TABLE devices ADD COLUMN queue_size INTEGER;    -- changes waiting on the laptop then
ALTER TABLE devices ADD COLUMN reported_at TEXT;
