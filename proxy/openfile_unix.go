//go:build unix

package proxy

import (
	"errors"
	"os"
	"syscall"
)

// openFile opens a cache file as os.OpenFile does, but outside the
// runtime's network poller. os.OpenFile offers every descriptor to the
// poller, and on Linux a regular file costs four fcntl calls and an
// epoll_ctl that fails: five of the fifteen system calls a disk hit made
// apart from the scheduler's (strace -c). A regular file is never
// pollable, and os.NewFile on a descriptor opened blocking leaves it out
// (one fcntl). Reads, writes and sendfile work on it as on any file.
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, flag|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
