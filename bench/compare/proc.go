package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ,
// 100 on every Linux the project runs on.
const clockTick = 10 * time.Millisecond

// procStat is what one process's /proc/<pid>/stat says that the
// measurements need.
type procStat struct {
	pid, ppid int
	// cpu is utime+stime: the CPU the process used itself.
	cpu time.Duration
	// reaped is cutime+cstime: the CPU of its children it has waited
	// for, which a process tree keeps after they exit.
	reaped time.Duration
}

// readStat reads /proc/<pid>/stat.
func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name, in parentheses, may hold spaces: the fields
	// counted from 3 start after its closing parenthesis.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	num := func(k int) int64 { v, _ := strconv.ParseInt(f[k-3], 10, 64); return v }
	return procStat{pid: pid, ppid: int(num(4)),
		cpu:    time.Duration(num(14)+num(15)) * clockTick,
		reaped: time.Duration(num(16)+num(17)) * clockTick}, nil
}

// allStats reads the stat of every process on the machine that can still
// be read.
func allStats() []procStat {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	out := make([]procStat, 0, len(dirs))
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		if s, err := readStat(pid); err == nil {
			out = append(out, s)
		}
	}
	return out
}

// treeCPU returns the CPU used so far by the process tree under root: every
// live process's own CPU plus what root has reaped of its exited children
// (a PostgreSQL backend that ends, a worker node started). The difference
// of two readings is the tree's CPU in between.
func treeCPU(root int) (time.Duration, error) {
	stats := allStats()
	children := map[int][]procStat{}
	var top *procStat
	for i, s := range stats {
		children[s.ppid] = append(children[s.ppid], s)
		if s.pid == root {
			top = &stats[i]
		}
	}
	if top == nil {
		return 0, fmt.Errorf("process %d is gone", root)
	}
	total := top.cpu + top.reaped
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			total += c.cpu
			queue = append(queue, c.pid)
		}
	}
	return total, nil
}

// treeRSS returns the resident set size of the process tree under root, in
// bytes (VmRSS from /proc/<pid>/status, summed).
func treeRSS(root int) int64 {
	var total int64
	pids := []int{root}
	stats := allStats()
	for len(pids) > 0 {
		pid := pids[0]
		pids = pids[1:]
		total += statusKB(pid, "VmRSS") * 1024
		for _, s := range stats {
			if s.ppid == pid {
				pids = append(pids, s.pid)
			}
		}
	}
	return total
}

// statusKB returns field key (a size in kB) of /proc/<pid>/status, 0 when
// it cannot be read.
func statusKB(pid int, key string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != key {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 2 && f[1] == "kB" {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n
		}
	}
	return 0
}
