-- Every algorithm in both directions: the signature scheme, the key transport and the
-- compression order of what we send to a partner (the defaults are what every AS2
-- product reads).
ALTER TABLE partners ADD COLUMN signature_scheme TEXT NOT NULL DEFAULT 'pkcs1v15';
ALTER TABLE partners ADD COLUMN key_transport TEXT NOT NULL DEFAULT 'rsa-pkcs1v15';
ALTER TABLE partners ADD COLUMN compression_order TEXT NOT NULL DEFAULT 'before-signing';
