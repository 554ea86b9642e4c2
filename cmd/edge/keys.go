package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/edgehls/edge/db"
	"github.com/edgehls/edge/jobs"
)

// keyCommand: edge key create --name N | edge key list | edge key revoke --id KID.
// A change is published to the storage the proxies read, as the portal does.
func keyCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("edge key "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "who signs with the key, e.g. \"course site\" (create)")
	id := fs.String("id", "", "the key id to revoke (revoke)")
	dataDir := dataDirFlag(fs, getenv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	m, closeAll, err := keyManager(ctx, *dataDir, getenv, stderr)
	if err != nil {
		return err
	}
	defer closeAll()
	switch sub {
	case "create":
		return keyCreate(ctx, m, *name, stdout)
	case "list":
		return keyList(ctx, m.DB, stdout)
	case "revoke":
		if *id == "" {
			return errors.New("key revoke: --id is required")
		}
		if err := m.RevokeSigningKey(ctx, *id); err != nil {
			return fmt.Errorf("key revoke: %s", db.Reason(err))
		}
		fmt.Fprintf(stdout, "revoked %s: its tokens stop opening videos within one playlist TTL\n", *id)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", "key "+sub)
}

// keyManager opens the database and the storage as serve would.
func keyManager(ctx context.Context, dataDir string, getenv func(string) string, stderr io.Writer) (*jobs.Manager, func(), error) {
	cfg, err := parseConfig([]string{"--data-dir", dataDir}, getenv, stderr)
	if err != nil {
		return nil, nil, err
	}
	store, _, _, err := openStores(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	d, err := openDB(ctx, cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &jobs.Manager{DB: d, Store: store, Log: log}, func() { d.Close() }, nil
}

func keyCreate(ctx context.Context, m *jobs.Manager, name string, stdout io.Writer) error {
	if name == "" {
		return errors.New("key create: --name is required")
	}
	k, _, err := m.CreateSigningKey(ctx, name, 0)
	if err != nil {
		return fmt.Errorf("key create: %s", db.Reason(err))
	}
	fmt.Fprintf(stdout, "key id (the JWT kid): %s\n\n%s\n(shown once: store the private key in your site's secrets now)\n", k.ID, k.PrivatePEM)
	return nil
}

func keyList(ctx context.Context, d *db.DB, stdout io.Writer) error {
	keys, err := d.SigningKeys(ctx)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tCREATED\tSTATE")
	for _, k := range keys {
		state := "in force"
		if !k.RevokedAt.IsZero() {
			state = "revoked " + k.RevokedAt.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", k.ID, k.Name, k.CreatedAt.Format("2006-01-02 15:04"), state)
	}
	return w.Flush()
}
