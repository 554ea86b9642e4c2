// Package static holds the portal's CSS and scripts, embedded in the binary
// and served under a content-hashed prefix so they can be cached forever.
package static

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
)

//go:embed css js vendor
var files embed.FS

// FS is the embedded files.
var FS fs.FS = files

// Version changes whenever any file changes: URLs carry it, so browsers
// never keep a stale asset.
var Version = func() string {
	h := sha256.New()
	fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := files.ReadFile(p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}()

// Prefix is where web mounts the files.
var Prefix = "/static/" + Version + "/"
