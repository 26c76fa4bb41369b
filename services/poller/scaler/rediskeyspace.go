package scaler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"ebb.dev/schemas/trigger"
)

// keyspace wakes a redis or redis-streams trigger on its key's keyspace notifications
// (channel __keyspace@<db>__:<key>). Redis sends them only when the server's
// notify-keyspace-events enables them; without, the subscription stays silent.
type keyspace struct {
	pool     *Pool
	log      *slog.Logger
	conn     trigger.RedisConn
	key      string
	classes  string // notify-keyspace-events classes that report changes to the key's types
	watchKey string // one subscription per client and key
}

func newKeyspace(d Deps, c trigger.RedisConn, clientKey, key, classes string) keyspace {
	return keyspace{pool: d.Pool, log: d.Log, conn: c, key: key, classes: classes, watchKey: Key("redis-keyspace", clientKey, key)}
}

// Wake calls fire when the key changes in a way that may add work.
func (k keyspace) Wake(ctx context.Context, fire func()) (stop func(), err error) {
	log := k.log.With("source", "redis", "address", k.conn.Addr(), "db", k.conn.DatabaseIndex, "key", k.key)
	return wakeOn(ctx, k.pool, k.watchKey, log, k.watch, fire)
}

// Quiet subscriptions are checked after pingAfter; checks wait at most checkTimeout.
const (
	pingAfter    = 30 * time.Second
	checkTimeout = 5 * time.Second
)

func (k keyspace) watch(ctx context.Context, w *watch) error {
	client, _, release, err := acquireRedis(k.pool, k.conn)
	if err != nil {
		return permanent(err)
	}
	defer release()
	if err := k.checkEvents(ctx, w.log, client); err != nil {
		return err
	}
	ps := client.Subscribe(ctx) // no channel yet: no I/O
	defer ps.Close()
	defer context.AfterFunc(ctx, func() { _ = ps.Close() })() // ends a blocked receive
	channel := fmt.Sprintf("__keyspace@%d__:%s", k.conn.DatabaseIndex, k.key)
	if err := ps.Subscribe(ctx, channel); err != nil {
		return fmt.Errorf("subscribe to keyspace notifications: %w", err)
	}
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, pingAfter)
		if isTimeout(err) && !pinged {
			pinged = true // a live server answers before the next timeout
			if err := ps.Ping(ctx); err != nil {
				return fmt.Errorf("ping: %w", err)
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("receive keyspace notifications: %w", err)
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			w.ready()
		case *redis.Message:
			if !removes(m.Payload) {
				w.notify()
			}
		}
	}
}

// checkEvents logs, clearly, when the server's notify-keyspace-events sends nothing for the
// key. It fails only when the server cannot be reached; a server that refuses CONFIG GET
// (managed services often do) is subscribed to all the same.
func (k keyspace) checkEvents(ctx context.Context, log *slog.Logger, client *redis.Client) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	got, err := client.ConfigGet(ctx, "notify-keyspace-events").Result()
	var refused redis.Error
	switch {
	case errors.As(err, &refused):
		log.Info("cannot read notify-keyspace-events; push wake-ups come only if it enables keyspace events", "error", err)
		return nil
	case err != nil:
		return fmt.Errorf("read notify-keyspace-events: %w", err)
	}
	if flags := got["notify-keyspace-events"]; !keyspaceEventsOn(flags, k.classes) {
		log.Warn("keyspace notifications are off on the server: no push wake-ups, polls keep to pollingInterval; "+
			"set notify-keyspace-events to K plus A or one of "+k.classes+" (such as KA)", "notify-keyspace-events", flags)
	}
	return nil
}

// keyspaceEventsOn reports whether notify-keyspace-events flags send keyspace notifications
// (K) for a change of one of the event classes.
func keyspaceEventsOn(flags, classes string) bool {
	return strings.Contains(flags, "K") && strings.ContainsAny(flags, "A"+classes)
}

// removes reports whether a keyspace event only takes work away; such events wake nobody.
func removes(event string) bool {
	switch event {
	case "del", "expire", "expired", "evicted", "persist", "rename_from", "move_from",
		"lpop", "rpop", "lrem", "ltrim",
		"srem", "spop",
		"zrem", "zremrangebyscore", "zremrangebyrank", "zremrangebylex", "zpopmin", "zpopmax",
		"hdel",
		"xdel", "xtrim", "xgroup-destroy", "xgroup-delconsumer":
		return true
	}
	return false
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
