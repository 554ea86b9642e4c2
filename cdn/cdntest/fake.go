// Package cdntest is a fake AWS endpoint for `edge cloudfront --apply`: the
// CloudFront REST-XML calls it makes (lists in pages, with Marker and
// NextMarker, as CloudFront pages them) and S3's Get/PutBucketPolicy. It
// records every call and its body, and fails a chosen call on demand.
package cdntest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Fake is a running fake endpoint.
type Fake struct {
	URL string

	mu       sync.Mutex
	Calls    []string          // "METHOD /path"
	Policies map[string]string // bucket → policy
	Bodies   map[string]string // call → its last request body
	names    map[string][]string
	FailOn   string // a call ("POST /2020-05-31/cache-policy") answered with AccessDenied
	PageSize int    // items per list page (default 100)
}

// Add makes a resource exist already, as another tool created it.
func (f *Fake) Add(kind, name string) {
	f.mu.Lock()
	f.names[kind] = append(f.names[kind], name)
	f.mu.Unlock()
}

// Start runs the fake until the test ends.
func Start(t testing.TB) *Fake {
	f := &Fake{Policies: map[string]string{}, Bodies: map[string]string{}, names: map[string][]string{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Lock and Unlock guard reads of the recorded fields while calls may run.
func (f *Fake) Lock()   { f.mu.Lock() }
func (f *Fake) Unlock() { f.mu.Unlock() }

// Count tells how many times a call was made.
func (f *Fake) Count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.Calls {
		if c == call {
			n++
		}
	}
	return n
}

// A resource is known by its Name; a distribution, which has none, by its
// Comment (as edge finds it).
var (
	nameTag    = regexp.MustCompile(`<Name>([^<]*)</Name>`)
	commentTag = regexp.MustCompile(`<Comment>([^<]*)</Comment>`)
)

const ns = `xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/"`

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	call := r.Method + " " + r.URL.Path
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, call)
	f.Bodies[call] = string(body)
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		http.Error(w, "<Error><Code>MissingAuthenticationToken</Code></Error>", http.StatusForbidden)
		return
	}
	if call == f.FailOn {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User is not authorized to perform this action</Message></Error></ErrorResponse>`)
		return
	}
	kind := strings.TrimPrefix(r.URL.Path, "/2020-05-31/")
	w.Header().Set("Content-Type", "text/xml")
	switch {
	case r.Method == http.MethodPut && r.URL.Query().Has("policy"):
		f.Policies[strings.Trim(r.URL.Path, "/")] = string(body)
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && r.URL.Query().Has("policy"):
		policy, ok := f.Policies[strings.Trim(r.URL.Path, "/")]
		if !ok {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `<Error><Code>NoSuchBucketPolicy</Code><Message>The bucket policy does not exist</Message></Error>`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, policy)
	case r.Method == http.MethodGet:
		fmt.Fprint(w, f.list(kind, r.URL.Query().Get("Marker")))
	case r.Method == http.MethodPost:
		tag := nameTag
		if kind == "distribution" {
			tag = commentTag
		}
		m := tag.FindSubmatch(body)
		if m == nil {
			http.Error(w, "<Error><Code>MalformedInput</Code></Error>", http.StatusBadRequest)
			return
		}
		name := string(m[1])
		f.names[kind] = append(f.names[kind], name)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, f.item(kind, len(f.names[kind]), name))
	default:
		http.NotFound(w, r)
	}
}

func id(kind string, n int) string { return fmt.Sprintf("%s-%d", strings.ToUpper(kind[:3]), n) }

func (f *Fake) item(kind string, n int, name string) string {
	switch kind {
	case "origin-access-control":
		return fmt.Sprintf(`<OriginAccessControl %s><Id>%s</Id><OriginAccessControlConfig><Name>%s</Name></OriginAccessControlConfig></OriginAccessControl>`, ns, id(kind, n), name)
	case "cache-policy":
		return fmt.Sprintf(`<CachePolicy %s><Id>%s</Id><CachePolicyConfig><Name>%s</Name></CachePolicyConfig></CachePolicy>`, ns, id(kind, n), name)
	case "response-headers-policy":
		return fmt.Sprintf(`<ResponseHeadersPolicy %s><Id>%s</Id><ResponseHeadersPolicyConfig><Name>%s</Name></ResponseHeadersPolicyConfig></ResponseHeadersPolicy>`, ns, id(kind, n), name)
	default: // distribution
		return fmt.Sprintf(`<Distribution %s><Id>%s</Id><DomainName>d%d.cloudfront.net</DomainName><Status>InProgress</Status><DistributionConfig><Comment>%s</Comment></DistributionConfig></Distribution>`, ns, id(kind, n), n, name)
	}
}

func (f *Fake) list(kind, marker string) string {
	from, _ := strconv.Atoi(marker)
	size := f.PageSize
	if size <= 0 {
		size = 100
	}
	names := f.names[kind]
	to := min(len(names), from+size)
	var items strings.Builder
	for i := from; i < to; i++ {
		n, name := i+1, names[i]
		switch kind {
		case "origin-access-control":
			fmt.Fprintf(&items, `<OriginAccessControlSummary><Id>%s</Id><Name>%s</Name><Description></Description><SigningProtocol>sigv4</SigningProtocol><SigningBehavior>always</SigningBehavior><OriginAccessControlOriginType>s3</OriginAccessControlOriginType></OriginAccessControlSummary>`, id(kind, n), name)
		case "cache-policy":
			fmt.Fprintf(&items, `<CachePolicySummary><Type>custom</Type><CachePolicy><Id>%s</Id><CachePolicyConfig><Name>%s</Name></CachePolicyConfig></CachePolicy></CachePolicySummary>`, id(kind, n), name)
		case "response-headers-policy":
			fmt.Fprintf(&items, `<ResponseHeadersPolicySummary><Type>custom</Type><ResponseHeadersPolicy><Id>%s</Id><ResponseHeadersPolicyConfig><Name>%s</Name></ResponseHeadersPolicyConfig></ResponseHeadersPolicy></ResponseHeadersPolicySummary>`, id(kind, n), name)
		default:
			fmt.Fprintf(&items, `<DistributionSummary><Id>%s</Id><DomainName>d%d.cloudfront.net</DomainName><Comment>%s</Comment><Enabled>true</Enabled></DistributionSummary>`, id(kind, n), n, name)
		}
	}
	root := map[string]string{"origin-access-control": "OriginAccessControlList", "cache-policy": "CachePolicyList",
		"response-headers-policy": "ResponseHeadersPolicyList", "distribution": "DistributionList"}[kind]
	next, truncated := "", to < len(names)
	if truncated {
		next = "<NextMarker>" + strconv.Itoa(to) + "</NextMarker>"
	}
	return fmt.Sprintf(`<%s %s><IsTruncated>%t</IsTruncated><Marker>%s</Marker>%s<MaxItems>%d</MaxItems><Quantity>%d</Quantity><Items>%s</Items></%s>`,
		root, ns, truncated, marker, next, size, to-from, items.String(), root)
}
