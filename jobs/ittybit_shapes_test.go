package jobs

import "testing"

// TestIttybitShapes: the {"data":…} envelope is taken off only when it is
// one, and progress comes from the job's tasks, as documented.
func TestIttybitShapes(t *testing.T) {
	for body, wantID := range map[string]string{
		`{"data":{"id":"job_1","status":"queued"}}`:                        "job_1",
		`{"id":"job_2","status":"queued","data":{"note":"user metadata"}}`: "job_2",
		`{"id":"job_3","status":"queued"}`:                                 "job_3",
	} {
		if job, err := parseJob(unwrapData([]byte(body))); err != nil || job.ID != wantID {
			t.Errorf("%s: %+v %v, want %s", body, job, err, wantID)
		}
	}
	for body, want := range map[string]int{
		`{"id":"j","status":"processing","tasks":[{"status":"succeeded"},{"status":"processing"}]}`:               50,
		`{"id":"j","status":"processing","tasks":[{"status":"succeeded"},{"status":"processing","progress":40}]}`: 70,
		`{"id":"j","status":"processing","tasks":[{"status":"queued"},{"status":"queued"}]}`:                      0,
		`{"id":"j","status":"processing","progress":30}`:                                                          30,
	} {
		job, err := parseJob([]byte(body))
		if err != nil || job.percent() != want {
			t.Errorf("%s: %d%% (%v), want %d", body, job.percent(), err, want)
		}
	}
}

// TestWebhookReachable: a webhook_url goes only to a public https URL,
// which Ittybit's docs require and its cloud can reach.
func TestWebhookReachable(t *testing.T) {
	for u, want := range map[string]bool{
		"https://edge.example.com": true,
		"https://203.0.113.9":      true,
		"http://edge.example.com":  false,
		"https://localhost:8080":   false,
		"https://127.0.0.1:8080":   false,
		"https://10.1.2.3":         false,
		"https://[::1]":            false,
		"https://[fe80::1]":        false,
		"https://edge.internal":    false,
		"https://media.local":      false,
		"https://intranet":         false,
		"":                         false,
	} {
		if got := WebhookReachable(u); got != want {
			t.Errorf("%q: %v, want %v", u, got, want)
		}
	}
}
