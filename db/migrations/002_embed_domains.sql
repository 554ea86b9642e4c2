-- Sites allowed to frame a stream's player, space-separated; empty: anywhere.
ALTER TABLE streams ADD COLUMN embed_domains TEXT NOT NULL DEFAULT '';
