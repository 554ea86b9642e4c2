package db

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Status is where a stream is in its life.
type Status string

const (
	StatusUploading  Status = "uploading"
	StatusQueued     Status = "queued"
	StatusProcessing Status = "processing"
	StatusReady      Status = "ready"
	StatusFailed     Status = "failed"
)

// StreamIDLen is the length of stream ids: 62^12 ≈ 3·10^21, unguessable
// enough that an id in a player URL reveals nothing else.
const StreamIDLen = 12

// MaxTitleLen bounds titles, in bytes.
const MaxTitleLen = 200

// Stream is one video and its HLS package.
type Stream struct {
	ID         string
	Title      string
	SourceKey  string
	Status     Status
	Progress   int
	Error      string
	Duration   time.Duration
	Renditions []string
	PosterKey  string
	// Width and Height are the top rendition's picture, upright; 0 when
	// no job reported them (an older stream, or Ittybit's).
	Width, Height int
	// Warning says how a ready stream falls short of its source (cut short,
	// decode errors); empty when it does not.
	Warning string
	// EmbedDomains are the sites allowed to frame the player (CSP
	// frame-ancestors sources); empty means anywhere.
	EmbedDomains []string
	// Playback is "public" or "signed" (playback.Public, playback.Signed).
	Playback string
	// ImportURL is where edge downloads the source from; "" for an upload
	// or a source already in storage.
	ImportURL string
	// Downloads says the stream offers an MP4 download; DownloadKey is the
	// file once it is made ("" before).
	Downloads   bool
	DownloadKey string
	CreatedBy   int64 // 0 once the creator's account is gone
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// OfferedDownload is the stream's MP4 download while it offers one and it
// is made; "" otherwise.
func (st *Stream) OfferedDownload() string {
	if !st.Downloads {
		return ""
	}
	return st.DownloadKey
}

// NewStream is what a caller supplies to create a stream.
type NewStream struct {
	Title     string
	SourceKey string
	Status    Status
	Playback  string // "" is public
	ImportURL string
	Downloads bool
	CreatedBy int64
}

const streamColumns = `id, title, source_key, status, progress, error, duration_ms, renditions, poster_key, width, height, warning,
	embed_domains, playback, import_url, downloads, download_key, coalesce(created_by, 0), created_at, updated_at`

// CreateStream stores a new stream under a fresh random id.
func (d *DB) CreateStream(ctx context.Context, in NewStream) (*Stream, error) {
	title, err := cleanTitle(in.Title)
	if err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = StatusUploading
	}
	if in.Playback == "" {
		in.Playback = PlaybackPublic
	}
	if !validPlayback(in.Playback) {
		return nil, errPlayback(in.Playback)
	}
	now := d.nowMS()
	s := &Stream{ID: randomString(StreamIDLen), Title: title, SourceKey: in.SourceKey, Status: in.Status,
		Playback: in.Playback, ImportURL: in.ImportURL, Downloads: in.Downloads, CreatedBy: in.CreatedBy, CreatedAt: now, UpdatedAt: now}
	err = d.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO streams (id, title, source_key, status, playback, import_url, downloads, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.Title, s.SourceKey, string(s.Status), s.Playback, s.ImportURL, s.Downloads, nullID(in.CreatedBy), ms(now), ms(now)); err != nil {
			return err
		}
		return d.recordEvent(ctx, tx, EventStreamCreated, s)
	})
	if err != nil {
		return nil, fmt.Errorf("create stream: %w", err)
	}
	return s, nil
}

// Stream finds one stream by id.
func (d *DB) Stream(ctx context.Context, id string) (*Stream, error) { return streamIn(ctx, d.sql, id) }

// streamIn reads a stream through q: the database, or a transaction.
func streamIn(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (*Stream, error) {
	return scanStream(q.QueryRowContext(ctx, `SELECT `+streamColumns+` FROM streams WHERE id = ?`, id))
}

// StreamFilter selects a page of streams.
type StreamFilter struct {
	Query  string // substring of the title, case-insensitive in every script
	Limit  int
	Offset int
}

// ListStreams returns a page of streams, newest first, and how many match.
func (d *DB) ListStreams(ctx context.Context, f StreamFilter) ([]Stream, int, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	like := "%" + escapeLike(strings.TrimSpace(f.Query)) + "%"
	var total int
	if err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM streams WHERE edge_fold(title) LIKE edge_fold(?) ESCAPE '\'`, like).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count streams: %w", err)
	}
	out, err := d.streams(ctx, `SELECT `+streamColumns+` FROM streams WHERE edge_fold(title) LIKE edge_fold(?) ESCAPE '\'
		ORDER BY created_at DESC, id LIMIT ? OFFSET ?`, like, f.Limit, max(0, f.Offset))
	return out, total, err
}

