-- Outgoing webhooks (Standard Webhooks). An endpoint keeps its secret in
-- the clear: it signs every delivery, so it cannot be a digest.
CREATE TABLE webhook_endpoints (
	id          INTEGER PRIMARY KEY,
	url         TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	secret      TEXT NOT NULL,
	created_by  INTEGER REFERENCES users(id) ON DELETE SET NULL,
	created_at  INTEGER NOT NULL
);

-- An event is recorded in the same transaction as the change it tells of,
-- with the stream as it was then, so none is lost or sent for a change
-- that did not happen. Its id is the webhook-id of every attempt.
CREATE TABLE webhook_events (
	id         TEXT PRIMARY KEY,
	type       TEXT NOT NULL,
	stream_id  TEXT NOT NULL,
	stream     TEXT NOT NULL,
	created_at INTEGER NOT NULL
);

-- One delivery per event and endpoint. codes lists the HTTP status of each
-- attempt (0: no answer), oldest first.
CREATE TABLE webhook_deliveries (
	id              INTEGER PRIMARY KEY,
	event_id        TEXT NOT NULL REFERENCES webhook_events(id) ON DELETE CASCADE,
	endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
	state           TEXT NOT NULL DEFAULT 'pending',
	codes           TEXT NOT NULL DEFAULT '',
	last_error      TEXT NOT NULL DEFAULT '',
	next_attempt_at INTEGER NOT NULL,
	last_attempt_at INTEGER NOT NULL DEFAULT 0,
	UNIQUE (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
