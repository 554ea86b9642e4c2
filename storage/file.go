package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"
	"time"
)

// FileStore keeps objects as files below a folder. os.Root confines every
// access to that folder, symlinks included.
type FileStore struct {
	dir     string
	root    *os.Root
	folders sync.RWMutex // Puts making folders, against Deletes removing emptied ones
}

// NewFileStore opens (creating if needed) the folder dir as a store.
func NewFileStore(dir string) (*FileStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create storage folder %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open storage folder %s: %w", dir, err)
	}
	return &FileStore{dir: dir, root: root}, nil
}

// Dir is the folder the store serves.
func (s *FileStore) Dir() string { return s.dir }

// Close releases the folder handle.
func (s *FileStore) Close() error { return s.root.Close() }

func (s *FileStore) Get(_ context.Context, key string, rng *Range) (*Object, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	f, err := s.root.Open(key)
	if err != nil {
		return nil, s.wrap(key, err)
	}
	st, err := f.Stat()
	if err == nil && st.IsDir() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, s.wrap(key, err)
	}
	obj := &Object{Info: fileInfo(key, st), Body: f}
	if rng == nil {
		return obj, nil
	}
	cr, err := resolveRange(*rng, st.Size())
	if err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(cr.Start, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("seek %s: %w", key, err)
	}
	obj.Partial = &cr
	obj.Body = readCloser{io.LimitReader(f, cr.End-cr.Start+1), f}
	return obj, nil
}

func (s *FileStore) Head(_ context.Context, key string) (Info, error) {
	if err := checkKey(key); err != nil {
		return Info{}, err
	}
	st, err := s.root.Stat(key)
	if err == nil && st.IsDir() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return Info{}, s.wrap(key, err)
	}
	return fileInfo(key, st), nil
}

// Put writes to a temporary file and renames it, so readers never see a
// half-written object.
func (s *FileStore) Put(_ context.Context, key string, body io.Reader, _ int64) error {
	if err := checkKey(key); err != nil {
		return err
	}
	f, tmp, err := s.createTemp(key)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = s.root.Rename(tmp, key)
	}
	if err != nil {
		s.root.Remove(tmp)
		s.removeEmptyFolders(path.Dir(key)) // a failed write leaves no folder either
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// createTemp creates the temporary file key is written to, and its folder,
// while no Delete removes emptied folders: one could take the folder away
// between the two steps.
func (s *FileStore) createTemp(key string) (*os.File, string, error) {
	s.folders.RLock()
	defer s.folders.RUnlock()
	tmp := key + ".tmp-" + randomSuffix()
	if dir := path.Dir(key); dir != "." {
		if err := s.root.MkdirAll(dir, 0o755); err != nil {
			return nil, "", fmt.Errorf("create folder for %s: %w", key, err)
		}
	}
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("create %s: %w", key, err)
	}
	return f, tmp, nil
}

func (s *FileStore) List(_ context.Context, prefix string) ([]Info, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}
	start := "."
	if i := strings.LastIndex(prefix, "/"); i > 0 {
		start = prefix[:i]
	}
	var out []Info
	err := fs.WalkDir(s.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return fs.SkipDir
		}
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(p, prefix) || strings.Contains(path.Base(p), ".tmp-") {
			return nil
		}
		st, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, fileInfo(p, st))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	return out, nil
}

func (s *FileStore) Delete(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.root.Remove(key)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	s.removeEmptyFolders(path.Dir(key))
	return nil
}

// removeEmptyFolders removes dir and the folders above it that are left
// empty, as S3 has no folder once its last object goes: a deleted
// video's folders do not pile up. The first that is not empty stops it.
func (s *FileStore) removeEmptyFolders(dir string) {
	s.folders.Lock()
	defer s.folders.Unlock()
	for dir != "." && s.root.Remove(dir) == nil {
		dir = path.Dir(dir)
	}
}

func (s *FileStore) wrap(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || escapes(err) {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("open %s: %w", key, err)
}

// escapes reports os.Root's refusal to follow a link out of the folder: to
// a viewer that object does not exist (it is not an origin failure). The
// os package keeps that error unexported, so it is known by its text.
func escapes(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Err.Error() == "path escapes from parent"
}

// fileInfo uses nginx's ETag shape (mtime-size), so two edges serving the
// same folder agree.
func fileInfo(key string, st fs.FileInfo) Info {
	return Info{
		Key:          key,
		Size:         st.Size(),
		ETag:         fmt.Sprintf(`"%x-%x"`, st.ModTime().Unix(), st.Size()),
		LastModified: st.ModTime().UTC(),
	}
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type readCloser struct {
	io.Reader
	io.Closer
}

// RemoveTemporaries deletes the temporary files of writes that never
// finished (edge killed mid-copy, a full disk) last modified before
// before: List hides them, so nothing else would ever find them.
func (s *FileStore) RemoveTemporaries(before time.Time) (int, error) {
	removed := 0
	err := fs.WalkDir(s.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(path.Base(p), ".tmp-") {
			return err
		}
		if st, err := d.Info(); err == nil && st.ModTime().Before(before) && s.root.Remove(p) == nil {
			removed++
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("remove temporaries: %w", err)
	}
	return removed, nil
}
