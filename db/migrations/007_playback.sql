-- Private playback. A stream's policy: 'public' or 'signed'.
ALTER TABLE streams ADD COLUMN playback TEXT NOT NULL DEFAULT 'public';

-- Keys that sign playback tokens. Only the public part is kept, except for
-- edge's own key (private_pem set), which mints tokens for the API and the
-- portal. A revoked key stays listed, and is left out of the document.
CREATE TABLE signing_keys (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL,
	public_pem  TEXT NOT NULL,
	private_pem TEXT,
	created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
	created_at  INTEGER NOT NULL,
	revoked_at  INTEGER
);

-- Streams deleted lately: the document marks them so no edge serves them,
-- even output a transcoder writes after the delete, and their prefix is
-- swept again for that output.
CREATE TABLE deleted_streams (
	id            TEXT PRIMARY KEY,
	deleted_at    INTEGER NOT NULL,
	next_sweep_at INTEGER NOT NULL,
	sweeps        INTEGER NOT NULL DEFAULT 0
);

-- Settings of this installation, such as its id: the playback document
-- names the database that publishes it, so a second edge configured to
-- write the same storage cannot overwrite it with its own empty rules.
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
