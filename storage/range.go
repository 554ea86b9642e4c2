package storage

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrRangeNotSatisfiable means the range starts past the end of the object.
var ErrRangeNotSatisfiable = errors.New("range not satisfiable")

// resolveRange clamps r to an object of the given size.
func resolveRange(r Range, size int64) (ContentRange, error) {
	if r.Start < 0 || r.Start >= size || (r.End >= 0 && r.End < r.Start) {
		return ContentRange{}, fmt.Errorf("%w: %s of %d bytes", ErrRangeNotSatisfiable, r.Header(), size)
	}
	end := r.End
	if end < 0 || end >= size {
		end = size - 1
	}
	return ContentRange{Start: r.Start, End: end, Total: size}, nil
}

// parseContentRange reads "bytes START-END/TOTAL" as sent by S3 and HTTP
// origins. TOTAL may be "*", which yields -1.
func parseContentRange(v string) (*ContentRange, error) {
	rest, ok := strings.CutPrefix(v, "bytes ")
	span, total, ok2 := strings.Cut(rest, "/")
	from, to, ok3 := strings.Cut(span, "-")
	if !ok || !ok2 || !ok3 {
		return nil, fmt.Errorf("bad Content-Range %q", v)
	}
	cr := &ContentRange{Total: -1}
	var err1, err2, err3 error
	cr.Start, err1 = strconv.ParseInt(from, 10, 64)
	cr.End, err2 = strconv.ParseInt(to, 10, 64)
	if total != "*" {
		cr.Total, err3 = strconv.ParseInt(total, 10, 64)
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("bad Content-Range %q: %w", v, err)
	}
	return cr, nil
}
