// Package proxytest builds a proxy for tests of the packages that mount
// it, with its disk tier in the test's temp dir.
package proxytest

import (
	"io"
	"log/slog"
	"testing"

	"github.com/edgehls/edge/proxy"
)

// New builds a proxy; an empty CacheDir becomes a temp dir of the test.
func New(t testing.TB, cfg proxy.Config) *proxy.Proxy {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = t.TempDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
