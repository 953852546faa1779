-- What the MIC of a plain message (neither signed, encrypted nor compressed) covers for a
-- partner: the RFC 4130 content alone by default, or the entity with its MIME headers for a
-- partner known to compute it so.
ALTER TABLE partners ADD COLUMN unsigned_mic TEXT NOT NULL DEFAULT 'content-only';
