package poller_test

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"ebb.dev/bus"
	"ebb.dev/bus/bustest"
	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/services/poller"
	"ebb.dev/services/poller/pollertest"
	"ebb.dev/services/poller/resolve/resolvetest"
)

// BenchmarkPoll10000Triggers runs one replica over 10,000 triggers (1,000 objects of ten,
// half of them with a TriggerAuthentication backed by a Secret) at a 1 s interval against an
// in-process source, publishing every reading to an embedded bus. One iteration is one round:
// 10,000 polls. It reports the polls per second achieved, the process CPU per poll (the
// embedded bus's work included) and the memory and goroutines per trigger.
func BenchmarkPoll10000Triggers(b *testing.B) {
	const objects, perObject = 1000, 10
	const n = objects * perObject
	bb := bustest.Start(b)
	cl := &resolvetest.Cluster{}
	cl.PutSecret(ns, "mq", map[string]string{"username": "app", "password": "s3cret"})
	cl.PutTriggerAuthentication(ns, "mq", v1alpha1.TriggerAuthenticationSpec{SecretTargetRef: []v1alpha1.AuthSecretTargetRef{
		{Parameter: "username", Name: "mq", Key: "username"}, {Parameter: "password", Name: "mq", Key: "password"},
	}})
	src := pollertest.Constant(3, "rabbitmq")
	ctx, cancel := context.WithCancel(context.Background())
	deps := poller.Deps{Bus: bb.Connect(b, bus.RolePoller), Scalers: src}
	p, err := poller.Start(ctx, poller.Config{ID: "bench"}, deps, cl.Resolver("ebb-system"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { cancel(); p.Wait() }()

	heap0, goroutines0 := memory()
	for i := range objects {
		var ts []v1alpha1.ScaleTriggers
		for j := range perObject {
			tr := rabbit(fmt.Sprintf("q%d", j))
			if j%2 == 0 {
				tr.AuthenticationRef = &v1alpha1.AuthenticationRef{Name: "mq"}
			}
			ts = append(ts, tr)
		}
		p.Set(ctx, scaledObject(fmt.Sprintf("app-%04d", i), 1, 1, ts...))
	}
	waitReads(b, src, n, 30*time.Second) // the first round: every worker started and published
	heap1, goroutines1 := memory()

	b.ResetTimer()
	reads0, cpu0, t0 := src.Reads.Load(), cpuTime(), time.Now()
	for b.Loop() {
		waitReads(b, src, src.Reads.Load()+n, 30*time.Second)
	}
	reads, cpu, elapsed := src.Reads.Load()-reads0, cpuTime()-cpu0, time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(reads)/elapsed.Seconds(), "polls/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(reads), "cpu-µs/poll")
	b.ReportMetric(float64(cpu)/float64(elapsed)*100, "cpu-%")
	b.ReportMetric(float64(heap1-heap0)/n, "B/trigger")
	b.ReportMetric(float64(goroutines1-goroutines0)/n, "goroutines/trigger")
}

func waitReads(b *testing.B, src *pollertest.Source, want int64, within time.Duration) {
	deadline := time.Now().Add(within)
	for src.Reads.Load() < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d reads after %v, want %d", src.Reads.Load(), within, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// memory is the live heap plus goroutine stacks after a collection, and the goroutine count.
func memory() (uint64, int) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse, runtime.NumGoroutine()
}

// cpuTime is the CPU this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
