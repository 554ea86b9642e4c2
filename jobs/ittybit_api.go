package jobs

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/internal/apperr"
)

// Ittybit's HTTP API as edge calls it: retries, and every documented
// response and error shape.

// APIVersion pins the date-based API version edge was written against,
// sent as Accept-Version as Ittybit's versioning guide asks; without it a
// new default version could change shapes under a running edge.
const APIVersion = "2025-08-20"

// request calls the API, retrying 408, 429 (after Retry-After), 5xx and
// network failures with backoff; any other 4xx is final and its message is
// shown to the user.
func (it *Ittybit) request(ctx context.Context, method, p string, body []byte, idemKey string) (json.RawMessage, error) {
	backoff := time.Second
	attempts := cmp.Or(it.MaxAttempts, 6)
	for attempt := 1; ; attempt++ {
		status, header, data, err := it.once(ctx, method, p, body, idemKey)
		switch {
		case err == nil && status/100 == 2:
			return unwrapData(data), nil
		case err == nil && status != 408 && status != 429 && status < 500:
			if status == http.StatusUnauthorized || status == http.StatusForbidden {
				return nil, apperr.New(apperr.Invalid, "Ittybit refused edge's API key ("+strconv.Itoa(status)+"): "+apiMessage(data, status))
			}
			return nil, apperr.New(apperr.Invalid, "Ittybit refused the job: "+apiMessage(data, status))
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case attempt >= attempts:
			if err != nil {
				return nil, fmt.Errorf("ittybit %s %s: %w (after %d attempts)", method, p, err, attempt)
			}
			return nil, fmt.Errorf("ittybit %s %s: %d %s (after %d attempts)", method, p, status, apiMessage(data, status), attempt)
		}
		wait := backoff
		if ra := retryAfter(header); ra > 0 {
			wait = ra
		}
		it.Log.Warn("ittybit request will be retried", "method", method, "path", p, "status", status, "err", err, "wait", wait)
		if err := sleep(ctx, wait, nil); err != nil {
			return nil, err
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

func (it *Ittybit) once(ctx context.Context, method, p string, body []byte, idemKey string) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(cmp.Or(it.BaseURL, "https://api.ittybit.com"), "/")+p, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+it.APIKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Accept-Version", APIVersion)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if idemKey != "" {
		req.Header.Set("Idempotency-Key", idemKey)
	}
	client := it.Client
	if client == nil {
		client = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header, data, err
}

func parseJob(raw json.RawMessage) (ittybitJob, error) {
	var job ittybitJob
	if err := json.Unmarshal(raw, &job); err != nil || job.ID == "" {
		return job, fmt.Errorf("unexpected Ittybit job response: %.200s", raw)
	}
	return job, nil
}

// unwrapData accepts both a bare object and one wrapped as {"data": …}. It
// is an envelope only when "data" holds an object and the top level is not
// itself a resource (no "id"): a job with a field named data stays a job.
func unwrapData(body []byte) json.RawMessage {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return body
	}
	data, wrapped := top["data"]
	if _, resource := top["id"]; wrapped && !resource && len(data) > 0 && data[0] == '{' {
		return data
	}
	return body
}

// apiMessage reads {"kind","message"}, {"message"}, {"error":{"message"}}
// or {"error":"…"}; otherwise the status text.
func apiMessage(body []byte, status int) string {
	var e struct {
		Message string          `json:"message"`
		Error   json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		if e.Message != "" {
			return e.Message
		}
		if msg := errorText(e.Error); msg != "" {
			return msg
		}
	}
	return http.StatusText(status)
}

// errorText reads an error field that is a string, {"message": …} or null.
func errorText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
	}
	json.Unmarshal(raw, &obj)
	return obj.Message
}

// retryAfter reads seconds or an HTTP date, capped at a minute.
func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		return min(time.Duration(secs)*time.Second, time.Minute)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(0, time.Until(t)), time.Minute)
	}
	return 0
}
