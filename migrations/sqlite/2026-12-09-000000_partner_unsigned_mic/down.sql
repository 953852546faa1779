ALTER TABLE partners DROP COLUMN unsigned_mic;
