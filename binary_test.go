package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/partsmarket/gateway/internal/config"
	"github.com/partsmarket/gateway/internal/testdb"
)

// TestHelp: `gateway --help` (and -h, help, `gateway migrate --help`)
// prints the commands and `gateway token --help` the token's flags, on
// stdout and without error (exit status 0), even with a configuration
// that would not load.
func TestHelp(t *testing.T) {
	badEnv := func(k string) string { return map[string]string{"ENV": "nonsense"}[k] }
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"Usage:", "gateway migrate up|down|status", "gateway token", "HOST"}},
		{[]string{"-h"}, []string{"Usage:"}},
		{[]string{"help"}, []string{"Usage:"}},
		{[]string{"migrate", "--help"}, []string{"Usage:"}},
		{[]string{"token", "--help"}, []string{"gateway token --role", "-seller-id", "-ttl"}},
		{[]string{"token", "-h"}, []string{"gateway token --role"}},
	} {
		var out bytes.Buffer
		env := badEnv
		if c.args[0] == "token" {
			env = func(string) string { return "" } // token reads JWT_SECRET
		}
		if err := run(context.Background(), c.args, env, &out, slog.New(slog.NewJSONHandler(io.Discard, nil))); err != nil {
			t.Errorf("gateway %s: %v, want no error", strings.Join(c.args, " "), err)
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("gateway %s: output %q, want it to contain %q", strings.Join(c.args, " "), out.String(), w)
			}
		}
	}
	if err := run(context.Background(), []string{"nonsense"}, func(string) string { return "" }, io.Discard, slog.New(slog.NewJSONHandler(io.Discard, nil))); err == nil {
		t.Error("an unknown command: no error")
	}
}

// dialOnServing is a log writer that, when the "serving" line is written,
// connects to the address it names at once, before serve goes on.
type dialOnServing struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	dialed  chan error // the result of the dial, once
	wantMsg string
}

// Write records p and dials when p is the "serving" line.
func (d *dialOnServing) Write(p []byte) (int, error) {
	d.mu.Lock()
	d.buf.Write(p)
	d.mu.Unlock()
	var line struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal(p, &line) == nil && line.Msg == d.wantMsg {
		conn, err := net.DialTimeout("tcp", line.Addr, 5*time.Second)
		if err == nil {
			conn.Close()
		}
		d.dialed <- err
	}
	return len(p), nil
}

// String returns what was logged.
func (d *dialOnServing) String() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.buf.String()
}

// TestServingLoggedWhenBound runs serve in development: "serving" is
// logged once the listener is bound, on HOST (127.0.0.1 in development),
// and a connection to the address it names succeeds at that very moment.
func TestServingLoggedWhenBound(t *testing.T) {
	dbURL := testdb.ServingURL(t, testdb.New(t))
	port := httpFreePort(t)
	env := map[string]string{"DATABASE_URL": dbURL, "PORT": strconv.Itoa(port), "METRICS_ADDR": "127.0.0.1:" + strconv.Itoa(httpFreePort(t))}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &dialOnServing{dialed: make(chan error, 1), wantMsg: "serving"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil))) }()
	select {
	case err := <-logs.dialed:
		if err != nil {
			t.Errorf("connecting when \"serving\" was logged: %v\n%s", err, logs.String())
		}
	case err := <-served:
		t.Fatalf("serve returned before serving: %v\n%s", err, logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("no \"serving\" line\n%s", logs.String())
	}
	if want := `"addr":"127.0.0.1:` + strconv.Itoa(port) + `"`; !strings.Contains(logs.String(), want) {
		t.Errorf("serving: want %s (loopback in development)\n%s", want, logs.String())
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// TestMetricsPortTaken: in production a METRICS_ADDR that cannot be bound
// stops the start with an error naming it, and the API port is not left
// open; in development the API is served without /metrics.
func TestMetricsPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dbURL := testdb.ServingURL(t, testdb.New(t))
	for _, production := range []bool{true, false} {
		env := map[string]string{"DATABASE_URL": dbURL, "METRICS_ADDR": taken.Addr().String()}
		if production {
			env = productionEnv()
			env["DATABASE_URL"], env["METRICS_ADDR"] = dbURL, taken.Addr().String()
		}
		port := httpFreePort(t)
		env["PORT"], env["HOST"] = strconv.Itoa(port), "127.0.0.1"
		cfg, err := config.Load(func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		logs := &dialOnServing{dialed: make(chan error, 1), wantMsg: "serving"}
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- serve(ctx, cfg, slog.New(slog.NewJSONHandler(logs, nil))) }()
		returned := false
		if production {
			select {
			case err := <-served:
				returned = true
				if err == nil || !strings.Contains(err.Error(), "METRICS_ADDR") {
					t.Errorf("production: serve returned %v, want an error naming METRICS_ADDR", err)
				}
			case <-time.After(60 * time.Second):
				t.Errorf("production: serve went on with METRICS_ADDR taken\n%s", logs.String())
			}
			if conn, err := net.DialTimeout("tcp", cfg.ListenAddr(), time.Second); err == nil {
				conn.Close()
				t.Error("production: the API port is open after the failed start")
			}
			if strings.Contains(logs.String(), `"msg":"serving"`) {
				t.Errorf("production: \"serving\" logged for a start that failed\n%s", logs.String())
			}
		} else {
			select {
			case err := <-logs.dialed:
				if err != nil {
					t.Errorf("development: the API does not answer: %v", err)
				}
			case err := <-served:
				returned = true
				t.Errorf("development: serve returned %v, want it to serve without /metrics", err)
			case <-time.After(60 * time.Second):
				t.Errorf("development: no \"serving\" line\n%s", logs.String())
			}
		}
		cancel()
		if !returned {
			<-served
		}
	}
}
