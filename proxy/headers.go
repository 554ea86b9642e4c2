package proxy

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Header values are built once and shared: net/http only reads them, and
// the hot path then allocates nothing of its own.

// ageValues covers the first hour; older ages (long-cached segments) are
// formatted per request.
var ageValues = func() [][]string {
	v := make([][]string, 3600)
	for i := range v {
		v[i] = []string{strconv.Itoa(i)}
	}
	return v
}()

func ageValue(age time.Duration) []string {
	s := int(max(0, age/time.Second))
	if s < len(ageValues) {
		return ageValues[s]
	}
	return []string{strconv.Itoa(s)}
}

// dateClock formats the Date header once per second instead of per request,
// as nginx does.
type dateClock struct {
	cur atomic.Pointer[dateValue]
}

type dateValue struct {
	unix  int64
	value []string
}

func (d *dateClock) value(now time.Time) []string {
	sec := now.Unix()
	if v := d.cur.Load(); v != nil && v.unix == sec {
		return v.value
	}
	v := &dateValue{unix: sec, value: []string{now.UTC().Format(http.TimeFormat)}}
	d.cur.Store(v)
	return v.value
}
