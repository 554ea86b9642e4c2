package db

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Failed sign-ins count against three keys: an account from one address,
// an address, an account. UnlockAccount finds an account's keys by them.
func AccountAddressKey(email, addr string) string { return accountAddressPrefix(email) + addr }
func AddressKey(addr string) string               { return "ip:" + addr }
func AccountKey(email string) string              { return "acct:" + email }

func accountAddressPrefix(email string) string { return "acct-ip:" + email + " " }

// CountSignInFailures says how many failures key has had since since, and
// when the oldest of them was.
func (d *DB) CountSignInFailures(ctx context.Context, key string, since time.Time) (int, time.Time, error) {
	var n int
	var oldest int64
	err := d.sql.QueryRowContext(ctx, `SELECT count(*), coalesce(min(at), 0) FROM sign_in_failures WHERE key = ? AND at > ?`,
		key, ms(since)).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("count sign-in failures: %w", err)
	}
	return n, fromMS(oldest), nil
}

// AddSignInFailure counts one failure against key and returns its id.
func (d *DB) AddSignInFailure(ctx context.Context, key string) (int64, error) {
	res, err := d.sql.ExecContext(ctx, `INSERT INTO sign_in_failures (key, at) VALUES (?, ?)`, key, ms(d.now()))
	if err != nil {
		return 0, fmt.Errorf("record sign-in failure: %w", err)
	}
	return res.LastInsertId()
}

// RemoveSignInFailures forgets failures by id, and every failure of keys.
func (d *DB) RemoveSignInFailures(ctx context.Context, ids []int64, keys ...string) error {
	for _, id := range ids {
		if _, err := d.sql.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE id = ?`, id); err != nil {
			return fmt.Errorf("forget sign-in failure: %w", err)
		}
	}
	for _, key := range keys {
		if _, err := d.sql.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE key = ?`, key); err != nil {
			return fmt.Errorf("forget sign-in failures: %w", err)
		}
	}
	return nil
}

// UnlockAccount forgets every failure counted against an account, from
// any address; it returns how many there were.
func (d *DB) UnlockAccount(ctx context.Context, email string) (int64, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	prefix := accountAddressPrefix(email)
	res, err := d.sql.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE key = ? OR substr(key, 1, ?) = ?`,
		AccountKey(email), len(prefix), prefix)
	if err != nil {
		return 0, fmt.Errorf("unlock %s: %w", email, err)
	}
	return res.RowsAffected()
}

// DeleteOldSignInFailures drops failures from before a time.
func (d *DB) DeleteOldSignInFailures(ctx context.Context, before time.Time) error {
	if _, err := d.sql.ExecContext(ctx, `DELETE FROM sign_in_failures WHERE at < ?`, ms(before)); err != nil {
		return fmt.Errorf("delete old sign-in failures: %w", err)
	}
	return nil
}
