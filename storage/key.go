package storage

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidKey is returned for keys that could escape the store's root.
var ErrInvalidKey = errors.New("invalid key")

// checkKey refuses keys that could name something outside the store's root
// or prefix. Callers (the proxy) validate URLs more strictly; this is the
// last line of defence for every backend.
func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("%w %q", ErrInvalidKey, key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == ".." || seg == "." {
			return fmt.Errorf("%w %q", ErrInvalidKey, key)
		}
	}
	return nil
}

// checkPrefix is checkKey for list prefixes, which may be empty or end in "/".
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return checkKey(strings.TrimSuffix(prefix, "/") + "/x")
}
