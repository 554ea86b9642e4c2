package db

import (
	"context"
	"fmt"
	"time"
)

// Caption is one language's captions or subtitles of a stream.
type Caption struct {
	StreamID  string
	Language  string // a BCP 47 tag, canonical: en, pt-BR
	Label     string // what the player's menu says: English, Português
	Cues      int
	CreatedAt time.Time
}

// PutCaption adds a stream's captions in a language, or replaces them;
// CreatedAt is when they were uploaded (zero: now).
func (d *DB) PutCaption(ctx context.Context, c Caption) (*Caption, error) {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = d.nowMS()
	}
	_, err := d.sql.ExecContext(ctx, `INSERT INTO stream_captions (stream_id, language, label, cues, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (stream_id, language) DO UPDATE SET label = excluded.label, cues = excluded.cues, created_at = excluded.created_at`,
		c.StreamID, c.Language, c.Label, c.Cues, ms(c.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("put caption %s/%s: %w", c.StreamID, c.Language, err)
	}
	return &c, nil
}

// Captions lists a stream's captions, by language.
func (d *DB) Captions(ctx context.Context, streamID string) ([]Caption, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT stream_id, language, label, cues, created_at FROM stream_captions
		WHERE stream_id = ? ORDER BY language`, streamID)
	if err != nil {
		return nil, fmt.Errorf("list captions: %w", err)
	}
	defer rows.Close()
	var out []Caption
	for rows.Next() {
		var c Caption
		var created int64
		if err := rows.Scan(&c.StreamID, &c.Language, &c.Label, &c.Cues, &created); err != nil {
			return nil, err
		}
		c.CreatedAt = fromMS(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteCaption removes a stream's captions in one language.
func (d *DB) DeleteCaption(ctx context.Context, streamID, language string) error {
	res, err := d.sql.ExecContext(ctx, `DELETE FROM stream_captions WHERE stream_id = ? AND language = ?`, streamID, language)
	if err != nil {
		return fmt.Errorf("delete caption %s/%s: %w", streamID, language, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("captions in %q: %w", language, ErrNotFound)
	}
	return nil
}
