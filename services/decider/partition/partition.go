package partition

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"k8s.io/utils/clock"

	"ebb.dev/bus"
)

// Defaults for Config.
const (
	DefaultPartitions = 64
	DefaultTTL        = 6 * time.Second
)

// Config says which group a replica joins, as whom, and how the key space is cut.
type Config struct {
	// Group prefixes every key this package writes: <group>.member.<id> and <group>.lease.<n>.
	Group string
	// ID is this replica, unique within the group (the pod name).
	ID string
	// Partitions is how many leases the key space is cut into; every replica of a group must
	// use the same number. Default DefaultPartitions.
	Partitions int
	// TTL is how long a silent member or lease is trusted: the longest a dead replica keeps
	// its keys. Renewals go out every TTL/4. Default DefaultTTL.
	TTL time.Duration
	// Clock defaults to the real clock.
	Clock clock.WithTicker
	// Log defaults to discarding.
	Log *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.TTL == 0 {
		c.TTL = DefaultTTL
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every setting Join would refuse, naming the field.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if !token(c.Group) {
		errs = append(errs, fmt.Errorf("group %q: want letters, digits, '-' or '_'", c.Group))
	}
	if !token(c.ID) {
		errs = append(errs, fmt.Errorf("id %q: want letters, digits, '-' or '_'", c.ID))
	}
	if c.Partitions < 1 || c.Partitions > 4096 {
		errs = append(errs, fmt.Errorf("partitions %d: want 1 to 4096", c.Partitions))
	}
	if c.TTL < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("ttl %s: want at least 100ms", c.TTL))
	}
	return errors.Join(errs...)
}

func token(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Of returns the partition of key among n partitions.
func Of(key string, n int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % uint32(n))
}

// observed is a key as this replica saw it: a member's heartbeat or a lease.
type observed struct {
	value string // a member's nonce; a lease's holder "<id> <nonce>", "" while it is free
	rev   uint64
	seen  time.Time // when this replica first saw rev (or the lease free)
}

// lease is a partition this replica holds.
type lease struct {
	rev   uint64
	until time.Time // trusted until then (3/4 TTL after the last successful renewal was sent)
}

// Set is this replica's share of the partitions. Create it with Join.
type Set struct {
	kv    jetstream.KeyValue
	cfg   Config
	nonce string // tells this process's keys from another process's with the same ID

	mu      sync.Mutex
	members map[string]observed // by member ID
	leases  []observed          // by partition, as last seen in the bucket
	held    map[int]*lease
	guards  []sync.RWMutex // one per partition: Guard read-locks, release write-locks
	changed chan struct{}  // closed and replaced whenever held changes

	done chan struct{}
}

// Join announces this replica in kv, learns the group's members and leases, and keeps acting
// on them until ctx ends; then it releases its leases and its member key.
func Join(ctx context.Context, kv jetstream.KeyValue, cfg Config) (*Set, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("join %s: %w", cfg.Group, err)
	}
	s := &Set{
		kv: kv, cfg: cfg, nonce: rand.Text(),
		members: map[string]observed{}, leases: make([]observed, cfg.Partitions), held: map[int]*lease{},
		guards: make([]sync.RWMutex, cfg.Partitions), changed: make(chan struct{}), done: make(chan struct{}),
	}
	now := cfg.Clock.Now()
	for p := range s.leases {
		s.leases[p].seen = now
	}
	if err := s.heartbeat(ctx); err != nil {
		return nil, fmt.Errorf("join %s: %w", cfg.Group, err)
	}
	w, err := s.watch(ctx)
	if err != nil {
		return nil, fmt.Errorf("join %s: %w", cfg.Group, err)
	}
	go s.run(ctx, w)
	return s, nil
}

// Partition returns the partition of key in this group.
func (s *Set) Partition(key string) int { return Of(key, s.cfg.Partitions) }

// Owns reports whether this replica holds key's partition now.
func (s *Set) Owns(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.valid(s.Partition(key))
}

// valid reports whether partition p is held and trusted; s.mu is held.
func (s *Set) valid(p int) bool {
	l, ok := s.held[p]
	return ok && s.cfg.Clock.Now().Before(l.until)
}

