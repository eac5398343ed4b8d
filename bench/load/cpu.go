package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	_ "github.com/lib/pq" // the "postgres" driver, to list the backends of a database
)

// clockTicks is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on Linux).
const clockTicks = 100

// cpuProbe reads the CPU time of the processes a run is measured by: the
// PostgreSQL backends serving one database (listed from pg_stat_activity),
// the gateway (by pid) and the load generator itself.
type cpuProbe struct {
	db      *sql.DB // a connection to the server, to list backends; nil: none
	datname string
	gateway int // the gateway's pid; 0: none
}

// cpuSample is CPU time in seconds, per PostgreSQL backend and for the
// gateway and the load generator.
type cpuSample struct {
	backends      map[int]float64
	gateway, self float64
}

// sample reads the CPU time of every process of the probe now.
func (p *cpuProbe) sample(ctx context.Context) (cpuSample, error) {
	s := cpuSample{backends: map[int]float64{}}
	if p.db != nil {
		rows, err := p.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, p.datname)
		if err != nil {
			return s, err
		}
		defer rows.Close()
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				return s, err
			}
			if t, err := procCPU(strconv.Itoa(pid)); err == nil {
				s.backends[pid] = t
			}
		}
		if err := rows.Err(); err != nil {
			return s, err
		}
	}
	if p.gateway > 0 {
		s.gateway, _ = procCPU(strconv.Itoa(p.gateway))
	}
	s.self, _ = procCPU("self")
	return s, nil
}

// cpuUsed is the CPU time, in seconds, each side spent between two samples.
type cpuUsed struct {
	postgres, gateway, load float64
}

// since returns the CPU time spent from before to s. A backend that
// started meanwhile counts in full; one that ended is lost (the gateway's
// pool keeps its connections during a run).
func (s cpuSample) since(before cpuSample) cpuUsed {
	u := cpuUsed{gateway: s.gateway - before.gateway, load: s.self - before.self}
	for pid, t := range s.backends {
		u.postgres += t - before.backends[pid]
	}
	return u
}

// procCPU returns utime+stime of /proc/<pid>/stat in seconds.
func procCPU(pid string) (float64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis (state is field 3).
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b)[i+1:])
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%s/stat: unexpected format", pid)
	}
	return (utime + stime) / clockTicks, nil
}

// newCPUProbe connects to the PostgreSQL server at url to list the backends
// of database datname (no connection when either is empty) and reads the
// gateway's CPU time by pid (0: not read).
func newCPUProbe(url, datname string, gateway int) (*cpuProbe, error) {
	p := &cpuProbe{datname: datname, gateway: gateway}
	if url == "" || datname == "" {
		return p, nil
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("-pg-url: %w", err)
	}
	p.db = db
	return p, nil
}
