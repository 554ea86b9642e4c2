package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edgehls/edge/playback"
)

// edge key create prints the private part once and publishes the public
// part where the proxies read it; revoke takes it out again.
func TestKeyCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	doc := filepath.Join(dir, "media", filepath.FromSlash(playback.DocumentKey))
	keyCmd := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, append(append([]string{"key"}, args...), "--data-dir", dir), env(nil), nil, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	if _, err := keyCmd("create"); err == nil || !strings.Contains(err.Error(), "--name is required") {
		t.Fatalf("create without a name: %v", err)
	}
	out, err := keyCmd("create", "--name", "course site")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`key id \(the JWT kid\): ([a-z0-9]+)\n\n(-----BEGIN PRIVATE KEY-----\n(?s:.+?)-----END PRIVATE KEY-----\n)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("create printed:\n%s", out)
	}
	if _, err := playback.ParsePrivateKey(m[2]); err != nil {
		t.Fatalf("the printed key: %v", err)
	}
	published, err := os.ReadFile(doc)
	if err != nil || !strings.Contains(string(published), `"`+m[1]+`"`) {
		t.Fatalf("the key is not in the document: %v\n%s", err, published)
	}
	if out, err := keyCmd("list"); err != nil || !strings.Contains(out, m[1]) || !strings.Contains(out, "course site") || !strings.Contains(out, "in force") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	if out, err := keyCmd("revoke", "--id", m[1]); err != nil || !strings.Contains(out, "revoked "+m[1]) {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	if published, _ := os.ReadFile(doc); strings.Contains(string(published), m[1]) {
		t.Fatalf("a revoked key is still published:\n%s", published)
	}
	if _, err := keyCmd("revoke", "--id", "nosuchkey"); err == nil {
		t.Fatal("revoked a key that does not exist")
	}
	if _, err := keyCmd("frobnicate"); err == nil || !strings.Contains(err.Error(), `unknown command "key frobnicate"`) {
		t.Fatalf("unknown subcommand: %v", err)
	}
}
