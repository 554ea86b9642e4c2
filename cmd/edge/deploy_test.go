package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

type flyConfig struct {
	App           string `toml:"app"`
	PrimaryRegion string `toml:"primary_region"`
	Build         struct{ Dockerfile string }
	Env           map[string]string `toml:"env"`
	HTTPService   struct {
		InternalPort int  `toml:"internal_port"`
		ForceHTTPS   bool `toml:"force_https"`
		Checks       []struct {
			Method, Path string
		} `toml:"checks"`
	} `toml:"http_service"`
	Mounts []struct{ Source, Destination string } `toml:"mounts"`
}

// TestFlyTomlAgreesWithTheBinary reads fly.toml the way Fly does and checks
// it against what edge does with the same environment.
func TestFlyTomlAgreesWithTheBinary(t *testing.T) {
	var fly flyConfig
	if _, err := toml.DecodeFile("../../fly.toml", &fly); err != nil {
		t.Fatalf("fly.toml: %v", err)
	}
	cfg, err := parseConfig(nil, env(fly.Env), io.Discard)
	if err != nil {
		t.Fatalf("fly.toml's [env] is not a valid edge configuration: %v", err)
	}
	_, port, _ := net.SplitHostPort(cfg.Addr)
	if fly.App == "" || fly.PrimaryRegion == "" || fly.Build.Dockerfile != "Dockerfile" || !fly.HTTPService.ForceHTTPS ||
		strconv.Itoa(fly.HTTPService.InternalPort) != port {
		t.Fatalf("fly.toml: %+v (edge listens on %s)", fly, cfg.Addr)
	}
	if len(fly.Mounts) != 1 || fly.Mounts[0].Destination != cfg.DataDir {
		t.Fatalf("the volume %+v is not edge's data dir %s", fly.Mounts, cfg.DataDir)
	}
	if len(fly.HTTPService.Checks) != 1 || fly.HTTPService.Checks[0].Path != "/healthz" {
		t.Fatalf("health check: %+v", fly.HTTPService.Checks)
	}
	base, _ := startServe(t, map[string]string{})
	resp, err := http.Get(base + fly.HTTPService.Checks[0].Path)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("edge does not answer Fly's health check: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestDockerfileBuildsEdge(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := strings.ReplaceAll(string(raw), "\\\n", " ")
	stages := regexp.MustCompile(`(?m)^FROM `).FindAllStringIndex(df, -1)
	if len(stages) < 2 {
		t.Fatal("the Dockerfile is not multi-stage")
	}
	final := df[stages[len(stages)-1][0]:]
	var fly flyConfig
	toml.DecodeFile("../../fly.toml", &fly)
	for _, want := range []string{"ffmpeg", "ca-certificates", "EXPOSE " + strconv.Itoa(fly.HTTPService.InternalPort),
		"VOLUME " + fly.Env["EDGE_DATA_DIR"], "EDGE_DATA_DIR=" + fly.Env["EDGE_DATA_DIR"], `ENTRYPOINT ["/usr/local/bin/edge"]`,
		"COPY --from=build /out/edge /usr/local/bin/edge"} {
		if !strings.Contains(final, want) {
			t.Errorf("the final stage lacks %q", want)
		}
	}
	if user := regexp.MustCompile(`(?m)^USER (\S+)`).FindStringSubmatch(final); user == nil || user[1] == "root" || user[1] == "0" {
		t.Error("the final stage runs as root")
	}
	// The build stage's own command, run here, makes a working edge.
	build := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=0 go build .*\./cmd/edge)$`).FindStringSubmatch(df)
	if build == nil {
		t.Fatal("no `CGO_ENABLED=0 go build … ./cmd/edge` step")
	}
	bin := filepath.Join(t.TempDir(), "edge")
	cmdline := strings.NewReplacer("/out/edge", bin, "${VERSION}", "docker-test").Replace(build[1])
	cmd := exec.Command("sh", "-c", cmdline)
	cmd.Dir = "../.."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmdline, err, out)
	}
	if out, err := exec.Command(bin, "version").Output(); err != nil || strings.TrimSpace(string(out)) != "edge docker-test" {
		t.Fatalf("built binary: %q %v", out, err)
	}
}
