package main

import (
	"bufio"
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/edgehls/edge/db"
)

// openDB opens the database below the data dir given by --data-dir or
// EDGE_DATA_DIR, as `edge serve` would.
func openDB(ctx context.Context, dataDir string) (*db.DB, error) {
	// `edge user add` may well come before the first `edge serve`.
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("EDGE_DATA_DIR: %w", err)
	}
	d, err := db.Open(ctx, filepath.Join(dataDir, "edge.db"))
	if err != nil {
		return nil, fmt.Errorf("EDGE_DATA_DIR: %w", err)
	}
	return d, nil
}

// dataDirFlag is serve's --data-dir for the other commands.
func dataDirFlag(fs *flag.FlagSet, getenv func(string) string) *string {
	return fs.String("data-dir", cmp.Or(getenv("EDGE_DATA_DIR"), defaultDataDir), "folder holding edge.db [EDGE_DATA_DIR]")
}

// userAdd: edge user add --email E [--role admin|editor] [--password-stdin]
func userAdd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge user add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the account's email (required)")
	role := fs.String("role", "", "admin or editor (default: admin for the first account, else editor)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating one")
	dataDir := dataDirFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("user add: --email is required")
	}
	d, err := openDB(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer d.Close()
	if *role == "" {
		*role = string(db.RoleEditor)
		if n, err := d.CountUsers(ctx); err == nil && n == 0 {
			*role = string(db.RoleAdmin)
		}
	}
	password, generated, err := newPassword(*fromStdin, stdin)
	if err != nil {
		return fmt.Errorf("user add: %w", err)
	}
	u, err := d.CreateUser(ctx, *email, password, db.Role(*role))
	if err != nil {
		return fmt.Errorf("user add: %s", db.Reason(err))
	}
	fmt.Fprintf(stdout, "created %s %s\n", u.Role, u.Email)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown once: store it now)\n", password)
	}
	return nil
}

// tokenCreate: edge token create --email E [--name N]; only the token goes
// to stdout, so scripts can capture it.
func tokenCreate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the account the token acts as (required)")
	name := fs.String("name", "cli", "a name to recognise the token by")
	dataDir := dataDirFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("token create: --email is required")
	}
	d, err := openDB(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.UserByEmail(ctx, *email)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("token create: no account %s (add one with `edge user add`)", *email)
	} else if err != nil {
		return err
	}
	secret, _, err := d.CreateAPIToken(ctx, u.ID, *name)
	if err != nil {
		return fmt.Errorf("token create: %w", err)
	}
	fmt.Fprintln(stdout, secret)
	return nil
}

// generatePassword returns 26 base32 characters (130 random bits).
func generatePassword() string { return rand.Text() }

// newPassword is the first line of stdin, or a generated password.
func newPassword(fromStdin bool, stdin io.Reader) (password string, generated bool, err error) {
	if !fromStdin {
		return generatePassword(), true, nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", false, errors.New("no password on standard input")
	}
	return strings.TrimRight(line, "\r\n"), false, nil
}

// userUnlock: edge user unlock --email E. It forgets the account's failed
// sign-ins from every address, so a running edge lets it in at once.
func userUnlock(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge user unlock", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the account's email (required)")
	dataDir := dataDirFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("user unlock: --email is required")
	}
	d, err := openDB(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := d.UserByEmail(ctx, *email); err != nil {
		return fmt.Errorf("user unlock: %s", db.Reason(err))
	}
	n, err := d.UnlockAccount(ctx, *email)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "unlocked %s (%d failed sign-ins forgotten)\n", strings.ToLower(strings.TrimSpace(*email)), n)
	return nil
}

// userPasswd: edge user passwd --email E [--password-stdin]. It sets a new
// password (generated and printed once, unless read from stdin) and signs
// the account out of every session; a running edge sees it at once.
func userPasswd(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("edge user passwd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "the account's email (required)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from standard input instead of generating one")
	dataDir := dataDirFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("user passwd: --email is required")
	}
	d, err := openDB(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer d.Close()
	u, err := d.UserByEmail(ctx, *email)
	if errors.Is(err, db.ErrNotFound) {
		return fmt.Errorf("user passwd: no account %s (add one with `edge user add`)", *email)
	} else if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	password, generated, err := newPassword(*fromStdin, stdin)
	if err != nil {
		return fmt.Errorf("user passwd: %w", err)
	}
	if err := d.SetPassword(ctx, u.ID, password, ""); err != nil {
		return fmt.Errorf("user passwd: %s", db.Reason(err))
	}
	fmt.Fprintf(stdout, "new password set for %s; its sessions are signed out\n", u.Email)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown once: store it now)\n", password)
	}
	return nil
}