// Guard runs fn when this replica holds key's partition, and keeps the partition from being
// released on purpose until fn returns. It reports whether fn ran. The context fn gets ends
// when this replica's trust in the lease would run out without a further renewal: a lease
// that lapses (renewals failing, say the bus is unreachable) is not waited for, so what fn
// does with that context must stop by then.
func (s *Set) Guard(ctx context.Context, key string, fn func(ctx context.Context)) bool {
	p := s.Partition(key)
	g := &s.guards[p]
	g.RLock()
	defer g.RUnlock()
	s.mu.Lock()
	ok := s.valid(p)
	var left time.Duration
	if ok {
		left = s.held[p].until.Sub(s.cfg.Clock.Now())
	}
	s.mu.Unlock()
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	fn(ctx)
	return true
}

// Held lists the partitions this replica holds and trusts now, sorted.
func (s *Set) Held() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for p := range s.held {
		if s.valid(p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Members lists the members this replica believes alive, sorted.
func (s *Set) Members() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.alive()
}

// Changed is closed at the next change of Held (a lease gained, released, lost or lapsed).
// Take it before reading Held so no change is missed.
func (s *Set) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Done is closed once the replica has left the group.
func (s *Set) Done() <-chan struct{} { return s.done }

// TTL is the configured TTL: the longest a dead replica keeps its partitions, less one
// renewal period.
func (s *Set) TTL() time.Duration { return s.cfg.TTL }

func (s *Set) memberKey(id string) string { return s.cfg.Group + ".member." + id }
func (s *Set) leaseKey(p int) string      { return s.cfg.Group + ".lease." + strconv.Itoa(p) }
func (s *Set) holder() string             { return s.cfg.ID + " " + s.nonce }

// opTimeout bounds one bucket operation.
func (s *Set) opTimeout() time.Duration { return s.cfg.TTL / 4 }

func (s *Set) heartbeat(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout())
	defer cancel()
	if _, err := s.kv.PutString(ctx, s.memberKey(s.cfg.ID), s.nonce); err != nil {
		return fmt.Errorf("put %s: %w", s.memberKey(s.cfg.ID), err)
	}
	return nil
}

// watch starts a watcher on the group's keys and applies the stored ones before returning.
func (s *Set) watch(ctx context.Context) (jetstream.KeyWatcher, error) {
	return bus.WatchKeys(ctx, s.kv, s.cfg.Group+".>", s.apply)
}

// apply records one change of a watched key.
func (s *Set) apply(e jetstream.KeyValueEntry) {
	rest, ok := strings.CutPrefix(e.Key(), s.cfg.Group+".")
	if !ok {
		return
	}
	kind, name, _ := strings.Cut(rest, ".")
	put := e.Operation() == jetstream.KeyValuePut
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Clock.Now()
	switch kind {
	case "member":
		if !put {
			delete(s.members, name)
			return
		}
		if o, ok := s.members[name]; !ok || o.rev != e.Revision() {
			s.members[name] = observed{value: string(e.Value()), rev: e.Revision(), seen: now}
		}
	case "lease":
		p, err := strconv.Atoi(name)
		if err != nil || p < 0 || p >= s.cfg.Partitions {
			return
		}
		if !put {
			s.leases[p] = observed{rev: e.Revision(), seen: now}
			return
		}
		if s.leases[p].rev != e.Revision() {
			s.leases[p] = observed{value: string(e.Value()), rev: e.Revision(), seen: now}
		}
	}
}

func (s *Set) run(ctx context.Context, w jetstream.KeyWatcher) {
	defer close(s.done)
	defer s.leave(ctx)
	tick := s.cfg.Clock.NewTicker(s.cfg.TTL / 4)
	defer tick.Stop()
	s.act(ctx, true)
	for {
		var updates <-chan jetstream.KeyValueEntry
		if w != nil {
			updates = w.Updates()
		}
		select {
		case <-ctx.Done():
			if w != nil {
				_ = w.Stop()
			}
			return
		case <-tick.C():
			if err := s.heartbeat(ctx); err != nil && ctx.Err() == nil {
				s.cfg.Log.Warn("partition heartbeat failed", "error", err)
			}
			if w == nil {
				if w, _ = s.watch(ctx); w == nil && ctx.Err() == nil {
					s.cfg.Log.Warn("watch partitions failed; retrying at the next tick", "group", s.cfg.Group)
				}
			}
			s.act(ctx, true)
		case e, ok := <-updates:
			switch {
			case !ok:
				w = nil
			case e != nil:
				s.apply(e)
				s.drain(w)
				s.act(ctx, false)
			}
		}
	}
}

