package scaler

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/redis/go-redis/v9"

	"ebb.dev/schemas/trigger"
)

// acquireRedis returns the pool's client for a server, user, password, database and TLS
// settings, and its pool key; redis and redis-streams triggers on the same ones share it. The
// client connects on its first command.
func acquireRedis(p *Pool, c trigger.RedisConn) (client *redis.Client, key string, release func() error, err error) {
	opts := &redis.Options{
		Addr:     c.Addr(),
		Username: c.Username,
		Password: c.Password,
		DB:       int(c.DatabaseIndex),
		// Reads end at the poller's deadline, not at the client's own timeouts.
		ContextTimeoutEnabled: true,
		// CLIENT SETINFO is one more round trip per connection, and unknown before Redis 7.2.
		DisableIdentity: true,
	}
	var tlsSet tlsSettings
	if c.UseTLS() {
		tlsSet = tlsSettings{CA: c.CA, Cert: c.Cert, Key: c.Key, KeyPassword: c.KeyPassword, UnsafeSSL: c.UnsafeSSL}
		cfg, err := tlsSet.config()
		if err != nil {
			return nil, "", nil, err
		}
		cfg.ServerName, _, _ = net.SplitHostPort(opts.Addr)
		opts.TLSConfig = cfg
	}
	key = Key("redis", append([]string{opts.Addr, c.Username, c.Password, strconv.Itoa(opts.DB),
		strconv.FormatBool(c.UseTLS())}, tlsSet.parts()...)...)
	client, release, err = Acquire(p, key, func() (*redis.Client, error) { return redis.NewClient(opts), nil })
	return client, key, release, err
}

// listLength counts the members of the key whatever its type (list, set, sorted set or hash,
// as KEDA's redis scaler does) in one round trip; a missing key counts 0.
var listLength = redis.NewScript(`
local kind = redis.call('TYPE', KEYS[1]).ok
if kind == 'list' then return redis.call('LLEN', KEYS[1]) end
if kind == 'set' then return redis.call('SCARD', KEYS[1]) end
if kind == 'zset' then return redis.call('ZCARD', KEYS[1]) end
if kind == 'hash' then return redis.call('HLEN', KEYS[1]) end
if kind == 'none' then return 0 end
return redis.error_reply('WRONGTYPE key holds a ' .. kind .. ', want a list, set, sorted set or hash')
`)

// redisList reads the length of a list (or set, sorted set or hash), and wakes on the
// key's keyspace notifications.
type redisList struct {
	keyspace
	client  *redis.Client
	release func() error
	key     string
}

func newRedis(m trigger.Redis, d Deps) (Scaler, error) {
	client, clientKey, release, err := acquireRedis(d.Pool, m.RedisConn)
	if err != nil {
		return nil, err
	}
	// A list trigger counts sets, sorted sets and hashes too: their classes report changes.
	ks := newKeyspace(d, m.RedisConn, clientKey, m.ListName, "lszh")
	return &redisList{keyspace: ks, client: client, release: release, key: m.ListName}, nil
}

func (r *redisList) Read(ctx context.Context) (float64, error) {
	n, err := listLength.Run(ctx, r.client, []string{r.key}).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis: length of %q: %w", r.key, err)
	}
	return float64(n), nil
}

func (r *redisList) Close() error { return r.release() }
