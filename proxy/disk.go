package proxy

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	"github.com/maypok86/otter/v2"
)

// diskTier keeps whole immutable objects (segments) as files, bounded by
// bytes. Which objects stay is otter's W-TinyLFU: a newcomer is admitted
// only over a victim that is used less often, so one viewer scrubbing
// through a long video cannot flush what everyone else watches, where a
// plain LRU would. Hits are sent from the file, by sendfile.
//
// An object is a body file and a .meta file beside it, both named after
// the key's hash and a version, written in tmp/ and renamed into place
// whole, body first: at start-up, a meta whose body is missing or of the
// wrong size (a crash, a full disk) is discarded and the rest re-indexed,
// so a restart stays warm and never serves a partial object.
type diskTier struct {
	dir     string
	index   *otter.Cache[string, *diskObject]
	version atomic.Uint64
	log     *slog.Logger
}

// diskObject is one cached object; its fields are its .meta file.
type diskObject struct {
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"last_modified"`
	Fetched      time.Time `json:"fetched"`
	body         string    // path of the body file; its meta is body + ".meta"
}

func (o *diskObject) remove() {
	os.Remove(o.body + ".meta")
	os.Remove(o.body)
}

func openDiskTier(dir string, maxBytes int64, log *slog.Logger) (*diskTier, error) {
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("cache folder: %w", err)
	}
	d := &diskTier{dir: dir, log: log}
	d.version.Store(uint64(time.Now().UnixNano()))
	var err error
	d.index, err = otter.New(&otter.Options[string, *diskObject]{
		MaximumWeight: uint64(maxBytes),
		Weigher: func(_ string, o *diskObject) uint32 {
			return uint32(min(o.Size+512, math.MaxUint32)) // a file costs a block or so besides its bytes
		},
		OnDeletion: func(e otter.DeletionEvent[string, *diskObject]) { e.Value.remove() },
		// Deletion on the caller's goroutine: the files are gone when the
		// call that evicted or purged them returns. It only unlinks files.
		Executor: func(task func()) { task() },
	})
	if err != nil {
		return nil, fmt.Errorf("cache index: %w", err)
	}
	return d, d.load()
}

// load empties tmp/ and indexes every whole object, newest version of a
// key first.
func (d *diskTier) load() error {
	tmp := filepath.Join(d.dir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("cache folder: %w", err)
	}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("cache folder: %w", err)
	}
	found := map[string]*diskObject{}
	err := filepath.WalkDir(d.dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		if strings.HasSuffix(path, ".meta") {
			d.consider(path, found)
		} else if _, err := os.Stat(path + ".meta"); err != nil {
			os.Remove(path) // a body whose meta never landed
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cache folder: %w", err)
	}
	for _, o := range found {
		d.index.Set(o.Key, o)
	}
	d.index.CleanUp()
	if len(found) > 0 {
		d.log.Info("disk cache re-indexed", "objects", len(found), "bytes", d.index.WeightedSize())
	}
	return nil
}

// consider keeps a meta's object if it is whole and the newest of its key.
func (d *diskTier) consider(metaPath string, found map[string]*diskObject) {
	o, err := readMeta(metaPath)
	if err == nil && !strings.HasPrefix(filepath.Base(o.body), keyHash(o.Key)+".") {
		err = errors.New("the file's name is not its key's")
	}
	if err != nil {
		d.log.Warn("disk cache: discarding an unreadable object", "file", metaPath, "err", err)
		os.Remove(metaPath)
		os.Remove(strings.TrimSuffix(metaPath, ".meta"))
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

func readMeta(metaPath string) (*diskObject, error) {
	b, err := os.ReadFile(metaPath)
	if err != nil {
		return nil, err
	}
	o := &diskObject{body: strings.TrimSuffix(metaPath, ".meta")}
	if err := json.Unmarshal(b, o); err != nil {
		return nil, err
	}
	info, err := os.Stat(o.body)
	if err != nil {
		return nil, err
	}
	if info.Size() != o.Size || o.Key == "" {
		return nil, fmt.Errorf("torn object: %d bytes on disk, %d recorded", info.Size(), o.Size)
	}
	return o, nil
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

// tempFile is where a fill writes before the object is whole.
func (d *diskTier) tempFile() (*os.File, error) {
	return os.CreateTemp(filepath.Join(d.dir, "tmp"), "fill-")
}

// commit moves a whole object from its temporary file into the tier.
func (d *diskTier) commit(tmp string, o *diskObject) error {
	o.body = d.bodyPath(o.Key, d.version.Add(1))
	meta, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.body), 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, o.body); err != nil {
		return err
	}
	metaTmp := tmp + ".meta"
	if err := os.WriteFile(metaTmp, meta, 0o644); err != nil {
		os.Remove(o.body)
		return err
	}
	if err := os.Rename(metaTmp, o.body+".meta"); err != nil {
		os.Remove(metaTmp)
		os.Remove(o.body)
		return err
	}
	d.index.Set(o.Key, o)
	d.index.CleanUp() // evict now, so the folder stays within its bound
	return nil
}

// open returns an object and its body, or nil when the tier lacks it.
func (d *diskTier) open(key string) (*diskObject, *os.File) {
	o, ok := d.index.GetIfPresent(key)
	if !ok {
		return nil, nil
	}
	f, err := os.Open(o.body)
	if errors.Is(err, fs.ErrNotExist) { // evicted between the lookup and the open
		return nil, nil
	} else if err != nil {
		d.log.Warn("disk cache: open", "key", key, "err", err)
		return nil, nil
	}
	return o, f
}

// removePrefix forgets (and deletes) every object whose key starts so.
func (d *diskTier) removePrefix(prefix string) int {
	n := 0
	for key := range d.index.Keys() {
		if strings.HasPrefix(key, prefix) {
			if _, ok := d.index.Invalidate(key); ok {
				n++
			}
		}
	}
	return n
}

func (d *diskTier) bytes() int64   { return int64(d.index.WeightedSize()) }
func (d *diskTier) objects() int64 { return int64(d.index.EstimatedSize()) }
