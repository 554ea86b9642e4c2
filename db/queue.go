package db

import (
	"context"
	"fmt"
)

// The queue is the streams table itself: a queued stream is waiting for a
// transcoder, a processing one has a worker. It survives restarts because
// it is the database.

// ClaimNextStream moves the oldest queued stream to processing and returns
// it, or returns ErrNotFound when nothing waits. The single UPDATE makes
// the claim atomic, so two workers never take the same stream.
func (d *DB) ClaimNextStream(ctx context.Context) (*Stream, error) {
	return scanStream(d.sql.QueryRowContext(ctx, `
		UPDATE streams SET status = 'processing', progress = 0, error = '', updated_at = ?
		WHERE id = (SELECT id FROM streams WHERE status = 'queued' ORDER BY created_at, id LIMIT 1) AND status = 'queued'
		RETURNING `+streamColumns, ms(d.now())))
}

// RequeueInterrupted puts back in the queue the streams that were
// processing when edge stopped, so none stays stuck; it runs at start-up,
// before any worker.
func (d *DB) RequeueInterrupted(ctx context.Context) (int, error) {
	res, err := d.sql.ExecContext(ctx, `UPDATE streams SET status = 'queued', progress = 0, updated_at = ? WHERE status = 'processing'`, ms(d.now()))
	if err != nil {
		return 0, fmt.Errorf("requeue interrupted streams: %w", err)
	}
	if _, err := d.sql.ExecContext(ctx, `UPDATE jobs SET status = 'interrupted', updated_at = ? WHERE status = 'running'`, ms(d.now())); err != nil {
		return 0, fmt.Errorf("mark interrupted jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// SetJobState records where a job is: running, succeeded, failed,
// cancelled or interrupted.
func (d *DB) SetJobState(ctx context.Context, jobID int64, status, errText string) error {
	_, err := d.sql.ExecContext(ctx, `UPDATE jobs SET status = ?, error = ?, updated_at = ? WHERE id = ?`, status, errText, ms(d.now()), jobID)
	if err != nil {
		return fmt.Errorf("set job %d: %w", jobID, err)
	}
	return nil
}
