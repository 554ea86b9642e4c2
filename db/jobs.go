package db

import (
	"context"
	"fmt"
	"time"
)

// Job is one transcoding attempt for a stream, kept as its history.
type Job struct {
	ID         int64
	StreamID   string
	Backend    string // "ffmpeg" or "ittybit"
	ExternalID string // the backend's own job id, if any
	Status     string
	Error      string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// CreateJob records a new job for a stream.
func (d *DB) CreateJob(ctx context.Context, streamID, backend string) (*Job, error) {
	now := d.nowMS()
	j := &Job{StreamID: streamID, Backend: backend, Status: "queued", CreatedAt: now, UpdatedAt: now}
	res, err := d.sql.ExecContext(ctx, `INSERT INTO jobs (stream_id, backend, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		streamID, backend, j.Status, ms(now), ms(now))
	if err != nil {
		return nil, fmt.Errorf("create job for %s: %w", streamID, err)
	}
	j.ID, _ = res.LastInsertId()
	return j, nil
}

// ListJobs returns a stream's jobs, newest first.
func (d *DB) ListJobs(ctx context.Context, streamID string) ([]Job, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, stream_id, backend, external_id, status, error, created_at, updated_at
		FROM jobs WHERE stream_id = ? ORDER BY created_at DESC, id DESC`, streamID)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		var j Job
		var created, updated int64
		if err := rows.Scan(&j.ID, &j.StreamID, &j.Backend, &j.ExternalID, &j.Status, &j.Error, &created, &updated); err != nil {
			return nil, err
		}
		j.CreatedAt, j.UpdatedAt = fromMS(created), fromMS(updated)
		out = append(out, j)
	}
	return out, rows.Err()
}
