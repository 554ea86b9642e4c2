package db

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// TokenPrefix starts every API token, so a leaked one is easy to grep for.
const TokenPrefix = "edge_"

// APIToken describes a token without its secret.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	Prefix     string // the first characters, to tell tokens apart
	CreatedAt  time.Time
	LastUsedAt time.Time // zero if never used
}

// CreateAPIToken makes a token for a user and returns its secret, which is
// never stored and cannot be shown again.
func (d *DB) CreateAPIToken(ctx context.Context, userID int64, name string) (string, *APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, fmt.Errorf("token name: 1 to 100 characters: %w", ErrInvalid)
	}
	secret := TokenPrefix + randomString(40)
	t := &APIToken{UserID: userID, Name: name, Prefix: secret[:len(TokenPrefix)+6], CreatedAt: d.nowMS()}
	res, err := d.sql.ExecContext(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES (?, ?, ?, ?, ?)`,
		userID, t.Name, digest(secret), t.Prefix, ms(t.CreatedAt))
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	t.ID, _ = res.LastInsertId()
	return secret, t, nil
}

// UserByAPIToken finds the owner of a token secret and notes its use, at
// most once a minute. The note is advisory: a read never fails because
// the disk is full or the database busy with writes.
func (d *DB) UserByAPIToken(ctx context.Context, secret string) (*User, error) {
	h := digest(secret)
	u, err := d.scanUser(d.sql.QueryRowContext(ctx, `
		SELECT u.id, u.email, u.role, u.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = ?`, h))
	if err != nil {
		return nil, err
	}
	now := d.now()
	d.sql.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ? AND coalesce(last_used_at, 0) < ?`,
		ms(now), h, ms(now.Add(-time.Minute)))
	return u, nil
}

// ListAPITokens returns a user's tokens, newest first.
func (d *DB) ListAPITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, user_id, name, prefix, created_at, coalesce(last_used_at, 0)
		FROM api_tokens WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []APIToken
	for rows.Next() {
		var t APIToken
		var created, used int64
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &created, &used); err != nil {
			return nil, err
		}
		t.CreatedAt = fromMS(created)
		if used > 0 {
			t.LastUsedAt = fromMS(used)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeAPIToken deletes one of a user's tokens.
func (d *DB) RevokeAPIToken(ctx context.Context, userID, id int64) error {
	res, err := d.sql.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %d: %w", id, ErrNotFound)
	}
	return nil
}
