// Package browsertest drives a real headless Chromium (Debian's chromium
// package) from tests through chromedp, for the portal and the player.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// New starts a headless Chromium for the test and returns a context for
// chromedp actions; the browser stops when the test ends. A missing
// Chromium fails the test: `make test` installs it.
func New(t testing.TB) context.Context {
	t.Helper()
	exe := chromiumPath(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Env("TMPDIR="+scratchDir(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 800),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	// The first call starts the browser; it must not carry a timeout, which
	// would stop the browser with it.
	if err := chromedp.Do(browserCtx); err != nil {
		cancelBrowser()
		cancelAlloc()
		t.Fatalf("start chromium (%s): %v", exe, err)
	}
	ctx, cancelTimeout := context.WithTimeout(browserCtx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	return ctx
}

// Screenshot saves a full-page PNG under the test's temp dir and returns
// its path, so a person can look at what the test saw.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100) /* 100: PNG; below it is JPEG */)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("EDGE_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// scratchDir is Chromium's TMPDIR: its singleton socket's folder, which a
// killed browser leaves behind, goes with the test instead of piling up in
// /tmp. Not t.TempDir(): a socket path must fit in 108 bytes, and the
// test's name is in that one.
func scratchDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "chromium")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func chromiumPath(t testing.TB) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: run `make test-deps` (apt-get install chromium)")
	return ""
}
