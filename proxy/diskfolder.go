package proxy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
)

// The disk tier deletes files in its folder: a body whose meta is
// missing, whatever is in tmp/ at start-up. Pointed by mistake at a
// folder holding something else (EDGE_CACHE_DIR set to the data folder,
// the media folder, a home), it deleted those files. So it takes a
// folder only when it is empty, marked as its own, or laid out as one of
// its own from before the mark; and it deletes only files named as its
// own, even in its own folder.

// cacheMark is the file that says a folder is a disk tier's.
const cacheMark = "EDGE-CACHE"

const cacheMarkText = "This folder is edge's disk cache (EDGE_CACHE_DIR). edge deletes and rewrites the files in it.\n"

var (
	hashFolder = regexp.MustCompile(`^[0-9a-f]{2}$`)
	objectFile = regexp.MustCompile(`^[0-9a-f]{64}\.[0-9]+(\.meta)?$`)
	fillFile   = regexp.MustCompile(`^fill-[0-9]+(\.meta)?$`)
)

// errForeignFolder is a cache folder holding what edge did not write.
var errForeignFolder = errors.New("the disk cache deletes files in its folder; give it an empty folder of its own")

// claimFolder makes dir the tier's folder, or says why it cannot be.
func claimFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cache folder: %w", err)
	}
	mark := filepath.Join(dir, cacheMark)
	if _, err := os.Stat(mark); err == nil {
		return nil
	}
	if foreign, err := firstForeign(dir); err != nil {
		return fmt.Errorf("cache folder %s: %w", dir, err)
	} else if foreign != "" {
		return fmt.Errorf("cache folder %s holds files edge did not write (%s): %w", dir, foreign, errForeignFolder)
	}
	if err := os.WriteFile(mark, []byte(cacheMarkText), 0o644); err != nil {
		return fmt.Errorf("cache folder: %w", err)
	}
	return nil
}

// firstForeign returns the first entry of an unmarked folder that is not
// the tier's own (its path from dir), or "" when there is none. A volume's
// lost+found at the top is not foreign.
func firstForeign(dir string) (string, error) {
	var foreign string
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !ownEntry(rel, e.IsDir()) {
			foreign = rel
			return fs.SkipAll
		}
		if e.IsDir() && rel == "lost+found" {
			return fs.SkipDir
		}
		return nil
	})
	return foreign, err
}

// ownEntry says whether a path in the folder (from its top) is one the
// tier makes, or lost+found.
func ownEntry(rel string, dir bool) bool {
	parent, name := filepath.Split(rel)
	switch parent = filepath.Clean(parent); {
	case rel == ".":
		return true
	case parent == ".":
		return dir && (hashFolder.MatchString(name) || name == "tmp" || name == "lost+found")
	case dir:
		return false
	case parent == "tmp":
		return fillFile.MatchString(name)
	default:
		return hashFolder.MatchString(parent) && objectFile.MatchString(name)
	}
}
