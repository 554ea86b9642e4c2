// Command edge is a self-hosted HLS playback edge and video portal.
// main only wires: configuration in config.go, the server in serve.go.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

const usage = `usage: edge [command] [flags]

commands:
  serve         run the portal, player and proxy (default)
  user add      add a portal account: --email E [--role admin|editor] [--password-stdin]
  user unlock   let an account sign in again after too many failures: --email E
  user passwd   set an account's password and sign it out everywhere: --email E [--password-stdin]
  token create  print a new API token: --email E [--name N]
  key create    make a key that signs playback tokens, print its private part once: --name N
  key list      list the signing keys
  key revoke    stop a signing key's tokens opening videos: --id KID
  cloudfront    print (or --apply) the CloudFront setup for a bucket: --bucket B --region R --account A [--prefix P]
  version       print the version

Run "edge serve -h" for the flags; each has an EDGE_* variable.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "edge:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, err := parseConfig(args, getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, newLogger(cfg, stderr), nil)
	case "user", "token":
		return runAccountCommand(ctx, cmd, args, getenv, stdin, stdout, stderr)
	case "key":
		return keyCommand(ctx, args, getenv, stdout, stderr)
	case "cloudfront":
		return cloudfrontCmd(ctx, args, getenv, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "edge", buildVersion())
		return nil
	case "help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func runAccountCommand(ctx context.Context, cmd string, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch cmd + " " + sub {
	case "user add":
		return userAdd(ctx, args, getenv, stdin, stdout, stderr)
	case "user unlock":
		return userUnlock(ctx, args, getenv, stdout, stderr)
	case "user passwd":
		return userPasswd(ctx, args, getenv, stdin, stdout, stderr)
	case "token create":
		return tokenCreate(ctx, args, getenv, stdout, stderr)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", strings.TrimSpace(cmd+" "+sub))
	}
}
