package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Playback policies, as stored and as the API spells them (the playback
// package names the same two words).
const (
	PlaybackPublic = "public"
	PlaybackSigned = "signed"
)

func validPlayback(p string) bool { return p == PlaybackPublic || p == PlaybackSigned }

func errPlayback(p string) error {
	return fmt.Errorf("playback policy %q: want public or signed: %w", p, ErrInvalid)
}

// StreamRule is what the playback document says of one stream.
type StreamRule struct {
	ID      string
	Signed  bool
	Origins []string
}

// StreamRules lists the streams that are not plain public ones: signed, or
// limited to some sites.
func (d *DB) StreamRules(ctx context.Context) ([]StreamRule, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, playback, embed_domains FROM streams
		WHERE playback != 'public' OR embed_domains != '' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("stream rules: %w", err)
	}
	defer rows.Close()
	var out []StreamRule
	for rows.Next() {
		var r StreamRule
		var policy, domains string
		if err := rows.Scan(&r.ID, &policy, &domains); err != nil {
			return nil, err
		}
		r.Signed, r.Origins = policy == PlaybackSigned, strings.Fields(domains)
		out = append(out, r)
	}
	return out, rows.Err()
}

// SigningKey is a key that signs playback tokens, without its private part.
type SigningKey struct {
	ID        string // the JWT kid
	Name      string
	PublicPEM string
	Builtin   bool // edge's own, which mints tokens on request
	CreatedBy int64
	CreatedAt time.Time
	RevokedAt time.Time // zero while in force
}

// MaxKeyNameLen bounds a signing key's name, in bytes.
const MaxKeyNameLen = 100

// AddSigningKey records a key's public part; privatePEM is kept only for
// edge's own key and is "" otherwise.
func (d *DB) AddSigningKey(ctx context.Context, id, name, publicPEM, privatePEM string, by int64) (*SigningKey, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxKeyNameLen {
		return nil, fmt.Errorf("key name: 1 to %d characters: %w", MaxKeyNameLen, ErrInvalid)
	}
	k := &SigningKey{ID: id, Name: name, PublicPEM: publicPEM, Builtin: privatePEM != "", CreatedBy: by, CreatedAt: d.nowMS()}
	_, err := d.sql.ExecContext(ctx, `INSERT INTO signing_keys (id, name, public_pem, private_pem, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, id, name, publicPEM, nullString(privatePEM), nullID(by), ms(k.CreatedAt))
	if err != nil {
		return nil, fmt.Errorf("add signing key: %w", err)
	}
	return k, nil
}

// SigningKeys lists every key, in force or revoked, newest first.
func (d *DB) SigningKeys(ctx context.Context) ([]SigningKey, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, name, public_pem, private_pem IS NOT NULL, coalesce(created_by, 0),
		created_at, coalesce(revoked_at, 0) FROM signing_keys ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", err)
	}
	defer rows.Close()
	var out []SigningKey
	for rows.Next() {
		var k SigningKey
		var created, revoked int64
		if err := rows.Scan(&k.ID, &k.Name, &k.PublicPEM, &k.Builtin, &k.CreatedBy, &created, &revoked); err != nil {
			return nil, err
		}
		k.CreatedAt = fromMS(created)
		if revoked > 0 {
			k.RevokedAt = fromMS(revoked)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// RevokeSigningKey takes a key out of force; its tokens stop opening
// streams once the document is published again.
func (d *DB) RevokeSigningKey(ctx context.Context, id string) error {
	res, err := d.sql.ExecContext(ctx, `UPDATE signing_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, ms(d.now()), id)
	if err != nil {
		return fmt.Errorf("revoke signing key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("signing key %s (or it is already revoked): %w", id, ErrNotFound)
	}
	return nil
}

// BuiltinSigningKey returns edge's own key in force, with its private
// part; ErrNotFound when there is none yet.
func (d *DB) BuiltinSigningKey(ctx context.Context) (id, privatePEM string, err error) {
	err = d.sql.QueryRowContext(ctx, `SELECT id, private_pem FROM signing_keys
		WHERE private_pem IS NOT NULL AND revoked_at IS NULL ORDER BY created_at DESC LIMIT 1`).Scan(&id, &privatePEM)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("built-in signing key: %w", ErrNotFound)
	}
	if err != nil {
		return "", "", fmt.Errorf("built-in signing key: %w", err)
	}
	return id, privatePEM, nil
}

// DeletedStreamSweeps are when a deleted stream's prefix is swept again
// after the delete, for output a transcoder writes late; after the last
// the stream leaves the document.
var DeletedStreamSweeps = []time.Duration{time.Minute, 10 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 30 * 24 * time.Hour}

// MarkDeleted records a stream as deleted, before its objects go.
func (d *DB) MarkDeleted(ctx context.Context, id string) error {
	now := d.now()
	_, err := d.sql.ExecContext(ctx, `INSERT INTO deleted_streams (id, deleted_at, next_sweep_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO NOTHING`, id, ms(now), ms(now.Add(DeletedStreamSweeps[0])))
	if err != nil {
		return fmt.Errorf("mark %s deleted: %w", id, err)
	}
	return nil
}

// DeletedStreams lists the streams the document marks deleted.
func (d *DB) DeletedStreams(ctx context.Context) ([]string, error) {
	return d.ids(ctx, `SELECT id FROM deleted_streams ORDER BY id`)
}

// DueSweeps lists deleted streams whose prefix is due to be swept.
func (d *DB) DueSweeps(ctx context.Context) ([]string, error) {
	return d.ids(ctx, `SELECT id FROM deleted_streams WHERE next_sweep_at <= ? ORDER BY next_sweep_at`, ms(d.now()))
}

// SweptDeleted notes a sweep of a deleted stream's prefix and schedules
// the next; after the last, the stream is forgotten (it reports true).
func (d *DB) SweptDeleted(ctx context.Context, id string) (forgotten bool, err error) {
	var deleted int64
	var sweeps int
	err = d.sql.QueryRowContext(ctx, `SELECT deleted_at, sweeps FROM deleted_streams WHERE id = ?`, id).Scan(&deleted, &sweeps)
	if err != nil {
		return false, notFound(err, "deleted stream")
	}
	sweeps++
	if sweeps >= len(DeletedStreamSweeps) {
		_, err = d.sql.ExecContext(ctx, `DELETE FROM deleted_streams WHERE id = ?`, id)
		return err == nil, err
	}
	next := fromMS(deleted).Add(DeletedStreamSweeps[sweeps])
	_, err = d.sql.ExecContext(ctx, `UPDATE deleted_streams SET sweeps = ?, next_sweep_at = ? WHERE id = ?`, sweeps, ms(next), id)
	return false, err
}

func (d *DB) ids(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := d.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("query ids: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// UnmarkDeleted undoes MarkDeleted for a delete that could not go on.
func (d *DB) UnmarkDeleted(ctx context.Context, id string) error {
	if _, err := d.sql.ExecContext(ctx, `DELETE FROM deleted_streams WHERE id = ?`, id); err != nil {
		return fmt.Errorf("unmark %s deleted: %w", id, err)
	}
	return nil
}

// InstanceID is this database's id, made on first use: the owner named
// in the playback document it publishes.
func (d *DB) InstanceID(ctx context.Context) (string, error) {
	if _, err := d.sql.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ('instance_id', ?) ON CONFLICT (name) DO NOTHING`,
		randomString(20)); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	var id string
	if err := d.sql.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'instance_id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	return id, nil
}
