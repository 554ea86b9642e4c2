-- MP4 downloads: whether a stream offers one, and the object once made
-- ('' while it is not).
ALTER TABLE streams ADD COLUMN downloads INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN download_key TEXT NOT NULL DEFAULT '';
