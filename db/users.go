package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Role is what a user may do: admins also manage users.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleEditor Role = "editor"
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// User is a portal account.
type User struct {
	ID        int64
	Email     string
	Role      Role
	CreatedAt time.Time
}

// IsAdmin reports whether the user may manage other users.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// dummyHash is compared against when the email is unknown, so a sign-in
// takes as long whether or not the account exists.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("edge-no-such-user"), bcrypt.DefaultCost)

// CreateUser adds an account, storing only a bcrypt hash of the password.
func (d *DB) CreateUser(ctx context.Context, email, password string, role Role) (*User, error) {
	email, err := normalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if role != RoleAdmin && role != RoleEditor {
		return nil, fmt.Errorf("role %q: want admin or editor: %w", role, ErrInvalid)
	}
	hash, err := hashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &User{Email: email, Role: role, CreatedAt: d.nowMS()}
	res, err := d.sql.ExecContext(ctx, `INSERT INTO users (email, password_hash, role, created_at) VALUES (?, ?, ?, ?)`,
		u.Email, hash, string(role), ms(u.CreatedAt))
	if err != nil {
		return nil, conflict(err, "user "+email)
	}
	u.ID, _ = res.LastInsertId()
	return u, nil
}

// hashPassword checks a new password and returns its bcrypt hash.
func hashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("password: at least %d characters: %w", MinPasswordLen, ErrInvalid)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", fmt.Errorf("password: at most 72 bytes: %w", ErrInvalid)
	} else if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(hash), nil
}

// SetPassword gives an account a new password and ends its sessions, all
// but keepSession (the one changing it; "" ends every one): whoever knew
// the old password is signed out. API tokens are left as they are.
func (d *DB) SetPassword(ctx context.Context, userID int64, password, keepSession string) error {
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	return d.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("user: %w", ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ? AND id_hash != ?`, userID, digest(keepSession))
		return err
	})
}

// Authenticate returns the user whose email and password match. A wrong
// email and a wrong password give the same ErrNotFound.
func (d *DB) Authenticate(ctx context.Context, email, password string) (*User, error) {
	var u User
	var hash string
	var created int64
	err := d.sql.QueryRowContext(ctx, `SELECT id, email, role, created_at, password_hash FROM users WHERE email = ?`,
		strings.TrimSpace(email)).Scan(&u.ID, &u.Email, &u.Role, &created, &hash)
	if err != nil {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, notFound(err, "user")
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, fmt.Errorf("user: %w", ErrNotFound)
	}
	u.CreatedAt = fromMS(created)
	return &u, nil
}

// UserByID finds an account by its id.
func (d *DB) UserByID(ctx context.Context, id int64) (*User, error) {
	return d.scanUser(d.sql.QueryRowContext(ctx, `SELECT id, email, role, created_at FROM users WHERE id = ?`, id))
}

// UserByEmail finds an account.
func (d *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	return d.scanUser(d.sql.QueryRowContext(ctx, `SELECT id, email, role, created_at FROM users WHERE email = ?`, strings.TrimSpace(email)))
}

// ListUsers returns every account, oldest first.
func (d *DB) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, email, role, created_at FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := d.scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

// CountUsers tells whether edge still needs its first account.
func (d *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := d.sql.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// DeleteUser removes an account and its sessions and tokens. The last admin
// cannot be removed: nobody could manage users again.
func (d *DB) DeleteUser(ctx context.Context, id int64) error {
	return d.inTx(ctx, func(tx *sql.Tx) error {
		var role Role
		if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE id = ?`, id).Scan(&role); err != nil {
			return notFound(err, "user")
		}
		if role == RoleAdmin {
			var admins int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin'`).Scan(&admins); err != nil {
				return err
			}
			if admins == 1 {
				return fmt.Errorf("the last admin cannot be removed: %w", ErrInvalid)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete user %d: %w", id, err)
		}
		return nil
	})
}

type scanner interface{ Scan(...any) error }

func (d *DB) scanUser(s scanner) (*User, error) {
	var u User
	var created int64
	if err := s.Scan(&u.ID, &u.Email, &u.Role, &created); err != nil {
		return nil, notFound(err, "user")
	}
	u.CreatedAt = fromMS(created)
	return &u, nil
}

func normalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || len(email) > 254 {
		return "", fmt.Errorf("email %q: not a plain address such as ana@example.com: %w", email, ErrInvalid)
	}
	return email, nil
}
