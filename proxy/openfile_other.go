//go:build !unix

package proxy

import "os"

// openFile is os.OpenFile where no poller needs avoiding (openfile_unix.go).
func openFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag, perm)
}
