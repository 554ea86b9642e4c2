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
