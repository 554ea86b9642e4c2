package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/edgehls/edge/internal/apperr"
	"github.com/edgehls/edge/internal/safehttp"
)

// downloader fetches a source from a URL a user gave, which is hostile:
// every connection goes through safehttp's guard. A body that breaks off is
// taken up with a Range request.
type downloader struct {
	client   *http.Client
	guard    *safehttp.Guard
	maxBytes int64
	stall    time.Duration // no byte for this long: the connection is dropped and taken up again
	attempts int           // connections for one download, the first included
}

const (
	maxRedirects     = 10
	downloadAttempts = 6
	downloadStall    = time.Minute
	exampleURL       = "https://host/path/video.mp4"
)

// newDownloader refuses special-purpose addresses except those in allow
// (EDGE_IMPORT_ALLOW: an intranet media server the operator trusts).
func newDownloader(allow []netip.Prefix, maxBytes int64) *downloader {
	guard := safehttp.New(allow)
	client := &http.Client{Transport: guard.Transport(), CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return refuseURL("more than %d redirects", maxRedirects)
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return refuseURL("it redirects to %s, edge fetches only http and https", req.URL.Scheme)
		}
		return nil
	}}
	return &downloader{client: client, guard: guard, maxBytes: maxBytes, stall: downloadStall, attempts: downloadAttempts}
}

var refuseURL = safehttp.Refuse

// checkURL is the up-front check of a URL: http(s), no credentials, and a
// host whose addresses (all of them) may be fetched from.
func (d *downloader) checkURL(ctx context.Context, raw string) (*url.URL, error) {
	return d.guard.CheckURL(ctx, raw, exampleURL)
}

// fetch downloads u into dst and returns the file's name as the server
// gave it. progress is told the bytes so far and the size (-1 unknown).
func (d *downloader) fetch(ctx context.Context, u *url.URL, dst *os.File, progress func(have, total int64)) (string, error) {
	var have, total int64 = 0, -1
	var validator, name string
	var lastErr error
	for attempt := 0; attempt < d.attempts; attempt++ {
		resp, err := d.get(ctx, u, have, validator)
		if err != nil {
			if ctx.Err() != nil || isRefusal(err) {
				return "", err
			}
			lastErr = err
			continue
		}
		start, err := d.resumeAt(resp, have)
		if err != nil {
			resp.Body.Close()
			return "", err
		}
		if start == 0 && have > 0 { // the server sent the whole again
			if err := dst.Truncate(0); err != nil {
				resp.Body.Close()
				return "", err
			}
		}
		have = start
		if _, err := dst.Seek(have, io.SeekStart); err != nil {
			resp.Body.Close()
			return "", err
		}
		total, validator, name = sizeOf(resp, have, total), validatorOf(resp), cmpName(name, resp)
		if total > d.maxBytes {
			resp.Body.Close()
			return "", refuseURL("the file is %d bytes, more than the upload limit of %d", total, d.maxBytes)
		}
		n, err := d.copyBody(ctx, dst, resp.Body, d.maxBytes-have, func(n int64) { progress(have+n, total) })
		resp.Body.Close()
		have += n
		if isRefusal(err) || ctx.Err() != nil {
			return "", cmp.Or(ctx.Err(), err)
		}
		if err == nil && (total < 0 || have == total) {
			return name, nil
		}
		lastErr = cmp.Or(err, fmt.Errorf("the body ended at %d of %d bytes", have, total))
	}
	return "", refuseURL("the download broke off %d times (%v)", d.attempts, lastErr)
}

func (d *downloader) get(ctx context.Context, u *url.URL, from int64, validator string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, refuseURL("not a URL edge can reach")
	}
	req.Header.Set("User-Agent", "edge (video import)")
	if from > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
		if validator != "" {
			req.Header.Set("If-Range", validator) // a changed file is sent whole
		}
	}
	resp, err := d.client.Do(req)
	if safehttp.Refused(err) {
		return nil, refuseURL("it leads to a private, local or reserved address: edge does not fetch from it")
	}
	if err != nil {
		if ae, ok := apperr.As(err); ok { // from CheckRedirect
			return nil, ae
		}
		return nil, err
	}
	if resp.StatusCode >= 400 {
		resp.Body.Close()
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return nil, fmt.Errorf("the server answered %s", resp.Status)
		}
		return nil, refuseURL("the server answered %s", resp.Status)
	}
	return resp, nil
}

// resumeAt is where the body of resp starts: 0 for a whole answer, have
// for the partial answer asked for.
func (d *downloader) resumeAt(resp *http.Response, have int64) (int64, error) {
	if resp.StatusCode != http.StatusPartialContent {
		return 0, nil
	}
	var start int64
	if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-", &start); err != nil || start != have {
		return 0, refuseURL("the server answered a range edge did not ask for")
	}
	return have, nil
}

// copyBody copies at most limit bytes, giving up on a body that sends
// nothing for the stall time; more than limit is a refusal.
func (d *downloader) copyBody(ctx context.Context, dst io.Writer, body io.Reader, limit int64, progress func(int64)) (int64, error) {
	buf := make([]byte, 256<<10)
	var n int64
	for {
		timer := time.AfterFunc(d.stall, func() {
			if c, ok := body.(io.Closer); ok {
				c.Close()
			}
		})
		k, err := body.Read(buf)
		timer.Stop()
		if int64(k) > limit-n {
			return n, refuseURL("the file is larger than the upload limit of %d bytes", d.maxBytes)
		}
		if _, werr := dst.Write(buf[:k]); werr != nil {
			return n, werr
		}
		n += int64(k)
		progress(n)
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
}

func sizeOf(resp *http.Response, start, known int64) int64 {
	if resp.ContentLength < 0 {
		return known
	}
	return start + resp.ContentLength
}

// validatorOf is a strong validator for If-Range, or "".
func validatorOf(resp *http.Response) string {
	if et := resp.Header.Get("ETag"); et != "" && !strings.HasPrefix(et, "W/") {
		return et
	}
	return resp.Header.Get("Last-Modified")
}

// cmpName keeps the first name found: Content-Disposition's filename, else
// the last segment of the URL that answered.
func cmpName(known string, resp *http.Response) string {
	if known != "" {
		return known
	}
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		return params["filename"]
	}
	if base := path.Base(resp.Request.URL.Path); base != "/" && base != "." {
		return base
	}
	return "source"
}

func isRefusal(err error) bool { _, ok := apperr.As(err); return ok }
