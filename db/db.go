// Package db keeps edge's state in one SQLite file (modernc.org/sqlite, no
// cgo): users, sessions, API tokens, streams and jobs, one file per entity.
package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strings"
	"time"

	_ "modernc.org/sqlite"
)

// Typed errors that callers map to HTTP statuses.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrInvalid  = errors.New("invalid")
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the application's database.
type DB struct {
	sql *sql.DB
	now func() time.Time
}

// Open opens (creating if needed) the database file and applies pending
// migrations. WAL lets the portal read while a job writes; the busy timeout
// makes concurrent writers wait instead of failing.
func Open(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(5000)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	d := &DB{sql: sqldb, now: time.Now}
	if err := d.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	return d, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.sql.Close() }

// SetClock replaces the time source, for tests.
func (d *DB) SetClock(now func() time.Time) { d.now = now }

// migrate applies each embedded migration not yet recorded, in name order,
// each in its own transaction.
func (d *DB) migrate(ctx context.Context) error {
	if _, err := d.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if err := d.apply(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (d *DB) apply(ctx context.Context, name string) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM migrations WHERE name = ?`, name).Scan(&n); err != nil || n > 0 {
		return err
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, name, d.now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

// inTx runs fn in one transaction (immediate: it holds the write lock from
// the start), committed if fn returns nil.
func (d *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// nowMS is the time as stored: UTC, to the millisecond, so what Create
// returns equals what a later read returns.
func (d *DB) nowMS() time.Time { return d.now().UTC().Truncate(time.Millisecond) }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// conflict turns SQLite's unique-constraint failure into ErrConflict.
func conflict(err error, what string) error {
	if err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return fmt.Errorf("%s: %w", what, ErrConflict)
	}
	return err
}

// Reason is an ErrInvalid error's message for the user, without the
// sentinel's own word: "title: 1 to 200 characters", not "…: invalid".
func Reason(err error) string {
	return strings.TrimSuffix(err.Error(), ": "+ErrInvalid.Error())
}

// notFound turns sql.ErrNoRows into ErrNotFound.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return err
}
