-- Captions and subtitles of a stream, one per language. The cues live in
-- storage (streams/<id>/subtitles/<language>/<created_at>/); this row is
-- what the portal and the API list.
CREATE TABLE stream_captions (
	stream_id  TEXT NOT NULL REFERENCES streams(id) ON DELETE CASCADE,
	language   TEXT NOT NULL,
	label      TEXT NOT NULL,
	cues       INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (stream_id, language)
);
