package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go runs on (the kernel's own HZ may differ; this ABI value does not).
const clockTicks = 100

// procUsage is what /proc says of one process at one instant.
type procUsage struct {
	At  time.Time
	CPU time.Duration // user + system time since the process started, all threads
	// Waited is how long the process's live threads have waited for a CPU while runnable
	// (run_delay in /proc/<pid>/task/*/schedstat): what a busy machine adds to latency.
	Waited time.Duration
	procMemory
}

// procMemory is a process's resident memory, in bytes.
type procMemory struct {
	RSS  int64 // resident set now (VmRSS)
	HWM  int64 // peak resident set since start (VmHWM)
	Anon int64 // the part of RSS that is the process's own (RssAnon), not mapped files such as its binary
}

// readProc reads pid's CPU time from /proc/<pid>/stat and its memory from /proc/<pid>/status.
func readProc(pid int) (procUsage, error) {
	u := procUsage{At: time.Now()}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("read cpu of pid %d: %w", pid, err)
	}
	if u.CPU, err = parseStatCPU(stat); err != nil {
		return u, fmt.Errorf("pid %d: %w", pid, err)
	}
	if u.Waited, err = runDelay(pid); err != nil {
		return u, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("read memory of pid %d: %w", pid, err)
	}
	if u.procMemory, err = parseStatusMemory(status); err != nil {
		return u, fmt.Errorf("pid %d: %w", pid, err)
	}
	return u, nil
}

// parseStatCPU returns utime + stime (fields 14 and 15) of a /proc/<pid>/stat line. The
// command name (field 2) may hold spaces and parentheses, so fields are counted after its
// last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat %q: no command name", stat)
	}
	f := strings.Fields(string(stat[i+1:])) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("stat %q: %d fields after the command name, want 13 or more", stat, len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat: cpu ticks %q: %w", s, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// runDelay sums the time pid's threads have spent runnable but waiting for a CPU. A thread
// that exits between the listing and the read is left out.
func runDelay(pid int) (time.Duration, error) {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return 0, fmt.Errorf("list threads of pid %d: %w", pid, err)
	}
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue
		}
		d, err := parseSchedstat(b)
		if err != nil {
			return 0, fmt.Errorf("pid %d thread %s: %w", pid, t.Name(), err)
		}
		total += d
	}
	return total, nil
}

// parseSchedstat returns the second field of a schedstat line: nanoseconds spent waiting on a
// run queue.
func parseSchedstat(b []byte) (time.Duration, error) {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0, fmt.Errorf("schedstat %q: want 3 fields", b)
	}
	ns, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("schedstat %q: %w", b, err)
	}
	return time.Duration(ns), nil
}

// parseStatusMemory reads VmRSS, VmHWM and RssAnon from a /proc/<pid>/status file.
func parseStatusMemory(status []byte) (procMemory, error) {
	var m procMemory
	fields := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon}
	found := 0
	s := bufio.NewScanner(bytes.NewReader(status))
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), ":")
		field := fields[name]
		if !ok || field == nil {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("status %s %q: %w", name, value, err)
		}
		*field = kb << 10
		found++
	}
	if found != len(fields) {
		return m, fmt.Errorf("status: VmRSS, VmHWM or RssAnon missing")
	}
	return m, nil
}

// mib formats bytes as MiB with one decimal.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// usage is one process's cost over a measuring window.
type usage struct {
	// CPUPerMin is CPU seconds per minute of wall time: 60 is one core kept busy.
	CPUPerMin float64
	// WaitedPerMin is seconds per minute its threads spent runnable, waiting for a CPU.
	WaitedPerMin float64
	procMemory           // at the window's end
	PeakAnon     int64   // the most RssAnon seen during the window
	Cores        []Point // CPU in cores between samples, X in seconds from the window's start
}

// meter reads the named processes every step for d (or until ctx ends) and returns what
// each cost over that time.
func meter(ctx context.Context, pids map[string]int, d, step time.Duration) (map[string]usage, error) {
	first, err := readAll(pids)
	if err != nil {
		return nil, err
	}
	prev, out := first, map[string]usage{}
	t := time.NewTicker(step)
	defer t.Stop()
	for end := time.Now().Add(d); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		cur, err := readAll(pids)
		if err != nil {
			return nil, err
		}
		for name, c := range cur {
			p, u := prev[name], out[name]
			u.Cores = append(u.Cores, Point{X: c.At.Sub(first[name].At).Seconds(), Y: (c.CPU - p.CPU).Seconds() / c.At.Sub(p.At).Seconds()})
			minutes := c.At.Sub(first[name].At).Minutes()
			u.CPUPerMin = (c.CPU - first[name].CPU).Seconds() / minutes
			u.WaitedPerMin = (c.Waited - first[name].Waited).Seconds() / minutes
			u.procMemory, u.PeakAnon = c.procMemory, max(u.PeakAnon, c.Anon)
			out[name] = u
		}
		prev = cur
	}
	return out, nil
}

func readAll(pids map[string]int) (map[string]procUsage, error) {
	out := make(map[string]procUsage, len(pids))
	for name, pid := range pids {
		u, err := readProc(pid)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out[name] = u
	}
	return out, nil
}

// loadAverage is the machine's load average over the last minute, from /proc/loadavg: how
// many threads wanted a CPU, on average; above the CPU count, processes waited for one.
func loadAverage() (float64, error) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, fmt.Errorf("loadavg %q: empty", b)
	}
	return strconv.ParseFloat(f[0], 64)
}
