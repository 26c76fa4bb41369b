package bench

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"time"
)

// Design targets of issue 10 that the scale scenario measures.
const (
	targetCPUPerMin      = 60.0 // CPU seconds per minute: one core
	targetMemory         = 500 << 20
	targetReadingToDec   = 5 * time.Millisecond
	targetMetricsAPIInPr = time.Millisecond
)

func scaleSection(env Env, plan scalePlan, steps []scaleStep, in inProcessMetrics) Section {
	sec := Section{
		Title: "Scale: CPU, memory and latency by number of ScaledObjects",
		Intro: fmt.Sprintf("ScaledObjects with one metrics-api trigger each (pollingInterval %s) on a loopback HTTP source whose value changes at every poll, "+
			"so every reading brings a decision; every %dth object is active (value 10–89 against a target of %d, so one replica), the others read under the activation threshold. "+
			"Each has its own Deployment at 0 replicas. The local control plane runs without kube-controller-manager and the actuator with -manage-hpa=false, so no HPAs: "+
			"they would only measure kube-controller-manager. Each service is its own process, the bus with a password per role. "+
			"After the fleet settles (every object read, decided and reconciled), CPU and memory come from /proc over a %s window; readings and decisions are counted by a tap on the bus, "+
			"which also times reading→decision (a reading's arrival to the arrival of the first decision that used it). metrics-api is then asked %d times, %d at once, "+
			"for random objects' metric through the API server's aggregation layer.",
			fleetInterval, activeEvery, fleetTarget, plan.window, plan.requests, plan.concurrency),
	}
	if len(steps) == 0 {
		return sec
	}
	sec.Tables = []Table{setupTable(steps), usageTable(steps), memoryTable(steps), throughputTable(steps)}
	sec.Charts = scaleCharts(steps)
	sec.Targets = scaleTargets(steps[len(steps)-1], in)
	sec.Notes = scaleNotes(env, steps, in)
	return sec
}

func setupTable(steps []scaleStep) Table {
	t := Table{Columns: []string{"objects", "Deployments created in", "ScaledObjects created in", "settled after", "HPAs"}}
	from := 0
	for _, st := range steps {
		n := st.size - from
		t.Rows = append(t.Rows, []string{strconv.Itoa(st.size),
			fmt.Sprintf("%s (%.0f/s)", Seconds(st.deployments), float64(n)/st.deployments.Seconds()),
			fmt.Sprintf("%s (%.0f/s)", Seconds(st.objects), float64(n)/st.objects.Seconds()),
			Seconds(st.settled), strconv.Itoa(st.hpas)})
		from = st.size
	}
	return t
}

func usageTable(steps []scaleStep) Table {
	t := Table{Columns: []string{"objects", "service", "CPU s/min", "waited for a CPU s/min", "peak RSS (VmHWM)", "RSS at the end", "of it anonymous (peak in the window)"}}
	row := func(size int, name string, u usage) []string {
		return []string{strconv.Itoa(size), name, fmt.Sprintf("%.2f", u.CPUPerMin), fmt.Sprintf("%.2f", u.WaitedPerMin),
			mib(u.HWM), mib(u.RSS), fmt.Sprintf("%s (%s)", mib(u.Anon), mib(u.PeakAnon))}
	}
	for _, st := range steps {
		for _, name := range fleetServices {
			t.Rows = append(t.Rows, row(st.size, name, st.usage[name]))
		}
		t.Rows = append(t.Rows, row(st.size, "all services", total(st.usage)))
	}
	return t
}

// memoryTable splits each Go service's anonymous memory as its runtime reports it.
func memoryTable(steps []scaleStep) Table {
	t := Table{Columns: []string{"objects", "service", "anonymous RSS", "Go heap in use", "goroutine stacks", "goroutines", "next GC at"}}
	for _, st := range steps {
		for _, name := range fleetServices {
			g, ok := st.runtime[name]
			if !ok {
				continue
			}
			t.Rows = append(t.Rows, []string{strconv.Itoa(st.size), name, mib(st.usage[name].Anon), mib(int64(g.HeapInuse)),
				mib(int64(g.StackInuse)), fmt.Sprintf("%.0f", g.Goroutines), mib(int64(g.NextGC))})
		}
	}
	return t
}

