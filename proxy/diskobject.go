package proxy

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// An object's file is its body, then its meta (JSON), then a footer: the
// meta's length and a mark. One file, renamed into place whole, is the
// object: a crash leaves it either absent or whole, where a body and a
// meta file beside it needed two renames, a repair at start-up for the
// pair a crash split, and twice the files (nginx, too, keeps its header
// in the file it caches). A file cut short or never written back has no
// footer, or one that does not add up, and is discarded at start-up.

// diskObject is one cached object; its fields are its meta.
type diskObject struct {
	Key          string    `json:"key"`
	Size         int64     `json:"size"`
	ETag         string    `json:"etag"`
	LastModified time.Time `json:"last_modified"`
	Fetched      time.Time `json:"fetched"`
	body         string    // path of its file
}

// footerMark ends every object's file; the digit is the layout's version.
const footerMark = "edgeobj1"

const footerLen = 4 + len(footerMark)

// maxMeta bounds what a footer may say its meta takes: a key is at most
// 1 KiB (maxPathLen), so a larger figure is a damaged file, not one to
// read into memory.
const maxMeta = 64 << 10

// errNoFooter is a file without a footer: cut short, or of the layout
// before it (body and .meta).
var errNoFooter = errors.New("no footer")

// tail is what follows the body in the object's file.
func (o *diskObject) tail() ([]byte, error) {
	meta, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	b := binary.BigEndian.AppendUint32(meta, uint32(len(meta)))
	return append(b, footerMark...), nil
}

// readObject reads an object's meta from its file, checking that the
// file holds the whole of it.
func readObject(path string) (*diskObject, error) {
	f, err := openFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	footer := make([]byte, footerLen)
	if info.Size() < int64(footerLen) {
		return nil, errNoFooter
	}
	if _, err := f.ReadAt(footer, info.Size()-int64(footerLen)); err != nil {
		return nil, err
	}
	if !bytes.Equal(footer[4:], []byte(footerMark)) {
		return nil, errNoFooter
	}
	n := int64(binary.BigEndian.Uint32(footer))
	metaAt := info.Size() - int64(footerLen) - n
	if metaAt < 0 || n > maxMeta {
		return nil, fmt.Errorf("torn object: a %d-byte meta in a %d-byte file", n, info.Size())
	}
	meta := make([]byte, n)
	if _, err := f.ReadAt(meta, metaAt); err != nil {
		return nil, err
	}
	o := &diskObject{body: path}
	if err := json.Unmarshal(meta, o); err != nil {
		return nil, err
	}
	if o.Size != metaAt || o.Key == "" {
		return nil, fmt.Errorf("torn object: %d bytes of body on disk, %d recorded", metaAt, o.Size)
	}
	return o, nil
}

// adoptOldObject turns a body and its .meta file, the layout before the
// footer, into one file, so an upgrade keeps the cache warm.
// A body whose .meta is gone is as torn as a file without a footer.
func adoptOldObject(path string) (*diskObject, error) {
	b, err := os.ReadFile(path + oldMeta)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoFooter
	} else if err != nil {
		return nil, err
	}
	o := &diskObject{body: path}
	if err := json.Unmarshal(b, o); err != nil {
		return nil, err
	}
	f, err := openFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil {
		return nil, err
	} else if info.Size() != o.Size || o.Key == "" {
		return nil, fmt.Errorf("torn object: %d bytes on disk, %d recorded", info.Size(), o.Size)
	}
	tail, err := o.tail()
	if err == nil {
		_, err = f.WriteAt(tail, o.Size)
	}
	if err != nil {
		f.Truncate(o.Size)
		return nil, err
	}
	os.Remove(path + oldMeta)
	return o, nil
}

// bodyFile is an object's file seen as its body alone, for
// http.ServeContent, which learns a body's size by seeking to its end.
// viewerWriter sends it by sendfile as the file it is.
type bodyFile struct {
	*os.File
	size int64
}

func (b bodyFile) Seek(offset int64, whence int) (int64, error) {
	if whence == io.SeekEnd {
		offset, whence = b.size+offset, io.SeekStart
	}
	return b.File.Seek(offset, whence)
}

// oldMeta ends the name of a meta file of the layout before the footer.
const oldMeta = ".meta"
