package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edgehls/edge/internal/hlstest"
	"github.com/edgehls/edge/internal/waitfor"
)

// TestMain lets a test run this binary as edge itself (EDGE_TEST_AS_EDGE),
// so a test can kill a real edge process with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("EDGE_TEST_AS_EDGE") == "1" {
		os.Args = append([]string{"edge"}, strings.Fields(os.Getenv("EDGE_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// edgeProcess runs edge serve as a child process on a free port and
// returns its base URL once it listens.
func edgeProcess(t *testing.T, vars map[string]string) (base string, cmd *exec.Cmd) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "EDGE_TEST_AS_EDGE=1", "EDGE_TEST_ARGS=serve", "EDGE_ADDR=127.0.0.1:0", "EDGE_LOG_FORMAT=json")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		var entry struct{ Msg, Addr string }
		if json.Unmarshal(lines.Bytes(), &entry) == nil && entry.Msg == "edge serving" {
			go io.Copy(io.Discard, stderr)
			return "http://" + entry.Addr, cmd
		}
	}
	t.Fatalf("edge exited before listening: %v", cmd.Wait())
	return "", nil
}

// TestKilledAfterTheLastPatch: edge is killed with SIGKILL once an upload's
// last PATCH has arrived whole, while the file is being judged (ffprobe
// hangs until then). Nothing is lost: the next edge on the same data
// folder takes the upload up at start, and it becomes a ready stream whose
// source is byte for byte the upload.
func TestKilledAfterTheLastPatch(t *testing.T) {
	dataDir := t.TempDir()
	vars := map[string]string{"EDGE_DATA_DIR": dataDir}
	runCmd(t, vars, "", "user", "add", "--email", "ana@example.com")
	out, _ := runCmd(t, vars, "", "token", "create", "--email", "ana@example.com")
	token := strings.TrimSpace(out)
	src := filepath.Join(t.TempDir(), "talk.mov")
	hlstest.MakeSource(t, src, 2, "320x240", true)
	data, _ := os.ReadFile(src)

	judging := hangingTool(t, "ffprobe")
	base, first := edgeProcess(t, vars)
	id, loc := createTusUpload(t, base, token, len(data), "talk.mov")
	go tusPatch(base+loc, token, data) // never answered: edge dies first
	waitfor.True(t, "edge to judge the whole upload", func() bool { _, err := os.Stat(judging); return err == nil })
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()

	t.Setenv("PATH", strings.SplitN(os.Getenv("PATH"), string(os.PathListSeparator), 2)[1]) // the real ffprobe
	base, _ = edgeProcess(t, vars)
	var st struct {
		Status, Error string
		Source        string `json:"source"`
	}
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && st.Status != "ready" && st.Status != "failed"; time.Sleep(100 * time.Millisecond) {
		st.Status = ""
		getJSON(t, base+"/api/v1/streams/"+id, token, &st)
	}
	if st.Status != "ready" {
		t.Fatalf("after the restart the stream is %q %q", st.Status, st.Error)
	}
	stored, err := os.ReadFile(filepath.Join(dataDir, "media", "uploads", id, "talk.mov"))
	if err != nil || sha256.Sum256(stored) != sha256.Sum256(data) {
		t.Fatalf("the stored source differs from the upload (%v)", err)
	}
}

// hangingTool puts a tool first on PATH that marks it was run, then hangs
// (exec, so the process edge started is the one that hangs and dies with
// it). It returns the marker's path.
func hangingTool(t *testing.T, name string) string {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	script := fmt.Sprintf("#!/bin/sh\ntouch %q\nexec sleep 600\n", marker)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return marker
}

func createTusUpload(t *testing.T, base, token string, size int, name string) (id, location string) {
	t.Helper()
	var created struct {
		ID        string `json:"id"`
		UploadURL string `json:"upload_url"`
	}
	req, _ := http.NewRequest("POST", base+"/api/v1/streams", strings.NewReader(`{"title":"Talk"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	doJSON(t, req, &created)
	// EDGE_PUBLIC_URL is unknown before the port is: the paths are used.
	req, _ = http.NewRequest("POST", base+hostless(created.UploadURL), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(size))
	req.Header.Set("Upload-Metadata", "filename "+base64.StdEncoding.EncodeToString([]byte(name)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("tus create: %v %v", resp, err)
	}
	resp.Body.Close()
	return created.ID, hostless(resp.Header.Get("Location"))
}

func hostless(u string) string { return regexp.MustCompile(`^https?://[^/]+`).ReplaceAllString(u, "") }

func tusPatch(url, token string, data []byte) {
	req, _ := http.NewRequest("PATCH", url, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	doJSON(t, req, v)
}

func doJSON(t *testing.T, req *http.Request, v any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
}
