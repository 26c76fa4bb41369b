package poller

import (
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller/scaler"
)

// Scalers is the Builder of the scalers in r. Every scaler gets d, so all triggers share d.Pool:
// one connection per source address and credentials, whatever the number of triggers.
func Scalers(r *scaler.Registry, d scaler.Deps) Builder { return registry{r: r, d: d} }

type registry struct {
	r *scaler.Registry
	d scaler.Deps
}

func (g registry) Build(kind string, m trigger.Metadata) (Reader, error) {
	return g.r.Build(kind, m, g.d)
}

func (g registry) Kinds() []string { return g.r.Kinds() }
