package action

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	clocktesting "k8s.io/utils/clock/testing"

	"ebb.dev/schemas/msg"
)

// sender collects what it is asked to publish; a pure unit seam, the bus itself is exercised by
// the cluster tests in test/actuator.
type sender chan msg.Message

func (s sender) Publish(_ context.Context, m msg.Message) error { s <- m; return nil }

func TestPublisherRecord(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ref := msg.ObjectRef{Namespace: "shop", Kind: msg.ScaledObject, Name: "orders"}
	tests := map[string]struct {
		in   msg.Action
		err  error
		want msg.Action
	}{
		"success is ok, dated now": {
			in:   msg.Action{Object: ref, Operation: msg.OpScale, From: msg.Count(0), To: msg.Count(1)},
			want: msg.Action{Object: ref, Operation: msg.OpScale, From: msg.Count(0), To: msg.Count(1), Result: msg.ResultOK, At: at},
		},
		"an error fails it with the message": {
			in:   msg.Action{Object: ref, Operation: msg.OpHPACreate},
			err:  errors.New("create HPA shop/keda-hpa-orders: forbidden"),
			want: msg.Action{Object: ref, Operation: msg.OpHPACreate, Result: msg.ResultFailed, Error: "create HPA shop/keda-hpa-orders: forbidden", At: at},
		},
		"a given time is kept": {
			in:   msg.Action{Object: ref, Operation: msg.OpStatus, At: at.Add(-time.Minute)},
			want: msg.Action{Object: ref, Operation: msg.OpStatus, Result: msg.ResultOK, At: at.Add(-time.Minute)},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			out := make(sender, 1)
			p := NewPublisher(out, slog.New(slog.DiscardHandler))
			p.clock = clocktesting.NewFakePassiveClock(at)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			go p.Start(ctx)
			p.Record(tc.in, tc.err)
			select {
			case got := <-out:
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("published (-want +got):\n%s", diff)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("nothing published")
			}
		})
	}
}

func TestPublisherNeverBlocks(t *testing.T) {
	p := NewPublisher(make(sender), slog.New(slog.DiscardHandler)) // never started: nothing drains it
	done := make(chan struct{})
	go func() {
		for range Buffer + 10 {
			p.Record(msg.Action{Operation: msg.OpScale}, nil)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Record blocked on a full buffer")
	}
}
