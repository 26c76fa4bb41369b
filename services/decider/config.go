package decider

import (
	"errors"
	"fmt"
	"os"
	"time"

	"ebb.dev/bus"
	"ebb.dev/services/decider/partition"
)

// Config is what one decider replica does. Zero values mean the documented defaults.
type Config struct {
	// ID names this replica among the deciders; it must be unique among them and is the
	// decision's decider field. Default: the host name (the pod name in Kubernetes).
	ID string
	// Bus is how the replica reaches the bus, as a user of the decider role.
	Bus bus.ClientConfig
	// Kubeconfig is the path of a kubeconfig; empty means the in-cluster configuration.
	Kubeconfig string
	// Workers is how many objects are decided at once (default 4); one object is always
	// decided by the same worker, in order.
	Workers int
	// Partitions cuts the objects among the replicas (default 64); every replica must use
	// the same number.
	Partitions int
	// LeaseTTL is how long a replica that stopped renewing keeps its objects: the longest
	// a dead replica's objects go undecided (default 6 s).
	LeaseTTL time.Duration
	// Metrics count readings, decisions and their latency; default NewMetrics(nil),
	// registered nowhere.
	Metrics *Metrics
}

// Defaults for Config.
const (
	DefaultWorkers = 4
	// group names the decider's keys in its bucket: deciders.member.<id>, deciders.lease.<n>.
	group = "deciders"
)

func (c Config) withDefaults() Config {
	if c.ID == "" {
		c.ID, _ = os.Hostname()
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Partitions == 0 {
		c.Partitions = partition.DefaultPartitions
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = partition.DefaultTTL
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
	return c
}

// Validate reports every setting Run would refuse, naming the field.
func (c Config) Validate() error { return c.validate(true) }

// validate checks Bus only when Run dials it itself.
func (c Config) validate(dial bool) error {
	c = c.withDefaults()
	var errs []error
	if err := c.partition().Validate(); err != nil {
		errs = append(errs, fmt.Errorf("id, partitions or leaseTTL: %w", err))
	}
	if dial {
		errs = append(errs, c.validateBus()...)
	}
	if c.Workers < 1 || c.Workers > 256 {
		errs = append(errs, fmt.Errorf("workers %d: want 1 to 256", c.Workers))
	}
	if len(errs) > 0 {
		return fmt.Errorf("decider config: %w", errors.Join(errs...))
	}
	return nil
}

func (c Config) validateBus() []error {
	var errs []error
	if c.Bus.URL == "" {
		errs = append(errs, errors.New("bus.url: must be set"))
	}
	if c.Bus.User == "" {
		errs = append(errs, errors.New("bus.user: must be set"))
	}
	if err := c.Bus.Prefix.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("bus.prefix: %w", err))
	}
	return errs
}

func (c Config) partition() partition.Config {
	return partition.Config{Group: group, ID: c.ID, Partitions: c.Partitions, TTL: c.LeaseTTL}
}
