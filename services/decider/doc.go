// Package decider is the decider service: it consumes readings from the bus and publishes a
// decision per ScaledObject and ScaledJob (activation, the replica target, the values the HPA
// must be served, Jobs to create). The rules live in package decide; this package owns the
// inputs, the state, the timing and the split among replicas. It writes nothing to Kubernetes.
//
// # Inputs
//
// Specs come from informers on ScaledObjects and ScaledJobs, current replicas from informers
// on Deployments and StatefulSets (a GET of /scale for other kinds), running and pending Jobs
// from informers on the Jobs labelled scaledjob.keda.sh/name and their pods (package kube).
// Every replica receives every reading and counts consecutive failures per trigger; a
// reading counts once however often it is delivered (by its observedAt). On start the last
// reading of every trigger is read from the readings bucket.
//
// # When a decision is published
//
// A ScaledObject is decided on every new reading, spec change and change of its target's
// replicas, and published when the decision differs from the last one published (replicas,
// reason, metrics, inputs' values) or a polling interval has passed since: silence means
// trouble. Without new input it is decided again at the cooldown's end (decide.Result.Next)
// and a quarter interval after each polling interval (not at it: the next reading is due
// then, and a decision racing it would publish the same thing just before the new one). A new object is not decided before all its triggers have
// been read once, or a polling interval has passed ("no reading yet" is not a failure to
// report). A ScaledJob is decided once per polling interval, and every
// decision is published: its Jobs.Create is the number of Jobs to create now, once.
// Time comes from an injected clock (WithClock).
//
// # State
//
// Per object, the decider bucket holds under state.<namespace>.<so|sj>.<name> the
// lastActiveTime, each trigger's failure count with the reading it counted up to, and when
// the last decision was published with a digest of what it said. It is written before the
// decision is published, so a replica that restarts or takes the object over resumes the
// cooldown, the failure counts and the publishing rhythm instead of starting afresh.
//
// # Several replicas
//
// Objects hash into Config.Partitions partitions (package partition). Each partition is a
// lease in the decider bucket that one replica holds and renews by compare-and-set; rendezvous
// hashing over the live replicas (each keeps a member key alive) says who should hold which,
// so adding or removing a replica moves only its share. A replica decides, saves and publishes
// for an object only inside partition.Set.Guard, which a voluntary hand-over waits for and
// whose context ends before the lease could be taken over: at any instant at most one replica
// decides an object. A replica that stops deletes its keys and its
// partitions move at once; one that dies is replaced about LeaseTTL later (default 6 s). On
// taking a partition over, a replica re-reads the state of its objects and decides them.
package decider
