package scaler

import (
	"context"
	"io"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	redisserver "ebb.dev/test/servers/redis"
)

// redisAdmin is a client of a test's server for setting data up, in database db.
func redisAdmin(t testing.TB, addr string, db int, password string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, DB: db, Password: password, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// must fails the test on a command's error.
func must(t testing.TB, cmd redis.Cmder) {
	t.Helper()
	if err := cmd.Err(); err != nil {
		t.Fatalf("%v: %v", cmd.Args(), err)
	}
}

func TestRedisFollowsLengths(t *testing.T) {
	srv := redisserver.StartT(t, redisserver.Options{})
	ctx := context.Background()
	db0, db3 := redisAdmin(t, srv.Addr(), 0, ""), redisAdmin(t, srv.Addr(), 3, "")
	tests := map[string]struct {
		key   string
		db    string
		steps func(c *redis.Client) []step
	}{
		"list": {key: "jobs", steps: func(c *redis.Client) []step {
			return []step{
				{"missing key", func() {}, 0},
				{"three pushed", func() { must(t, c.RPush(ctx, "jobs", "a", "b", "c")) }, 3},
				{"one popped", func() { must(t, c.LPop(ctx, "jobs")) }, 2},
				{"emptied", func() { must(t, c.LPop(ctx, "jobs")); must(t, c.LPop(ctx, "jobs")) }, 0},
			}
		}},
		"set": {key: "members", steps: func(c *redis.Client) []step {
			return []step{{"two added", func() { must(t, c.SAdd(ctx, "members", "a", "b", "a")) }, 2}}
		}},
		"sorted set": {key: "delayed", steps: func(c *redis.Client) []step {
			return []step{
				{"three added", func() {
					must(t, c.ZAdd(ctx, "delayed", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2, Member: "b"}, redis.Z{Score: 3, Member: "c"}))
				}, 3},
				{"one removed", func() { must(t, c.ZRem(ctx, "delayed", "b")) }, 2},
			}
		}},
		"hash": {key: "inflight", steps: func(c *redis.Client) []step {
			return []step{{"four fields", func() { must(t, c.HSet(ctx, "inflight", "a", 1, "b", 2, "c", 3, "d", 4)) }, 4}}
		}},
		"list in database 3": {key: "jobs", db: "3", steps: func(c *redis.Client) []step {
			return []step{
				{"pushed to database 0 only", func() { must(t, db0.RPush(ctx, "jobs", "x")) }, 0},
				{"pushed to database 3", func() { must(t, db3.RPush(ctx, "jobs", "a", "b", "c", "d", "e")) }, 5},
			}
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			must(t, db0.FlushAll(ctx))
			meta := map[string]string{"address": srv.Addr(), "listName": tc.key}
			admin := db0
			if tc.db != "" {
				meta["databaseIndex"] = tc.db
				admin = db3
			}
			runSteps(t, build(t, "redis", meta, nil, Deps{}), tc.steps(admin))
		})
	}
	t.Run("activation at the boundary", func(t *testing.T) {
		must(t, db0.FlushAll(ctx))
		meta := map[string]string{"address": srv.Addr(), "listName": "jobs", "activationListLength": "2"}
		s, m := build(t, "redis", meta, nil, Deps{}), parse(t, "redis", meta, nil)
		activeAfter(t, s, m, step{"two items", func() { must(t, db0.RPush(ctx, "jobs", "a", "b")) }, 2}, false)
		activeAfter(t, s, m, step{"three items", func() { must(t, db0.RPush(ctx, "jobs", "c")) }, 3}, true)
	})
	t.Run("a key of another type", func(t *testing.T) {
		must(t, db0.Set(ctx, "plain", "v", 0))
		s := build(t, "redis", map[string]string{"address": srv.Addr(), "listName": "plain"}, nil, Deps{})
		wantReadErr(t, s, `redis: length of "plain": WRONGTYPE key holds a string, want a list, set, sorted set or hash`)
	})
	t.Run("server stopped", func(t *testing.T) {
		must(t, db0.FlushAll(ctx))
		must(t, db0.RPush(ctx, "jobs", "a"))
		s := build(t, "redis", map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(srv.Port), "listName": "jobs"}, nil, Deps{})
		runSteps(t, s, []step{{"before", func() {}, 1}})
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
		wantReadErr(t, s, `redis: length of "jobs": `, "connection refused")
	})
}

