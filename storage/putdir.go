package storage

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// PutFile writes a local file to key.
func PutFile(ctx context.Context, s Store, path, key string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := s.Put(ctx, key, f, st.Size()); err != nil {
		return fmt.Errorf("upload %s: %w", key, err)
	}
	return nil
}

// PutDir writes every file below dir to prefix + its relative path, the
// files named in last after all others: an HLS package's master.m3u8 goes
// last, so a reader never finds a master playlist whose renditions are not
// there yet.
func PutDir(ctx context.Context, s Store, dir, prefix string, last ...string) error {
	var first, final []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if slices.Contains(last, filepath.ToSlash(rel)) {
			final = append(final, rel)
		} else {
			first = append(first, rel)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, rel := range append(first, final...) {
		if err := PutFile(ctx, s, filepath.Join(dir, rel), prefix+filepath.ToSlash(rel)); err != nil {
			return err
		}
	}
	return nil
}
