package poller

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"ebb.dev/services/poller/shard"
)

// Config is what one poller replica does. Zero values mean the documented defaults.
type Config struct {
	// ID names this replica among the pollers of its group; it must be unique there. Default:
	// the host name (the pod name in Kubernetes).
	ID string
	// Namespace is ebb's own namespace: a ClusterTriggerAuthentication reads its Secrets,
	// ConfigMaps and service accounts there. Default "ebb-system".
	Namespace string
	// Sources limits this replica to these trigger types. Replicas split the triggers only
	// with replicas of exactly the same Sources, so one Deployment per source scales alone.
	// Empty: every type except cpu and memory, which the HPA reads itself.
	Sources []string
	// Timeout bounds one poll: resolving credentials and reading the source. Default 10 s;
	// a trigger's pollingInterval caps it.
	Timeout time.Duration
	// WorkloadTTL is how long a scale target's pod template is reused for <param>FromEnv
	// (default 1 min). Secrets it references are read fresh at every poll.
	WorkloadTTL time.Duration
}

// Defaults for Config.
const (
	DefaultNamespace = "ebb-system"
	DefaultTimeout   = 10 * time.Second
)

func (c Config) withDefaults() Config {
	if c.ID == "" {
		c.ID, _ = os.Hostname()
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return c
}

// Validate reports every setting Run would refuse, naming the field.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if err := (shard.Config{Group: c.group(), ID: c.ID}).Validate(); err != nil {
		bad("id", "%v", err) // a dotted ID or source would break the pollers bucket's keys
	}
	if c.Namespace == "" {
		bad("namespace", "must be set")
	}
	for i, s := range c.Sources {
		switch {
		case s == "":
			bad(fmt.Sprintf("sources[%d]", i), "must not be empty")
		case s == "cpu" || s == "memory":
			bad(fmt.Sprintf("sources[%d]", i), "%s triggers are read by the HPA, never polled", s)
		case slices.Contains(c.Sources[:i], s):
			bad(fmt.Sprintf("sources[%d]", i), "%q is listed twice", s)
		}
	}
	if c.Timeout < 0 {
		bad("timeout", "must not be negative")
	}
	if c.WorkloadTTL < 0 {
		bad("workloadTTL", "must not be negative")
	}
	if len(errs) > 0 {
		return fmt.Errorf("poller config: %w", errors.Join(errs...))
	}
	return nil
}

// group names the replicas that split the same triggers: "all", or the sorted sources.
func (c Config) group() string {
	if len(c.Sources) == 0 {
		return "all"
	}
	s := slices.Clone(c.Sources)
	slices.Sort(s)
	return strings.Join(s, "_")
}

// handles reports whether this replica polls triggers of kind.
func (c Config) handles(kind string) bool {
	if kind == "cpu" || kind == "memory" {
		return false
	}
	return len(c.Sources) == 0 || slices.Contains(c.Sources, kind)
}
