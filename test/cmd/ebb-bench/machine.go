package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"ebb.dev/test/bench"
)

// machine describes this machine and the checkout, for the report's first line.
func machine(ctx context.Context, repo string) bench.Machine {
	host, _ := os.Hostname()
	return bench.Machine{
		Started: time.Now(), Host: host, CPUs: runtime.NumCPU(), Memory: memTotal(),
		Go: runtime.Version(), Commit: commit(ctx, repo),
	}
}

// memTotal is MemTotal from /proc/meminfo in GiB ("unknown" elsewhere).
func memTotal() string {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			if kb, err := strconv.ParseFloat(fields[1], 64); err == nil {
				return fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	return "unknown"
}

// commit is the checkout's HEAD, marked "+changes" when tracked files differ from it.
func commit(ctx context.Context, repo string) string {
	out, err := exec.CommandContext(ctx, "git", "-C", repo, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if exec.CommandContext(ctx, "git", "-C", repo, "diff", "--quiet", "HEAD").Run() != nil {
		c += "+changes"
	}
	return c
}