func TestRedisCredentials(t *testing.T) {
	pki := newTestPKI(t)
	srv := redisserver.StartT(t, redisserver.Options{
		Password: "default-pw",
		Users:    map[string]string{"ebb": "s3cret"},
		TLS:      &redisserver.TLS{CA: pki.CA, Cert: pki.ServerCert, Key: pki.ServerKey, ClientCerts: true},
	})
	must(t, redisAdmin(t, srv.Addr(), 0, "default-pw").RPush(context.Background(), "jobs", "a", "b"))
	tlsAuth := map[string]string{"tls": "enable", "ca": string(pki.CA), "cert": string(pki.ClientCert), "key": string(pki.ClientKey),
		"username": "ebb", "password": "s3cret"}
	tests := map[string]struct {
		meta, auth map[string]string
		err        string // empty: Read returns 2
	}{
		"default user's password from the TriggerAuthentication": {auth: map[string]string{"password": "default-pw"}},
		"ACL user from the TriggerAuthentication":                {auth: map[string]string{"username": "ebb", "password": "s3cret"}},
		"no password":    {err: "NOAUTH Authentication required."},
		"wrong password": {auth: map[string]string{"username": "ebb", "password": "nope"}, err: "WRONGPASS invalid username-password pair"},
		"password in metadata is not used": {
			meta: map[string]string{"password": "default-pw"}, err: "NOAUTH Authentication required.",
		},
		"tls with a client certificate": {meta: map[string]string{"address": srv.TLSAddr()}, auth: tlsAuth},
		"tls with an encrypted key": {meta: map[string]string{"address": srv.TLSAddr()}, auth: merge(tlsAuth, map[string]string{
			"key": string(pki.encryptedClientKey(t, "kp")), "keyPassword": "kp"})},
		"enableTLS in metadata, unsafeSsl without a CA": {
			meta: map[string]string{"address": srv.TLSAddr(), "enableTLS": "true", "unsafeSsl": "true"},
			auth: merge(tlsAuth, map[string]string{"tls": "disable", "ca": ""}),
		},
		"tls without a client certificate": {
			meta: map[string]string{"address": srv.TLSAddr()}, auth: map[string]string{"tls": "enable", "ca": string(pki.CA), "password": "default-pw"},
			err: "remote error: tls: certificate required",
		},
		"tls without trusting the server": {
			meta: map[string]string{"address": srv.TLSAddr()}, auth: merge(tlsAuth, map[string]string{"ca": ""}),
			err: "x509: certificate signed by unknown authority",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			meta := merge(map[string]string{"address": srv.Addr(), "listName": "jobs"}, tc.meta)
			s := build(t, "redis", meta, tc.auth, Deps{})
			if tc.err != "" {
				wantReadErr(t, s, tc.err)
				return
			}
			runSteps(t, s, []step{{"read", func() {}, 2}})
		})
	}
}

// merge is a copy of base with over's entries set, an empty value deleting the key.
func merge(base, over map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		if v == "" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// TestRedisSharesClients checks triggers on one server, user, password and database share one
// pooled client, redis-streams triggers included, and a different database gets its own.
func TestRedisSharesClients(t *testing.T) {
	srv := redisserver.StartT(t, redisserver.Options{})
	pool := NewPool()
	r := Builtin()
	var scalers []Scaler
	for _, tr := range []struct {
		kind string
		meta map[string]string
	}{
		{"redis", map[string]string{"address": srv.Addr(), "listName": "a"}},
		{"redis", map[string]string{"host": "127.0.0.1", "port": strconv.Itoa(srv.Port), "listName": "b"}},
		{"redis-streams", map[string]string{"address": srv.Addr(), "stream": "s"}},
		{"redis", map[string]string{"address": srv.Addr(), "listName": "a", "databaseIndex": "1"}},
	} {
		s, err := r.Build(tr.kind, parse(t, tr.kind, tr.meta, nil), Deps{Pool: pool})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readOnce(t, s); err != nil {
			t.Fatal(err)
		}
		scalers = append(scalers, s)
	}
	if n := pool.Len(); n != 2 {
		t.Errorf("pool holds %d clients for two databases, want 2", n)
	}
	for _, s := range scalers {
		if err := s.(io.Closer).Close(); err != nil {
			t.Fatal(err)
		}
	}
	if n := pool.Len(); n != 0 {
		t.Errorf("pool holds %d clients after every scaler closed, want 0", n)
	}
}

func BenchmarkRedisRead(b *testing.B) {
	srv := redisserver.StartT(b, redisserver.Options{})
	must(b, redisAdmin(b, srv.Addr(), 0, "").RPush(context.Background(), "jobs", "a", "b", "c"))
	benchmarkRead(b, build(b, "redis", map[string]string{"address": srv.Addr(), "listName": "jobs"}, nil, Deps{}), 3)
}
