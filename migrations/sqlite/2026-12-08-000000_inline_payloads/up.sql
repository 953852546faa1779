-- Issue 18 (throughput): a payload at most AS2_INLINE_PAYLOAD_BYTES long (64 KiB by
-- default) is kept in its message's row instead of a file or object of the payload store;
-- a message names its payload by payload_key or holds it in payload_inline, never both.
ALTER TABLE messages ADD COLUMN payload_inline BLOB;
