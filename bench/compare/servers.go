package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/partsmarket/gateway/bench/internal/benchkit"
)

// process is a server this program started.
type process struct {
	server
	log *os.File
}

// start runs argv with env (on top of this program's environment) as a
// server on port, its output in logPath, and waits up to a minute for ready
// to succeed.
func start(ctx context.Context, label string, port int, argv, env []string, logPath string, ready func() error) (*process, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so that stopping it stops what it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", label, err)
	}
	p := &process{server: server{label: label, endpoint: fmt.Sprintf("http://127.0.0.1:%d/graphql", port),
		pid: cmd.Process.Pid}, log: f}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	for deadline := time.Now().Add(time.Minute); ; {
		err := ready()
		if err == nil {
			return p, nil
		}
		select {
		case <-exited:
			f.Close()
			return nil, fmt.Errorf("%s exited before it was ready (log %s)", label, logPath)
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s was not ready within a minute (log %s): %w", label, logPath, err)
		}
	}
}

// stop interrupts the server's process group and waits for the server to
// exit, killing the group after 30 seconds.
func (p *process) stop() {
	if p == nil {
		return
	}
	_ = syscall.Kill(-p.pid, syscall.SIGINT)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if syscall.Kill(p.pid, 0) != nil {
			p.log.Close()
			return
		}
	}
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	p.log.Close()
}

// startGateway runs the gateway binary on databaseURL with rate limits too
// high to matter and, unless cached, its response and search caches off.
func startGateway(ctx context.Context, o options, cached bool) (*process, error) {
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	metrics, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	env := []string{"DATABASE_URL=" + o.databaseURL, "ENV=development", fmt.Sprint("PORT=", port),
		fmt.Sprint("METRICS_ADDR=127.0.0.1:", metrics), "CAPTCHA_PROVIDER=test",
		"RATE_LIMIT_LEADS_PER_IP_PER_HOUR=1000000000", "RATE_LIMIT_LEADS_PER_EMAIL_PER_DAY=1000000000",
		"RATE_LIMIT_REPORTS_PER_IP_PER_HOUR=1000000000", "RATE_LIMIT_POINTS_PER_MINUTE=1000000000000"}
	label, logName := "gateway, caches on", "gateway-cached.log"
	if !cached {
		env = append(env, "RESPONSE_CACHE_TTL=0", "SEARCH_CACHE_TTL=0")
		label, logName = "gateway", "gateway.log"
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	return start(ctx, label, port, []string{o.gateway, "serve"}, env, filepath.Join(o.out, logName), func() error {
		return httpOK(ctx, http.MethodGet, base+"/readyz", "")
	})
}

// startPostGraphile runs PostGraphile's command line with the benchmark's
// configuration file on the node binary given.
func startPostGraphile(ctx context.Context, o options) (*process, error) {
	port, err := benchkit.FreePort()
	if err != nil {
		return nil, err
	}
	cfg, err := filepath.Abs(o.postgraphileConfig)
	if err != nil {
		return nil, err
	}
	env := []string{"DATABASE_URL=" + o.databaseURL, fmt.Sprint("PORT=", port), "NODE_ENV=production"}
	endpoint := fmt.Sprintf("http://127.0.0.1:%d/graphql", port)
	return start(ctx, "PostGraphile", port, []string{o.node, o.postgraphile, "-C", cfg}, env,
		filepath.Join(o.out, "postgraphile.log"), func() error {
			return httpOK(ctx, http.MethodPost, endpoint, `{"query":"{__typename}"}`)
		})
}

// httpOK reports whether a request to url answers 200.
func httpOK(ctx context.Context, method, url, body string) error {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}
