//go:build !unix

package proxy

import "errors"

func freeBytes(string) (int64, error) {
	return 0, errors.New("free space is read on unix systems only")
}
