// Package storagetest starts real storage servers for tests: a versitygw S3
// gateway on 127.0.0.1 that checks SigV4 signatures for real.
package storagetest

import (
	"context"
	"fmt"
	"go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/edgehls/edge/storage"
)

// S3Server is a running versitygw with one bucket.
type S3Server struct {
	Endpoint  string
	AccessKey string
	SecretKey string
	Bucket    string
	Region    string
}

// StartS3 runs versitygw until the test ends. A missing binary fails the
// test: `make test` installs it.
func StartS3(t testing.TB) *S3Server {
	t.Helper()
	bin := versitygwPath(t)
	addr := freeAddr(t)
	s := &S3Server{Endpoint: "http://" + addr, AccessKey: "edgetestkey", SecretKey: "edgetestsecret0123456789", Bucket: "media", Region: "us-east-1"}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--port", addr, "--access", s.AccessKey, "--secret", s.SecretKey,
		"--region", s.Region, "--keep-alive", "--quiet", "posix", t.TempDir()) // keep-alive, as S3 does
	logFile := filepath.Join(t.TempDir(), "versitygw.log")
	out, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait(); out.Close() })
	waitListening(t, addr, logFile)
	s.createBucket(t)
	return s
}

// Client returns an SDK client for setting up fixtures directly.
func (s *S3Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// Store is an edge S3 store on the bucket, under prefix.
func (s *S3Server) Store(t testing.TB, prefix string) *storage.S3Store {
	t.Helper()
	st, err := storage.NewS3Store(context.Background(), storage.S3Options{Bucket: s.Bucket, Prefix: prefix, PathStyle: true,
		Endpoint: s.Endpoint, Region: s.Region, AccessKey: s.AccessKey, SecretKey: s.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (s *S3Server) createBucket(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.Bucket}); err != nil {
		t.Fatalf("create bucket %s: %v", s.Bucket, err)
	}
}

func versitygwPath(t testing.TB) string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	p := filepath.Join(gopath, "bin", "versitygw")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("versitygw not found in PATH or %s: run `make test-deps`", p)
	}
	return p
}

// freeAddr asks the kernel for a free loopback port.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitListening(t testing.TB, addr, logFile string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(logFile)
	t.Fatalf("versitygw did not listen on %s: %s", addr, fmt.Sprint(string(log)))
}
