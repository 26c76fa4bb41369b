package decider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// state is the objects' records in the decider bucket, under state.<msg.ObjectKey>.
type state struct{ kv jetstream.KeyValue }

func stateKey(key string) string { return "state." + key }

// load returns an object's record; the zero record when it has none.
func (s state) load(ctx context.Context, key string) (record, error) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	e, err := s.kv.Get(ctx, stateKey(key))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return record{}, nil
	}
	if err != nil {
		return record{}, fmt.Errorf("get %s: %w", stateKey(key), err)
	}
	var rec record
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return record{}, fmt.Errorf("decode %s: %w", stateKey(key), err)
	}
	return rec, nil
}

func (s state) save(ctx context.Context, key string, rec record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("encode %s: %w", stateKey(key), err)
	}
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	if _, err := s.kv.Put(ctx, stateKey(key), data); err != nil {
		return fmt.Errorf("put %s: %w", stateKey(key), err)
	}
	return nil
}

// delete drops the record of an object that is gone; a failure leaves a record that a
// new object of the same name ignores (its UID differs).
func (s state) delete(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	_ = s.kv.Purge(ctx, stateKey(key))
}
