package scaler

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"

	"ebb.dev/schemas/trigger"
)

// redisStream reads a stream as its trigger's mode says: its length (XLEN), the pending
// entries of a consumer group (XPENDING), or the group's lag (XINFO GROUPS, Redis 7 and later).
// It wakes on the stream's keyspace notifications.
type redisStream struct {
	keyspace
	client  *redis.Client
	release func() error
	m       trigger.RedisStreams
	read    func(ctx context.Context) (int64, error)
	what    string // what read reads, for errors
	// hasLag is set once the server proved new enough to report lag.
	hasLag atomic.Bool
}

func newRedisStreams(m trigger.RedisStreams, d Deps) (Scaler, error) {
	client, clientKey, release, err := acquireRedis(d.Pool, m.RedisConn)
	if err != nil {
		return nil, err
	}
	s := &redisStream{keyspace: newKeyspace(d, m.RedisConn, clientKey, m.Stream, "t"), client: client, release: release, m: m}
	switch m.Mode() {
	case trigger.StreamModeLength:
		s.read, s.what = s.length, fmt.Sprintf("length of stream %q", m.Stream)
	case trigger.StreamModeLag:
		s.read, s.what = s.lag, fmt.Sprintf("lag of group %q on stream %q", m.ConsumerGroup, m.Stream)
	default:
		s.read, s.what = s.pending, fmt.Sprintf("pending entries of group %q on stream %q", m.ConsumerGroup, m.Stream)
	}
	return s, nil
}

func (s *redisStream) Read(ctx context.Context) (float64, error) {
	n, err := s.read(ctx)
	if err != nil {
		return 0, fmt.Errorf("redis-streams: %s: %w", s.what, err)
	}
	return float64(n), nil
}

func (s *redisStream) length(ctx context.Context) (int64, error) {
	return s.client.XLen(ctx, s.m.Stream).Result()
}

func (s *redisStream) pending(ctx context.Context) (int64, error) {
	p, err := s.client.XPending(ctx, s.m.Stream, s.m.ConsumerGroup).Result()
	if err != nil {
		return 0, err
	}
	return p.Count, nil
}

// lag is the group's lag. A group that does not exist yet has every entry of the stream
// still to read, so its lag is the stream's length: consumers that create their group on
// start can be scaled up from zero.
func (s *redisStream) lag(ctx context.Context) (int64, error) {
	if err := s.checkLagSupport(ctx); err != nil {
		return 0, err
	}
	groups, err := s.client.XInfoGroups(ctx, s.m.Stream).Result()
	if err != nil {
		return 0, err
	}
	for _, g := range groups {
		if g.Name != s.m.ConsumerGroup {
			continue
		}
		if g.Lag < 0 {
			return 0, errors.New("lag unknown to Redis: entries were deleted after the group's last delivered one")
		}
		return g.Lag, nil
	}
	return s.length(ctx)
}

// checkLagSupport fails on servers before Redis 7, whose XINFO GROUPS has no lag (the
// client would read it as 0).
func (s *redisStream) checkLagSupport(ctx context.Context) error {
	if s.hasLag.Load() {
		return nil
	}
	info, err := s.client.Info(ctx, "server").Result()
	if err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	if err := lagSupport(info); err != nil {
		return err
	}
	s.hasLag.Store(true)
	return nil
}

// lagSupport checks the redis_version an INFO reply reports is 7 or later.
func lagSupport(info string) error {
	version := infoField(info, "redis_version")
	major, _, _ := strings.Cut(version, ".")
	if n, err := strconv.Atoi(major); err != nil || n < 7 {
		return fmt.Errorf("lagCount needs Redis 7 or later, the server runs %q", version)
	}
	return nil
}

// infoField is a field's value in an INFO reply ("name:value" lines).
func infoField(info, name string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

func (s *redisStream) Close() error { return s.release() }
