package cdn

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// JSON renders the setup for people and for `aws … --cli-input-json`:
// the SDK's field names, without unset fields (nulls, and the empty strings
// of unset enums such as ConnectionMode, which the AWS CLI refuses),
// documents in the order they are created.
func (s *Setup) JSON() ([]byte, error) {
	docs := []struct {
		name string
		v    any
	}{
		{"origin_access_control", s.OriginAccessControl},
		{"manifest_cache_policy", s.ManifestCachePolicy},
		{"cors_response_headers_policy", s.CORSHeadersPolicy},
		{"distribution", s.Distribution},
		{"bucket_policy", s.BucketPolicy},
	}
	var out bytes.Buffer
	out.WriteString("{\n")
	for i, d := range docs {
		body, err := compact(d.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", d.name, err)
		}
		fmt.Fprintf(&out, "  %q: %s", d.name, body)
		if i < len(docs)-1 {
			out.WriteString(",")
		}
		out.WriteString("\n")
	}
	out.WriteString("}")
	return out.Bytes(), nil
}

func compact(doc any) ([]byte, error) {
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, err
	}
	return json.MarshalIndent(dropNulls(v), "  ", "  ")
}

// emptyAllowed are the string fields whose empty value means something:
// an S3 origin reached through an origin access control has no identity.
var emptyAllowed = map[string]bool{"OriginAccessIdentity": true}

func dropNulls(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if e == nil || (e == "" && !emptyAllowed[k]) {
				delete(t, k)
			} else {
				t[k] = dropNulls(e)
			}
		}
	case []any:
		for i, e := range t {
			t[i] = dropNulls(e)
		}
	}
	return v
}
