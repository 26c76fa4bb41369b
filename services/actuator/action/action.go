package action

import (
	"context"
	"log/slog"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"ebb.dev/schemas/msg"
)

// Recorder takes note of one operation and how it ended (err nil means ok).
type Recorder interface {
	Record(a msg.Action, err error)
}

// Sender publishes one message; *bus.Conn is one.
type Sender interface {
	Publish(ctx context.Context, m msg.Message) error
}

// Buffer is how many actions wait for the bus before new ones are dropped (and logged).
const Buffer = 4096

// publishTimeout bounds one publish, retries included, so a bus outage costs actions, not a
// stuck publisher.
const publishTimeout = 10 * time.Second

// Publisher is a Recorder that publishes on the bus; run it with Start.
type Publisher struct {
	send   Sender
	queue  chan msg.Action
	clock  clock.PassiveClock
	logger *slog.Logger
}

var _ Recorder = (*Publisher)(nil)

// NewPublisher publishes through send.
func NewPublisher(send Sender, logger *slog.Logger) *Publisher {
	return &Publisher{send: send, queue: make(chan msg.Action, Buffer), clock: clock.RealClock{}, logger: logger}
}

// Record fills in the result, error and time of a and queues it without blocking.
func (p *Publisher) Record(a msg.Action, err error) {
	a.Result = msg.ResultOK
	if err != nil {
		a.Result, a.Error = msg.ResultFailed, err.Error()
	}
	if a.At.IsZero() {
		a.At = p.clock.Now()
	}
	select {
	case p.queue <- a:
	default:
		p.logger.Warn("action dropped: bus publisher is behind", "namespace", a.Object.Namespace,
			"name", a.Object.Name, "operation", a.Operation, "result", a.Result)
	}
}

// Start publishes queued actions until ctx ends.
func (p *Publisher) Start(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case a := <-p.queue:
			p.publish(ctx, a)
		}
	}
}

// NeedLeaderElection is false: every replica may have something to report.
func (p *Publisher) NeedLeaderElection() bool { return false }

func (p *Publisher) publish(ctx context.Context, a msg.Action) {
	ctx, cancel := context.WithTimeout(ctx, publishTimeout)
	defer cancel()
	if err := p.send.Publish(ctx, a); err != nil {
		p.logger.Warn("publish action", "namespace", a.Object.Namespace, "name", a.Object.Name,
			"operation", a.Operation, "error", err)
	}
}

// Ref names obj, a ScaledObject or ScaledJob, in an Action.
func Ref(kind msg.Kind, obj metav1.Object) msg.ObjectRef {
	return msg.ObjectRef{Namespace: obj.GetNamespace(), Kind: kind, Name: obj.GetName(), UID: string(obj.GetUID()), Generation: obj.GetGeneration()}
}
