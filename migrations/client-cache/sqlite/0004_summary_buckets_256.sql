-- Vault summaries go from 32 buckets (the record id's last byte modulo 32)
-- to 256 (the last byte itself): a change elsewhere then brings 1/256 of
-- the other device's entries instead of 1/32 (docs/design.md, "The vault
-- summary"). Clearing the digest makes the cache refill every row's summary
-- columns, the bucket included, when it opens.
UPDATE records SET digest = NULL;

-- The bucket count this device's own summaries were last written under. A
-- profile from before this migration wrote 32; its next sync rewrites them
-- under 256 and sets it (client/src/sync/summary.rs).
ALTER TABLE profile ADD COLUMN summary_buckets INTEGER NOT NULL DEFAULT 256;
UPDATE profile SET summary_buckets = 32;
