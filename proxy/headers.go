package proxy

import (
	"strconv"
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
