package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
)

// Event types, as Standard Webhooks payloads name them.
const (
	EventStreamCreated = "stream.created"
	EventStreamReady   = "stream.ready"
	EventStreamFailed  = "stream.failed"
	EventStreamDeleted = "stream.deleted"
)

// EventTypes lists every event edge sends.
var EventTypes = []string{EventStreamCreated, EventStreamReady, EventStreamFailed, EventStreamDeleted}

// recordEvent notes an event about st for every webhook endpoint, in the
// caller's transaction. With no endpoint it records nothing.
func (d *DB) recordEvent(ctx context.Context, tx *sql.Tx, typ string, st *Stream) error {
	var endpoints int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webhook_endpoints`).Scan(&endpoints); err != nil || endpoints == 0 {
		return err
	}
	snapshot, err := json.Marshal(st)
	if err != nil {
		return err
	}
	id, now := "msg_"+randomString(24), ms(d.now())
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, type, stream_id, stream, created_at) VALUES (?, ?, ?, ?, ?)`,
		id, typ, st.ID, string(snapshot), now); err != nil {
		return fmt.Errorf("record %s: %w", typ, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (event_id, endpoint_id, next_attempt_at)
		SELECT ?, id, ? FROM webhook_endpoints`, id, now); err != nil {
		return fmt.Errorf("record %s deliveries: %w", typ, err)
	}
	return nil
}

// eventForStatus is the event a change to status tells of, or "".
func eventForStatus(status Status) string {
	switch status {
	case StatusReady:
		return EventStreamReady
	case StatusFailed:
		return EventStreamFailed
	}
	return ""
}
