package trigger

import autoscalingv2 "k8s.io/api/autoscaling/v2"

// Params is everything one trigger's parameters can come from.
type Params struct {
	// Metadata is the trigger's metadata map.
	Metadata map[string]string
	// Auth holds the parameters the referenced TriggerAuthentication resolved to.
	Auth map[string]string
	// Env holds the target container's environment, for <param>FromEnv.
	Env map[string]string
	// MetricType is the trigger's metricType; cpu and memory check it against their value.
	MetricType autoscalingv2.MetricTargetType
	// Unresolved says Env and Auth values are not known, as at admission: a parameter named by
	// <param>FromEnv counts as set, and so does a parameter whose key is in Auth (or any
	// parameter that may come from auth, when Auth is nil because the TriggerAuthentication
	// could not be read). Such values are not type-checked.
	Unresolved bool
}

// source is one place a parameter may come from.
type source string

const (
	fromMeta source = "meta"
	fromEnv  source = "env"
	fromAuth source = "auth"
)

// lookup is the outcome of searching a parameter's sources.
type lookup struct {
	value   string
	found   bool   // the parameter is set somewhere
	unknown bool   // set, but the value is not known (Unresolved)
	via     source // where it was found
	key     string // the metadata key, env variable or auth parameter it came from
	// missingEnv is the variable a <param>FromEnv named that the environment lacks.
	missingEnv string
}

// find searches the sources of f in order; the first non-empty value wins, as in KEDA.
func (p Params) find(f *fieldSpec) lookup {
	var missingEnv string
	for _, src := range f.from {
		for _, name := range f.names {
			switch src {
			case fromMeta:
				if v := p.Metadata[name]; v != "" {
					return lookup{value: v, found: true, via: fromMeta, key: name}
				}
			case fromEnv:
				envName := p.Metadata[name+"FromEnv"]
				if envName == "" {
					continue
				}
				if p.Unresolved {
					return lookup{found: true, unknown: true, via: fromEnv, key: name + "FromEnv"}
				}
				if v := p.Env[envName]; v != "" {
					return lookup{value: v, found: true, via: fromEnv, key: name + "FromEnv"}
				}
				if missingEnv == "" {
					missingEnv = name + "FromEnv"
				}
			case fromAuth:
				if p.Unresolved {
					if _, ok := p.Auth[name]; ok || p.Auth == nil {
						return lookup{found: true, unknown: true, via: fromAuth, key: name}
					}
					continue
				}
				if v := p.Auth[name]; v != "" {
					return lookup{value: v, found: true, via: fromAuth, key: name}
				}
			}
		}
	}
	return lookup{missingEnv: missingEnv}
}
