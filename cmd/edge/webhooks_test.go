package main

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/waitfor"
	"github.com/edgehls/edge/internal/webhooktest"
)

// A CMS hears of its stream through signed webhooks, each event accepted
// once, though edge is killed (SIGKILL) after the ready event was refused
// once: the next edge on the same data folder sends it again after its
// pause, with the same webhook-id, and then the delete.
func TestWebhooksSurviveAKilledEdge(t *testing.T) {
	dataDir := t.TempDir()
	vars := map[string]string{"EDGE_DATA_DIR": dataDir, "EDGE_WEBHOOK_ALLOW": "127.0.0.0/8"}
	runCmd(t, vars, "", "user", "add", "--email", "ana@example.com")
	out, _ := runCmd(t, vars, "", "token", "create", "--email", "ana@example.com")
	token := strings.TrimSpace(out)
	hlstest.MakeSource(t, filepath.Join(dataDir, "media", "uploads", "talk.mp4"), 2, "640x360", true)

	rcv := webhooktest.NewReceiver(t)
	var readyRefused atomic.Bool
	rcv.Answer = func(_ int, d webhooktest.Delivery) int {
		if strings.Contains(d.Body, `"type":"stream.ready"`) && readyRefused.CompareAndSwap(false, true) {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	}
	base, first := edgeProcess(t, vars)
	var hook struct {
		ID     int64
		Secret string
	}
	doJSON(t, apiRequest(t, "POST", base+"/api/v1/webhooks", token, `{"url":"`+rcv.URL+`"}`), &hook)
	var st struct{ ID string }
	doJSON(t, apiRequest(t, "POST", base+"/api/v1/streams", token, `{"title":"Talk","source":"uploads/talk.mp4"}`), &st)
	waitfor.True(t, "the ready event refused, and the refusal recorded", func() bool {
		if !readyRefused.Load() {
			return false
		}
		var log struct {
			Deliveries []struct {
				Event string
				Codes []int
			}
		}
		getJSON(t, base+"/api/v1/webhooks/"+strconv.FormatInt(hook.ID, 10)+"/deliveries", token, &log)
		for _, d := range log.Deliveries {
			if d.Event == "stream.ready" && len(d.Codes) == 1 {
				return true
			}
		}
		return false
	})
	first.Process.Kill()
	first.Wait()

	base, _ = edgeProcess(t, vars)
	waitfor.True(t, "the ready event again", func() bool { return len(rcv.Got()) == 3 })
	if resp, err := http.DefaultClient.Do(apiRequest(t, "DELETE", base+"/api/v1/streams/"+st.ID, token, "")); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("delete: %v %v", resp, err)
	}
	waitfor.True(t, "the deleted event", func() bool { return len(rcv.Got()) == 4 })

	got := rcv.Got()
	verified := webhooktest.Verify(t, hook.Secret, got)
	count := map[string]int{}
	var ready []int // the ready event's deliveries: refused, then accepted
	for i, v := range verified {
		if v.Problem != "" {
			t.Fatalf("delivery %d refused by the reference library: %s", i, v.Problem)
		}
		if v.Data["id"] != st.ID {
			t.Fatalf("delivery %d is about %v", i, v.Data["id"])
		}
		count[v.Type]++
		if v.Type == "stream.ready" {
			ready = append(ready, i)
		}
	}
	if count["stream.created"] != 1 || count["stream.ready"] != 2 || count["stream.deleted"] != 1 || verified[ready[0]].ID != verified[ready[1]].ID {
		t.Fatalf("deliveries %v: want created and deleted once, ready twice with one webhook-id", count)
	}
	if gap := got[ready[1]].At.Sub(got[ready[0]].At); gap < 5*time.Second {
		t.Fatalf("the refused event came back after %s, before its 5 s pause", gap)
	}
}

func apiRequest(t *testing.T, method, url, token, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	return req
}
