package bench

// Scenarios lists every scenario in the order a report shows them: the micro benchmarks
// first, then the scenarios that run ebb on a local control plane. A new scenario is added
// here.
func Scenarios() []Scenario {
	return []Scenario{
		Micro(),
		Reaction(),
		Scale(),
		Sharding(),
	}
}
