package proxy

import (
	"errors"
	"fmt"
	"os"
)

// A fill's temporary file is made while the leader asks the origin, not
// before: making a file took 107 µs at the median and 239 at p90 under a
// stream of misses (the journal busy with their writes), as long as the
// origin's own first byte, and under the fills lock it made every miss
// wait for every other's.

// errCacheFile is a disk tier that cannot take a fill's file (full,
// read-only): the viewers are served from the origin without it.
var errCacheFile = errors.New("cache file")

// opened is a viewer's own descriptor on a fill's file (each viewer reads
// at its own offset, so sendfile can send from it).
type opened struct {
	file *os.File
	err  error
}

// createFile makes the fill's temporary file and opens it for the viewers
// who joined meanwhile, before anything can move or remove it: the fill
// writes nothing until the file exists.
func (p *Proxy) createFile(f *fill) {
	file, err := p.disk.tempFile()
	f.mu.Lock()
	if err != nil {
		f.fileErr = fmt.Errorf("%w: %w", errCacheFile, err)
	} else {
		f.file = file
	}
	for _, c := range f.waiting {
		file, err := f.openLocked()
		c <- opened{file, err}
	}
	f.waiting = nil
	f.mu.Unlock()
	close(f.created)
}

// reader is a joining viewer's descriptor on the fill's file, or, while
// the file is being made, a channel that will deliver it. The caller holds
// fillsMu with the fill registered, so the file is where it was made.
func (f *fill) reader() (*os.File, chan opened, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.file == nil && f.fileErr == nil {
		c := make(chan opened, 1)
		f.waiting = append(f.waiting, c)
		return nil, c, nil
	}
	file, err := f.openLocked()
	return file, nil, err
}

func (f *fill) openLocked() (*os.File, error) {
	if f.fileErr != nil {
		return nil, f.fileErr
	}
	file, err := openFile(f.file.Name(), os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCacheFile, err)
	}
	return file, nil
}
