package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// diskTier keeps whole immutable objects (segments) as files, bounded by
// bytes. Which objects stay is a segmented LRU (slru.go): one viewer
// scrubbing through a long video cannot flush what everyone else watches,
// where a plain LRU would; and the segments just after one being asked
// for are the last to go (readahead.go). Hits are sent from the file, by
// sendfile.
//
// An object is one file, named after the key's hash and a version,
// holding its body and then its meta (diskobject.go), written in tmp/ and
// renamed into place whole: at start-up every whole object is re-indexed
// and the rest discarded, so a restart stays warm and never serves a
// partial object.
type diskTier struct {
	dir      string
	index    *slru
	version  atomic.Uint64
	log      *slog.Logger
	ceiling  int64            // the bound it began with; a full volume lowers it for a while (volume.go)
	regrowAt atomic.Int64     // unix ns when a lowered bound looks for room again; 0: not lowered
	now      func() time.Time // the proxy's clock
}

func (o *diskObject) remove() { os.Remove(o.body) }

// openDiskTier re-indexes dir, bounded by maxBytes, or, when that is 0,
// by what its volume has room for (volume.go).
func openDiskTier(dir string, maxBytes int64, log *slog.Logger) (*diskTier, error) {
	limit := maxBytes
	if maxBytes <= 0 {
		limit = math.MaxInt64 // until the volume is read, after the index is rebuilt
	}
	if err := claimFolder(dir); err != nil {
		return nil, err
	}
	// The files are deleted before the call that evicted or purged them returns.
	d := &diskTier{dir: dir, log: log, index: newSLRU(limit, (*diskObject).remove), now: time.Now}
	d.version.Store(uint64(time.Now().UnixNano()))
	if err := d.load(); err != nil {
		return nil, err
	}
	if maxBytes <= 0 {
		d.boundByVolume()
	}
	d.ceiling = d.bound()
	return d, nil
}

// bound is the tier's byte bound.
func (d *diskTier) bound() int64 { return d.index.limit() }

// load empties tmp/ and indexes every whole object, newest version of a
// key first. It touches only files named as the tier's (diskfolder.go).
func (d *diskTier) load() error {
	if err := d.emptyTmp(); err != nil {
		return fmt.Errorf("cache folder: %w", err)
	}
	found := map[string]*diskObject{}
	err := filepath.WalkDir(d.dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(d.dir, path)
		switch {
		case e.IsDir() && rel != "." && !hashFolder.MatchString(rel):
			return fs.SkipDir // tmp/, lost+found
		case e.IsDir() || !ownEntry(rel, false): // the top, a hash folder, or a file not the tier's: left as it is
		case strings.HasSuffix(path, oldMeta):
			// Of the layout before the footer. Its body, walked first (the
			// walk is in lexical order), took it in (consider) or is gone.
			os.Remove(path)
		default:
			d.consider(path, found)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache folder: %w", err)
	}
	for _, o := range found {
		d.index.add(o.Key, o, 0)
	}
	if len(found) > 0 {
		bytes, _ := d.index.size()
		d.log.Info("disk cache re-indexed", "objects", len(found), "bytes", bytes)
	}
	return nil
}

// emptyTmp deletes the fills a stop cut short.
func (d *diskTier) emptyTmp() error {
	tmp := filepath.Join(d.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.IsDir() && fillFile.MatchString(e.Name()) {
			os.Remove(filepath.Join(tmp, e.Name()))
		}
	}
	return nil
}

// consider keeps an object if it is whole and the newest of its key.
func (d *diskTier) consider(path string, found map[string]*diskObject) {
	o, err := readObject(path)
	if errors.Is(err, errNoFooter) {
		o, err = adoptOldObject(path)
	}
	if err == nil && !strings.HasPrefix(filepath.Base(o.body), keyHash(o.Key)+".") {
		err = errors.New("the file's name is not its key's")
	}
	if err != nil {
		d.log.Warn("disk cache: discarding an unreadable object", "file", path, "err", err)
		os.Remove(path)
		os.Remove(path + oldMeta)
		return
	}
	if old := found[o.Key]; old != nil {
		if !o.Fetched.After(old.Fetched) {
			o.remove()
			return
		}
		old.remove()
	}
	found[o.Key] = o
}

// bodyPath is dir/<2 hex>/<64 hex>.<version>: the hash spreads objects
// over 256 folders, and the version keeps a replaced object's files apart
// from its successor's until they are deleted.
func (d *diskTier) bodyPath(key string, version uint64) string {
	h := keyHash(key)
	return filepath.Join(d.dir, h[:2], h+"."+strconv.FormatUint(version, 10))
}

func keyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// tempFile is where a fill writes before the object is whole; a volume
// too full to make it lowers the bound (writeFailed), as a failed write does.
// Its name takes the next version, unique in this process, and tmp/ is
// emptied at start-up, so a name already taken means a stray file.
func (d *diskTier) tempFile() (*os.File, error) {
	for {
		name := filepath.Join(d.dir, "tmp", "fill-"+strconv.FormatUint(d.version.Add(1), 10))
		f, err := openFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			d.writeFailed(err)
		}
		return f, err
	}
}

// prepare names a whole object's place in the tier and writes its meta
// after its body in the fill's file: the part of a commit that writes
// data, done before place, which runs under the proxy's fills lock.
func (d *diskTier) prepare(file *os.File, o *diskObject) error {
	d.regrow()
	o.body = d.bodyPath(o.Key, d.version.Add(1))
	tail, err := o.tail()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.body), 0o755); err != nil {
		return err
	}
	_, err = file.WriteAt(tail, o.Size)
	return err
}

// place moves a prepared object into the tier. The object takes the room
// its fill claimed.
func (d *diskTier) place(tmp string, o *diskObject, claimed int64) error {
	if err := os.Rename(tmp, o.body); err != nil {
		return err
	}
	d.index.add(o.Key, o, claimed)
	return nil
}

// expectNext keeps the segments after key as recently used: whoever asks
// for key asks for them next (readahead.go).
func (d *diskTier) expectNext(key string) {
	d.index.refresh(successors(key, readAhead))
}

// open returns an object and its body, or nil when the tier lacks it.
func (d *diskTier) open(key string) (*diskObject, *os.File) {
	o, ok := d.index.get(key)
	if !ok {
		return nil, nil
	}
	f, err := openFile(o.body, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) { // evicted between the lookup and the open
		return nil, nil
	} else if err != nil {
		d.log.Warn("disk cache: open", "key", key, "err", err)
		return nil, nil
	}
	return o, f
}

// removeWhere forgets (and deletes) every object whose key matches.
func (d *diskTier) removeWhere(match func(key string) bool) int {
	n := 0
	for _, key := range d.index.keys() {
		if match(key) && d.index.remove(key) {
			n++
		}
	}
	return n
}
