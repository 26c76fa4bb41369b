package bench

import (
	"os"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := map[string]struct {
		stat    string
		want    time.Duration
		wantErr bool
	}{
		"utime and stime in ticks add up": {
			stat: "4242 (ebb) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150 25 0 0 20 0 12 0 100 0 0",
			want: 1750 * time.Millisecond,
		},
		"a command name with spaces and parentheses": {
			stat: "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 300 100 0 0 20 0 1 0 1 0 0",
			want: 4 * time.Second,
		},
		"a truncated line is an error": {stat: "7 (ebb) S 1 7", wantErr: true},
		"no command name is an error":  {stat: "garbage", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.stat))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseStatCPU = %v, %v; want %v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseStatusMemory(t *testing.T) {
	tests := map[string]struct {
		status  string
		want    procMemory
		wantErr bool
	}{
		"VmRSS, VmHWM and RssAnon in kB": {
			status: "Name:\tebb\nVmPeak:\t 900000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nRssAnon:\t    4096 kB\nRssFile:\t    6144 kB\nThreads:\t12\n",
			want:   procMemory{RSS: 10 << 20, HWM: 20 << 20, Anon: 4 << 20},
		},
		"a kernel thread has none": {status: "Name:\tkthreadd\nThreads:\t1\n", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseStatusMemory([]byte(tc.status))
			if (err != nil) != tc.wantErr || (err == nil && got != tc.want) {
				t.Errorf("parseStatusMemory = %+v, %v; want %+v, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParseSchedstat(t *testing.T) {
	got, err := parseSchedstat([]byte("340076778 587955591 1357\n"))
	if err != nil || got != 587955591*time.Nanosecond {
		t.Errorf("parseSchedstat = %v, %v; want the second field, 587.955591ms", got, err)
	}
	if _, err := parseSchedstat([]byte("12")); err == nil {
		t.Error("a one-field line parsed without error")
	}
}

// The test process itself has burnt some CPU and holds some memory by the time it asks.
func TestReadProcSelf(t *testing.T) {
	u, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.Anon <= 0 || u.RSS < u.Anon || u.HWM < u.RSS {
		t.Errorf("anonymous %d, RSS %d, peak %d: want 0 < anonymous <= RSS <= peak", u.Anon, u.RSS, u.HWM)
	}
	if u.CPU < 0 || u.Waited < 0 {
		t.Errorf("CPU %v, waited %v: want at least 0 each", u.CPU, u.Waited)
	}
}
