package db

import (
	"context"
	"fmt"
)

// SetUploadID records the tus upload a waiting stream receives.
func (d *DB) SetUploadID(ctx context.Context, id, uploadID string) error {
	res, err := d.sql.ExecContext(ctx, `UPDATE streams SET upload_id = ? WHERE id = ? AND status = 'uploading'`, uploadID, id)
	if err != nil {
		return fmt.Errorf("record upload of stream %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("stream %s is not waiting for an upload: %w", id, ErrConflict)
	}
	return nil
}

// PendingUpload is a stream still waiting, and the upload it waits for.
type PendingUpload struct {
	StreamID, UploadID string
}

// PendingUploads lists the streams waiting for an upload that has begun.
func (d *DB) PendingUploads(ctx context.Context) ([]PendingUpload, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, upload_id FROM streams WHERE status = 'uploading' AND upload_id != ''`)
	if err != nil {
		return nil, fmt.Errorf("pending uploads: %w", err)
	}
	defer rows.Close()
	var out []PendingUpload
	for rows.Next() {
		var p PendingUpload
		if err := rows.Scan(&p.StreamID, &p.UploadID); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
