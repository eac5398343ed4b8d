package database_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"

	"github.com/lib/pq"

	"github.com/partsmarket/gateway/internal/database"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{}}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"no rows", sql.ErrNoRows, false},
		{"unique violation", &pq.Error{Code: "23505"}, false},
		{"syntax error", &pq.Error{Code: "42601"}, false},
		{"serialization failure", &pq.Error{Code: "40001"}, false},
		{"admin shutdown", &pq.Error{Code: "57P01"}, true},
		{"crash shutdown", &pq.Error{Code: "57P02"}, true},
		{"starting up", &pq.Error{Code: "57P03"}, true},
		{"statement cancelled", &pq.Error{Code: "57014"}, true},
		{"too many connections", &pq.Error{Code: "53300"}, true},
		{"connection failure", &pq.Error{Code: "08006"}, true},
		{"wrapped admin shutdown", fmt.Errorf("store: create lead: %w", &pq.Error{Code: "57P01"}), true},
		{"bad connection", driver.ErrBadConn, true},
		{"connection done", fmt.Errorf("commit: %w", sql.ErrConnDone), true},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"reset", syscall.ECONNRESET, true},
		{"net op error", opErr, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := database.Unavailable(c.err); got != c.want {
				t.Errorf("Unavailable(%v) = %v, want %v", c.err, got, c.want)
			}
		})
	}
}

// TestUnavailableRefused opens a pool on a loopback port nothing listens
// on: the error Open returns is classified as unavailable.
func TestUnavailableRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = database.Open(context.Background(), "postgres://postgres@"+addr+"/x?sslmode=disable", "gateway-test", 1)
	if err == nil {
		t.Fatal("Open on a closed port succeeded")
	}
	if !database.Unavailable(err) {
		t.Errorf("Unavailable(%v) = false, want true", err)
	}
}