// drain applies the updates already waiting, so a burst of changes is acted on once.
func (s *Set) drain(w jetstream.KeyWatcher) {
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok || e == nil {
				return
			}
			s.apply(e)
		default:
			return
		}
	}
}

// act releases the partitions another member should hold, renews the rest (on a tick), takes
// the free or abandoned partitions this replica should hold, and forgets dead members.
func (s *Set) act(ctx context.Context, tick bool) {
	plan := s.plan(tick)
	for _, p := range plan.release {
		s.release(ctx, p)
	}
	if tick {
		var failed []int
		var last error
		for _, p := range plan.renew {
			if err := s.renew(ctx, p); err != nil {
				failed, last = append(failed, p), err
			}
		}
		if len(failed) > 0 && ctx.Err() == nil {
			s.cfg.Log.Warn("renew partitions failed; they lapse unless a later renewal succeeds", "partitions", failed, "error", last)
		}
		for id, rev := range plan.dead {
			s.forgetMember(ctx, id, rev)
		}
	}
	for _, p := range plan.take {
		s.take(ctx, p)
	}
	s.expire()
}

type plan struct {
	release, renew, take []int
	dead                 map[string]uint64 // member keys silent for a TTL, with their revision
}

func (s *Set) plan(tick bool) plan {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Clock.Now()
	out := plan{dead: map[string]uint64{}}
	for id, o := range s.members {
		if id != s.cfg.ID && now.Sub(o.seen) >= s.cfg.TTL {
			out.dead[id] = o.rev
		}
	}
	alive := s.alive()
	for p := range s.cfg.Partitions {
		want := owner(alive, p)
		_, mine := s.held[p]
		switch {
		case mine && want != s.cfg.ID && want != "":
			out.release = append(out.release, p)
		case mine:
			out.renew = append(out.renew, p)
		case s.takeable(p, want, now):
			out.take = append(out.take, p)
		}
	}
	return out
}

// takeable: p is not held here, and is free or its holder has been silent for a TTL (then
// it is abandoned). The member that should hold it takes it at once; any member takes it once
// it has stayed free for a TTL, or abandoned for two, with nobody taking it (its rightful
// member is alive but stuck). s.mu is held.
func (s *Set) takeable(p int, want string, now time.Time) bool {
	o := s.leases[p]
	since := now.Sub(o.seen)
	if o.value == "" {
		return want == s.cfg.ID || since >= s.cfg.TTL
	}
	return since >= s.cfg.TTL && (want == s.cfg.ID || since >= 2*s.cfg.TTL)
}

// alive lists the members whose key changed within a TTL, sorted; s.mu is held.
func (s *Set) alive() []string {
	now := s.cfg.Clock.Now()
	var out []string
	for id, o := range s.members {
		if id == s.cfg.ID || now.Sub(o.seen) < s.cfg.TTL {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// take creates a free lease, or replaces an abandoned one by compare-and-set.
func (s *Set) take(ctx context.Context, p int) {
	s.mu.Lock()
	o := s.leases[p]
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout())
	defer cancel()
	sent := s.cfg.Clock.Now()
	var rev uint64
	var err error
	if o.value != "" {
		rev, err = s.kv.Update(ctx, s.leaseKey(p), []byte(s.holder()), o.rev)
	} else {
		rev, err = s.kv.Create(ctx, s.leaseKey(p), []byte(s.holder()))
	}
	if err != nil {
		// Another replica was quicker, or the lease was renewed after all: the watcher will
		// say which.
		s.cfg.Log.Debug("take partition", "partition", p, "error", err)
		return
	}
	s.hold(p, rev, sent)
	s.cfg.Log.Debug("partition taken", "partition", p, "from", o.value)
}

// renew extends a held lease; it returns the error of a renewal that may succeed later.
func (s *Set) renew(ctx context.Context, p int) error {
	s.mu.Lock()
	l := s.held[p]
	s.mu.Unlock()
	if l == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout())
	defer cancel()
	sent := s.cfg.Clock.Now()
	rev, err := s.kv.Update(ctx, s.leaseKey(p), []byte(s.holder()), l.rev)
	if err == nil {
		s.hold(p, rev, sent)
		return nil
	}
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		s.lose(p, "another replica took it")
		return nil
	}
	return fmt.Errorf("renew %s: %w", s.leaseKey(p), err)
}