func throughputTable(steps []scaleStep) Table {
	t := Table{Columns: []string{"objects", "readings/s (expected)", "decisions/s (of them unprompted)", "reading→decision p50 / p99 / max (n)",
		"of it until decidedAt p50 / p99", "source GETs/s", "metrics-api via aggregator p50 / p99", "load average"}}
	for _, st := range steps {
		secs := st.win.end.Sub(st.win.start).Seconds()
		lat := Summarize(st.win.latencies)
		sorted := slices.Sorted(slices.Values(st.win.latencies))
		toDecide := slices.Sorted(slices.Values(st.win.toDecide))
		agg := "not measured"
		if st.aggregatorErr != nil {
			agg = "failed: " + st.aggregatorErr.Error()
		} else if len(st.aggregator) > 0 {
			as := slices.Sorted(slices.Values(st.aggregator))
			agg = fmt.Sprintf("%s / %s (%d requests)", dur(Percentile(as, 50)), dur(Percentile(as, 99)), len(as))
		}
		t.Rows = append(t.Rows, []string{strconv.Itoa(st.size),
			fmt.Sprintf("%.1f (%.1f)", float64(st.win.readings)/secs, float64(st.size)/fleetInterval.Seconds()),
			fmt.Sprintf("%.1f (%.1f)", float64(st.win.decisions)/secs, float64(st.win.unprompted)/secs),
			fmt.Sprintf("%s / %s / %s (%d)", dur(lat.Median), dur(Percentile(sorted, 99)), dur(lat.Max), lat.N),
			dur(Percentile(toDecide, 50)) + " / " + dur(Percentile(toDecide, 99)),
			fmt.Sprintf("%.1f", float64(st.sourceRequests)/secs), agg, fmt.Sprintf("%.1f", st.load)})
	}
	return t
}

// dur shows a duration in the unit that keeps three or four digits.
func dur(d time.Duration) string { return nsString(float64(d)) }

func scaleCharts(steps []scaleStep) []Chart {
	last := steps[len(steps)-1]
	cpu := Chart{Name: "scale-cpu", Title: fmt.Sprintf("CPU per service over the steady window, %d ScaledObjects", last.size),
		XLabel: "seconds into the window", YLabel: "CPU (cores)"}
	for _, name := range fleetServices {
		cpu.Series = append(cpu.Series, Series{Name: name, Points: last.usage[name].Cores})
	}
	charts := []Chart{cpu}
	if len(steps) > 1 {
		by := Chart{Name: "scale-by-size", Title: "CPU per service by number of ScaledObjects", XLabel: "ScaledObjects", YLabel: "CPU seconds per minute"}
		for _, name := range append(slices.Clone(fleetServices), "all services") {
			s := Series{Name: name}
			for _, st := range steps {
				u, ok := st.usage[name]
				if !ok {
					u = total(st.usage)
				}
				s.Points = append(s.Points, Point{X: float64(st.size), Y: u.CPUPerMin})
			}
			by.Series = append(by.Series, s)
		}
		charts = append(charts, by)
	}
	return charts
}

func scaleTargets(st scaleStep, in inProcessMetrics) []Target {
	at := fmt.Sprintf(" (%d ScaledObjects)", st.size)
	tot := total(st.usage)
	var out []Target
	add := func(name, want, got string, met bool, miss string) {
		tg := Target{Name: name, Want: want, Got: got, Met: met}
		if !met {
			tg.Miss = miss
		}
		out = append(out, tg)
	}
	add("CPU across all services"+at, "under one core (60 CPU s/min)", fmt.Sprintf("%.2f CPU s/min", tot.CPUPerMin),
		tot.CPUPerMin < targetCPUPerMin, fmt.Sprintf("by %.2f CPU s/min", tot.CPUPerMin-targetCPUPerMin))
	add("peak memory across all services"+at, "under "+mib(targetMemory), mib(tot.HWM)+" (sum of each process's VmHWM)",
		tot.HWM < targetMemory, fmt.Sprintf("by %s; without the shared binary's pages, anonymous memory peaked at %s in the window", mib(tot.HWM-targetMemory), mib(tot.PeakAnon)))
	sorted := slices.Sorted(slices.Values(st.win.latencies))
	p99 := Percentile(sorted, 99)
	add("reading→decision p99"+at, "under "+dur(targetReadingToDec), fmt.Sprintf("%s over %d decisions", dur(p99), len(sorted)),
		len(sorted) > 0 && p99 < targetReadingToDec, "by "+dur(p99-targetReadingToDec))
	if in.err != nil {
		add("metrics-api GetExternalMetric p99 in process (10,000 held)", "under "+dur(targetMetricsAPIInPr), "not measured", false, in.err.Error())
	} else {
		add("metrics-api GetExternalMetric p99 in process (10,000 held)", "under "+dur(targetMetricsAPIInPr), dur(in.p99)+" (p50 "+dur(in.p50)+")",
			in.p99 < targetMetricsAPIInPr, "by "+dur(in.p99-targetMetricsAPIInPr))
	}
	return out
}

