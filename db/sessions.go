package db

import (
	"context"
	"fmt"
	"time"
)

// Session is a signed-in browser. Its cookie value is shown once, at
// creation; the database keeps only a digest.
type Session struct {
	User      User
	CSRFToken string
	ExpiresAt time.Time
}

// CreateSession signs a user in for ttl and returns the cookie value.
func (d *DB) CreateSession(ctx context.Context, userID int64, ttl time.Duration) (string, *Session, error) {
	token := randomString(43)
	now := d.now()
	s := &Session{CSRFToken: randomString(43), ExpiresAt: now.Add(ttl).UTC()}
	_, err := d.sql.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		digest(token), userID, s.CSRFToken, ms(now), ms(s.ExpiresAt))
	if err != nil {
		return "", nil, fmt.Errorf("create session: %w", err)
	}
	u, err := d.scanUser(d.sql.QueryRowContext(ctx, `SELECT id, email, role, created_at FROM users WHERE id = ?`, userID))
	if err != nil {
		return "", nil, err
	}
	s.User = *u
	return token, s, nil
}

// SessionByToken finds a live session by its cookie value.
func (d *DB) SessionByToken(ctx context.Context, token string) (*Session, error) {
	var s Session
	var created, expires int64
	err := d.sql.QueryRowContext(ctx, `
		SELECT u.id, u.email, u.role, u.created_at, s.csrf_token, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.id_hash = ? AND s.expires_at > ?`, digest(token), ms(d.now())).
		Scan(&s.User.ID, &s.User.Email, &s.User.Role, &created, &s.CSRFToken, &expires)
	if err != nil {
		return nil, notFound(err, "session")
	}
	s.User.CreatedAt, s.ExpiresAt = fromMS(created), fromMS(expires)
	return &s, nil
}

// DeleteSession signs a browser out.
func (d *DB) DeleteSession(ctx context.Context, token string) error {
	_, err := d.sql.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, digest(token))
	return err
}

// DeleteExpiredSessions is run now and then to keep the table small.
func (d *DB) DeleteExpiredSessions(ctx context.Context) error {
	_, err := d.sql.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, ms(d.now()))
	return err
}
