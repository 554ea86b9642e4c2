-- The picture size of a stream's top rendition, as it is meant to be seen
-- (a phone video upright: 1080 wide, 1920 high), so the player, the embed
-- code and oEmbed keep its shape. 0 until a job reports it.
ALTER TABLE streams ADD COLUMN width INTEGER NOT NULL DEFAULT 0;
ALTER TABLE streams ADD COLUMN height INTEGER NOT NULL DEFAULT 0;