func scaleNotes(env Env, steps []scaleStep, in inProcessMetrics) []string {
	notes := []string{
		"Peak memory is the sum of each process's own peak (VmHWM), which includes creating and first reconciling the fleet; the processes need not peak at the same time, so the sum bounds the joint peak from above. " +
			"It also counts the pages of the one ebb binary that each of the five processes has mapped (RSS minus anonymous): shared on this machine, and shared between containers of one image on a node. " +
			"The anonymous column is each process's own heap and stacks.",
		"CPU is user + system time from /proc/<pid>/stat over the window, all threads. The control plane (etcd, kube-apiserver) is not counted: it is not ebb.",
		"metrics-api through the aggregator includes the API server: TLS, authentication, authorization and the proxy hop to metrics-api; the HPA pays the same on every sync. The in-process figure is BenchmarkGetExternalMetric/metrics=10000 (services/metrics-api/provider).",
	}
	if env.Quick {
		notes = append(notes, "Quick run: 1,000 ScaledObjects only and a shorter window; the targets are stated for 10,000.")
	}
	for _, st := range steps {
		for _, err := range st.runtimeErr {
			notes = append(notes, fmt.Sprintf("At %d objects no Go runtime figures from %v.", st.size, err))
		}
	}
	last := steps[len(steps)-1]
	notes = append(notes, busiestNote(last), unpromptedNote(last))
	if tot := total(last.usage); tot.HWM >= targetMemory {
		notes = append(notes, memoryNote(last))
	}
	if lat := slices.Sorted(slices.Values(last.win.latencies)); len(lat) > 0 && Percentile(lat, 99) >= targetReadingToDec {
		notes = append(notes, latencyNote(last))
	}
	return notes
}

// busiestNote names the process that spent the most CPU.
func busiestNote(st scaleStep) string {
	heaviest, cpu := "", -1.0
	for _, name := range fleetServices {
		if u := st.usage[name]; u.CPUPerMin > cpu {
			heaviest, cpu = name, u.CPUPerMin
		}
	}
	return fmt.Sprintf("At %d objects the busiest process was %s (%.2f CPU s/min of %.2f).", st.size, heaviest, cpu, total(st.usage).CPUPerMin)
}

// unpromptedNote accounts for decisions beyond one per reading.
func unpromptedNote(st scaleStep) string {
	return fmt.Sprintf("Of the %d decisions in the window at %d objects, %d used no new reading: the decider publishes an object again when 1¼ polling intervals pass without a new "+
		"decision (cooldown ends aside), and such a publish can fall just before a late reading, which then brings a second decision.", st.win.decisions, st.size, st.win.unprompted)
}

// memoryNote says where the anonymous memory of the largest process goes.
func memoryNote(st scaleStep) string {
	largest := ""
	for _, name := range fleetServices {
		if largest == "" || st.usage[name].Anon > st.usage[largest].Anon {
			largest = name
		}
	}
	n := fmt.Sprintf("Memory at %d objects: %s of the %s peak is the ebb binary's pages mapped by each process; the processes' own (anonymous) memory totals %s, the largest %s with %s.",
		st.size, mib(total(st.usage).RSS-total(st.usage).Anon), mib(total(st.usage).HWM), mib(total(st.usage).Anon), largest, mib(st.usage[largest].Anon))
	if g, ok := st.runtime[largest]; ok {
		n += fmt.Sprintf(" Its runtime reports %s of goroutine stacks for %.0f goroutines and %s of heap in use, with the next GC at %s: at GOGC=100 that goal is the live heap "+
			"plus as much again plus the stacks, so about %s is live and the rest garbage the collector may let pile up.",
			mib(int64(g.StackInuse)), g.Goroutines, mib(int64(g.HeapInuse)), mib(int64(g.NextGC)), mib(int64(max(0, g.NextGC-g.StackInuse)/2)))
	}
	return n
}

// latencyNote says where the reading→decision tail is spent and how busy the machine was.
func latencyNote(st scaleStep) string {
	lat := slices.Sorted(slices.Values(st.win.latencies))
	toDecide := slices.Sorted(slices.Values(st.win.toDecide))
	toArrive := slices.Sorted(slices.Values(st.win.toArrive))
	d := st.usage["decider"]
	return fmt.Sprintf("reading→decision at %d objects: p50 %s but p99 %s. Up to decidedAt (the bus to the decider, its queue and the decision) p99 is %s; "+
		"from decidedAt to the tap (saving its state, publishing, the bus) p99 %s. Meanwhile the decider's threads waited %.2f s per minute for a CPU, the bus's %.2f, "+
		"and the machine's load average was %.1f on %d CPUs.",
		st.size, dur(Percentile(lat, 50)), dur(Percentile(lat, 99)), dur(Percentile(toDecide, 99)), dur(Percentile(toArrive, 99)),
		d.WaitedPerMin, st.usage["bus"].WaitedPerMin, st.load, runtime.NumCPU())
}