func (d *DB) streams(ctx context.Context, query string, args ...any) ([]Stream, error) {
	rows, err := d.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	defer rows.Close()
	var out []Stream
	for rows.Next() {
		s, err := scanStream(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *s)
	}
	return out, rows.Err()
}

// RenameStream changes a stream's title.
func (d *DB) RenameStream(ctx context.Context, id, title string) error {
	return d.UpdateStream(ctx, id, StreamUpdate{Title: &title})
}

// SetStreamState records progress or an outcome reported by a job.
func (d *DB) SetStreamState(ctx context.Context, id string, status Status, progress int, errText string) error {
	if progress < 0 || progress > 100 {
		return fmt.Errorf("progress %d: want 0 to 100: %w", progress, ErrInvalid)
	}
	event := eventForStatus(status)
	if event == "" { // progress, queued, processing: no event, no transaction
		return d.updateStream(ctx, id, `status = ?, progress = ?, error = ?`, string(status), progress, errText)
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var was Status
		if err := tx.QueryRowContext(ctx, `SELECT status FROM streams WHERE id = ?`, id).Scan(&was); err != nil {
			return notFound(err, "stream "+id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE streams SET status = ?, progress = ?, error = ?, updated_at = ? WHERE id = ?`,
			string(status), progress, errText, ms(d.now()), id); err != nil {
			return fmt.Errorf("update stream %s: %w", id, err)
		}
		if was == status {
			return nil
		}
		st, err := streamIn(ctx, tx, id)
		if err != nil {
			return err
		}
		return d.recordEvent(ctx, tx, event, st)
	})
}

// StreamOutput is what a finished job produced.
type StreamOutput struct {
	Duration      time.Duration
	Renditions    []string
	PosterKey     string
	Width, Height int
	Warning       string
}

// SetStreamOutput records what a finished job produced.
func (d *DB) SetStreamOutput(ctx context.Context, id string, out StreamOutput) error {
	return d.updateStream(ctx, id, `duration_ms = ?, renditions = ?, poster_key = ?, width = ?, height = ?, warning = ?`,
		out.Duration.Milliseconds(), strings.Join(out.Renditions, ","), out.PosterKey, out.Width, out.Height, out.Warning)
}

// SetDownloadKey records the stream's MP4 download once made ("" once gone).
func (d *DB) SetDownloadKey(ctx context.Context, id, key string) error {
	return d.updateStream(ctx, id, `download_key = ?`, key)
}

// SetPosterKey points a stream at another poster in storage.
func (d *DB) SetPosterKey(ctx context.Context, id, key string) error {
	return d.updateStream(ctx, id, `poster_key = ?`, key)
}

// embedSource is one CSP host-source: an optional http(s) scheme, a host
// (optionally "*." for subdomains) and an optional port or ":*".
var embedSource = regexp.MustCompile(`^(https?://)?(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:(\d{1,5}|\*))?$`)

// SetEmbedDomains limits which sites may frame the stream's player; an
// empty list allows any site.
func (d *DB) SetEmbedDomains(ctx context.Context, id string, domains []string) error {
	return d.UpdateStream(ctx, id, StreamUpdate{EmbedDomains: &domains})
}

// StreamUpdate changes some of a stream's settings at once; nil fields
// stay as they are.
type StreamUpdate struct {
	Title        *string
	Playback     *string
	EmbedDomains *[]string
	Downloads    *bool
}

// UpdateStream checks every field given, then changes them together: a
// bad field changes nothing.
func (d *DB) UpdateStream(ctx context.Context, id string, u StreamUpdate) error {
	var sets []string
	var args []any
	if u.Title != nil {
		title, err := cleanTitle(*u.Title)
		if err != nil {
			return err
		}
		sets, args = append(sets, "title = ?"), append(args, title)
	}
	if u.Playback != nil {
		if !validPlayback(*u.Playback) {
			return errPlayback(*u.Playback)
		}
		sets, args = append(sets, "playback = ?"), append(args, *u.Playback)
	}
	if u.EmbedDomains != nil {
		clean, err := cleanEmbedDomains(*u.EmbedDomains)
		if err != nil {
			return err
		}
		sets, args = append(sets, "embed_domains = ?"), append(args, strings.Join(clean, " "))
	}
	if u.Downloads != nil {
		sets, args = append(sets, "downloads = ?"), append(args, *u.Downloads)
	}
	if len(sets) == 0 {
		_, err := d.Stream(ctx, id)
		return err
	}
	return d.updateStream(ctx, id, strings.Join(sets, ", "), args...)
}

// maxEmbedDomains bounds a stream's allowed sites: each is matched on
// every request the proxy serves for it.
const maxEmbedDomains = 50

func cleanEmbedDomains(domains []string) ([]string, error) {
	var clean []string
	for _, sent := range domains {
		sent = strings.TrimSpace(sent)
		dom := strings.TrimSuffix(strings.ToLower(sent), "/")
		if dom == "" {
			continue
		}
		if !embedSource.MatchString(dom) { // quoted as sent, not as cleaned, so the reader finds it
			return nil, fmt.Errorf("embed domain %q: want a site such as example.com, *.example.com or https://example.com:8443: %w", sent, ErrInvalid)
		}
		if len(clean) == maxEmbedDomains {
			return nil, fmt.Errorf("embed domains: at most %d sites: %w", maxEmbedDomains, ErrInvalid)
		}
		clean = append(clean, dom)
	}
	return clean, nil
}

// DeleteStream removes a stream row and its jobs. Its objects in storage
// are the caller's to remove.
func (d *DB) DeleteStream(ctx context.Context, id string) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		st, err := streamIn(ctx, tx, id)
		if err != nil {
			return fmt.Errorf("stream %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM streams WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete stream %s: %w", id, err)
		}
		return d.recordEvent(ctx, tx, EventStreamDeleted, st)
	})
}

func (d *DB) updateStream(ctx context.Context, id, set string, args ...any) error {
	args = append(args, ms(d.now()), id)
	res, err := d.sql.ExecContext(ctx, `UPDATE streams SET `+set+`, updated_at = ? WHERE id = ?`, args...)
	if err != nil {
		return fmt.Errorf("update stream %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("stream %s: %w", id, ErrNotFound)
	}
	return nil
}

func scanStream(s scanner) (*Stream, error) {
	var st Stream
	var durMS, created, updated int64
	var renditions, domains string
	err := s.Scan(&st.ID, &st.Title, &st.SourceKey, &st.Status, &st.Progress, &st.Error, &durMS, &renditions,
		&st.PosterKey, &st.Width, &st.Height, &st.Warning, &domains, &st.Playback, &st.ImportURL, &st.Downloads, &st.DownloadKey, &st.CreatedBy, &created, &updated)
	if err != nil {
		return nil, notFound(err, "stream")
	}
	st.Duration = time.Duration(durMS) * time.Millisecond
	if renditions != "" {
		st.Renditions = strings.Split(renditions, ",")
	}
	st.EmbedDomains = strings.Fields(domains)
	st.CreatedAt, st.UpdatedAt = fromMS(created), fromMS(updated)
	return &st, nil
}

func cleanTitle(t string) (string, error) {
	t = strings.TrimSpace(t)
	if t == "" || len(t) > MaxTitleLen {
		return "", fmt.Errorf("title: 1 to %d characters: %w", MaxTitleLen, ErrInvalid)
	}
	return t, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// QueueUploaded records the uploaded source and queues the stream, only if
// it is still waiting for its upload: a repeated finish changes nothing.
func (d *DB) QueueUploaded(ctx context.Context, id, sourceKey string) error {
	res, err := d.sql.ExecContext(ctx, `UPDATE streams SET source_key = ?, status = 'queued', progress = 0, error = '', updated_at = ?
		WHERE id = ? AND status = 'uploading'`, sourceKey, ms(d.now()), id)
	if err != nil {
		return fmt.Errorf("queue uploaded stream %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("stream %s is not waiting for an upload: %w", id, ErrConflict)
	}
	return nil
}

// PendingImports lists streams whose source is still to be downloaded.
func (d *DB) PendingImports(ctx context.Context) ([]Stream, error) {
	return d.streams(ctx, `SELECT `+streamColumns+` FROM streams WHERE status = 'uploading' AND import_url != '' ORDER BY created_at`)
}

// StaleUploads lists streams still waiting for their upload since before.
func (d *DB) StaleUploads(ctx context.Context, before time.Time) ([]string, error) {
	return d.ids(ctx, `SELECT id FROM streams WHERE status = 'uploading' AND updated_at < ?`, ms(before))
}
