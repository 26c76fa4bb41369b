package decide

import (
	"testing"
	"time"
)

// BenchmarkReplicas is one decision of a ScaledObject with two triggers, one of them failing
// into fallback, inside its cooldown: every rule family runs.
func BenchmarkReplicas(b *testing.B) {
	p := compile(b, object(triggers(trigger("a", 5, 0), trigger("b", 10, 0)), fallback(2, 4, "")))
	in := Input{Now: now, Policy: p, Replicas: 3, LastActive: now.Add(-time.Minute),
		Readings: []Reading{{Value: 42}, {Failures: 3}}}
	b.ReportAllocs()
	for b.Loop() {
		Replicas(in)
	}
}

// BenchmarkReplicasFormula is a decision through a compiled scalingModifiers formula.
func BenchmarkReplicasFormula(b *testing.B) {
	p := compile(b, object(triggers(trigger("a", 5, 0), trigger("b", 10, 0)), modifiers("(a ?? 0) + b * 2", 10, 1)))
	in := Input{Now: now, Policy: p, Replicas: 3, LastActive: now.Add(-time.Minute),
		Readings: []Reading{{Failures: 1}, {Value: 40}}}
	b.ReportAllocs()
	for b.Loop() {
		Replicas(in)
	}
}

// BenchmarkJobs is one ScaledJob decision with two triggers summed under the accurate strategy.
func BenchmarkJobs(b *testing.B) {
	p, err := CompileJob(job(strategy(StrategyAccurate), calc(CalculationSum, trigger("a", 1, 0), trigger("b", 2, 0))))
	if err != nil {
		b.Fatal(err)
	}
	in := JobInput{Now: now, Policy: p, Running: 3, Pending: 1, Readings: values(4, 9)}
	b.ReportAllocs()
	for b.Loop() {
		Jobs(in)
	}
}

// BenchmarkReplicasFastPath is an active decision whose fast-path step is bounded by
// behavior.scaleUp, with the object's model kept across decisions as the decider keeps it
// (its history stays bounded: recommendations and events reuse slots once out of window).
func BenchmarkReplicasFastPath(b *testing.B) {
	p := compile(b, object(fast, scaleUp(30, podsPolicy(4, 15), percentPolicy(100, 15))))
	in := Input{Now: now, Policy: p, Replicas: 3, LastActive: now, Readings: values(100), ScaleUp: p.NewScaleUp()}
	b.ReportAllocs()
	for b.Loop() {
		in.Now = in.Now.Add(time.Second)
		Replicas(in)
	}
}