// hold records a lease taken or renewed by an operation sent at sent.
func (s *Set) hold(p int, rev uint64, sent time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, had := s.held[p]
	if !had {
		l = &lease{}
		s.held[p] = l
	}
	wasValid := had && s.cfg.Clock.Now().Before(l.until)
	l.rev, l.until = rev, sent.Add(s.cfg.TTL-s.cfg.TTL/4)
	s.leases[p] = observed{value: s.holder(), rev: rev, seen: sent}
	if !wasValid {
		s.signal()
	}
}

// release stops trusting p once every Guard on it has returned, then deletes the lease so
// the member that should hold it takes it at once.
func (s *Set) release(ctx context.Context, p int) {
	g := &s.guards[p]
	g.Lock()
	s.mu.Lock()
	l := s.held[p]
	delete(s.held, p)
	s.signal()
	s.mu.Unlock()
	g.Unlock()
	if l == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opTimeout())
	defer cancel()
	if err := s.kv.Delete(ctx, s.leaseKey(p), jetstream.LastRevision(l.rev)); err != nil {
		s.cfg.Log.Debug("release partition: lease not deleted; it is taken over after the TTL", "partition", p, "error", err)
	}
}

// lose drops a lease another replica has taken.
func (s *Set) lose(p int, why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.held[p]; ok {
		delete(s.held, p)
		s.signal()
		s.cfg.Log.Warn("partition lost", "partition", p, "reason", why)
	}
}

// expire signals the leases that lapsed for want of renewal, so watchers of Changed learn it.
func (s *Set) expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Clock.Now()
	for p, l := range s.held {
		if !now.Before(l.until) {
			delete(s.held, p)
			s.signal()
			s.cfg.Log.Warn("partition lapsed: renewals failed for too long", "partition", p)
		}
	}
}

// forgetMember deletes a member key that has been silent for a TTL, unless it was renewed.
func (s *Set) forgetMember(ctx context.Context, id string, rev uint64) {
	ctx, cancel := context.WithTimeout(ctx, s.opTimeout())
	defer cancel()
	if err := s.kv.Delete(ctx, s.memberKey(id), jetstream.LastRevision(rev)); err == nil {
		s.cfg.Log.Info("member gone", "member", id)
	}
	s.mu.Lock()
	if o, ok := s.members[id]; ok && o.rev == rev {
		delete(s.members, id)
	}
	s.mu.Unlock()
}

// leave releases every lease and deletes the member key, so the others take over at once.
func (s *Set) leave(ctx context.Context) {
	s.mu.Lock()
	held := make([]int, 0, len(s.held))
	for p := range s.held {
		held = append(held, p)
	}
	s.mu.Unlock()
	for _, p := range held {
		s.release(ctx, p)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opTimeout())
	defer cancel()
	if err := s.kv.Delete(ctx, s.memberKey(s.cfg.ID)); err != nil {
		s.cfg.Log.Debug("leave: member key not deleted; it is forgotten after the TTL", "error", err)
	}
}

// signal closes changed; s.mu is held.
func (s *Set) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// owner returns the member that should hold partition p: the one whose hash with p is the
// highest (rendezvous hashing), so a member leaving moves only its own partitions.
func owner(members []string, p int) string {
	var best string
	var bestScore uint64
	for _, m := range members {
		if sc := score(m, p); best == "" || sc > bestScore {
			best, bestScore = m, sc
		}
	}
	return best
}

func score(member string, p int) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(member))
	_, _ = h.Write([]byte{0, byte(p >> 8), byte(p)})
	x := h.Sum64()
	// FNV alone clusters on inputs that differ only at the end; mix the bits.
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
