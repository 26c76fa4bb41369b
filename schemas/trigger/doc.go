// Package trigger declares every scaler's metadata as a struct with `trigger` tags and parses
// trigger metadata into it with one reflective parser, shared by the admission webhook and the
// poller so the two can never disagree. It holds data only: no clients, no I/O.
//
// A tag reads `trigger:"name,opt,opt=value,..."` with these options:
//
//	alias=a|b     other names accepted for the parameter (KEDA's old spellings)
//	default=v     value used when the parameter is absent
//	optional      absent is fine and leaves the zero value
//	enum=a|b      the only values accepted
//	secret        never printed, in errors or anywhere else
//	from=s|s      where the value may come from, in lookup order: meta (trigger metadata),
//	              env (metadata <name>FromEnv names a variable of the target container),
//	              auth (a TriggerAuthentication parameter); meta alone when not given
//	target        the HPA target of the trigger's metric (must be > 0)
//	activation    the activation threshold: the trigger is active above it
//
// Field types: string, bool, int, int32, int64, float64, []string (comma separated),
// map[string]string (k=v pairs, comma separated), resource.Quantity, or any type whose pointer
// implements encoding.TextUnmarshaler.
package trigger
