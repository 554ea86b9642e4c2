// Package storage hides where blobs live (a local folder, an S3 bucket or a
// read-only HTTP origin such as CloudFront) behind one small interface.
package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrNotFound means the store answered and the object does not exist.
// Anything else returned by a Store is an origin failure.
var ErrNotFound = errors.New("object not found")

// ErrReadOnly is returned by writes to a store that only serves reads.
var ErrReadOnly = errors.New("store is read-only")

// Info describes an object without its body.
type Info struct {
	Key          string
	Size         int64 // -1 when the origin did not say
	ETag         string
	LastModified time.Time
	ContentType  string
}

// Range asks for bytes [Start, End] inclusive; End < 0 means "to the end".
type Range struct {
	Start, End int64
}

// Header renders the range as an HTTP Range header value.
func (r Range) Header() string {
	if r.End < 0 {
		return fmt.Sprintf("bytes=%d-", r.Start)
	}
	return fmt.Sprintf("bytes=%d-%d", r.Start, r.End)
}

// Object is an open object body. For a ranged read, Info.Size is the size of
// the whole object and Partial describes the bytes in Body.
type Object struct {
	Info
	Body    io.ReadCloser
	Partial *ContentRange
}

// ContentRange is what a ranged read returned: bytes [Start, End] of Total.
type ContentRange struct {
	Start, End, Total int64
}

// Store is implemented by every backend. Keys use forward slashes and never
// start with one.
type Store interface {
	// Get opens the object, or the byte range of it when rng is not nil.
	Get(ctx context.Context, key string, rng *Range) (*Object, error)
	Head(ctx context.Context, key string) (Info, error)
	// Put writes the object; size is -1 when unknown.
	Put(ctx context.Context, key string, body io.Reader, size int64) error
	// List returns every object whose key starts with prefix.
	List(ctx context.Context, prefix string) ([]Info, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}
