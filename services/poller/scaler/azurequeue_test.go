package scaler

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/trigger"
	"ebb.dev/test/servers/azurite"
)

// azureFixture is Azurite with an admin client of its development account.
type azureFixture struct {
	srv   *azurite.Server
	admin azureService
}

func newAzureFixture(t testing.TB) azureFixture {
	t.Helper()
	srv := azurite.StartT(t)
	admin, err := newAzureService(trigger.AzureQueue{Connection: srv.ConnectionString()}, "")
	if err != nil {
		t.Fatal(err)
	}
	return azureFixture{srv: srv, admin: admin}
}

func (f azureFixture) queue(t testing.TB, name string) *azqueue.QueueClient {
	t.Helper()
	if _, err := f.admin.CreateQueue(context.Background(), name, nil); err != nil {
		t.Fatal(err)
	}
	return f.admin.NewQueueClient(name)
}

func enqueue(t testing.TB, q *azqueue.QueueClient, n int) func() {
	return func() {
		for range n {
			if _, err := q.EnqueueMessage(context.Background(), "job", nil); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// dequeue makes one message invisible for 60 s and returns a func that deletes it.
func dequeue(t testing.TB, q *azqueue.QueueClient) func() {
	out, err := q.DequeueMessage(context.Background(), &azqueue.DequeueMessageOptions{VisibilityTimeout: new(int32(60))})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("dequeue: %d messages, %v", len(out.Messages), err)
	}
	msg := out.Messages[0]
	return func() {
		if _, err := q.DeleteMessage(context.Background(), *msg.MessageID, *msg.PopReceipt, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// connection is the TriggerAuthentication of the development account.
func (f azureFixture) connection() map[string]string {
	return map[string]string{"connection": f.srv.ConnectionString()}
}

func TestAzureQueueFollowsTheQueue(t *testing.T) {
	f := newAzureFixture(t)
	tests := map[string]struct {
		queue, strategy string
		// want after: three enqueued, one dequeued (invisible), it deleted, 41 more enqueued and
		// one of them dequeued.
		enqueued, dequeued, deleted, many float64
	}{
		// The approximate count includes invisible messages.
		"all messages (the default)": {queue: "all", enqueued: 3, dequeued: 3, deleted: 2, many: 43},
		// Peeking sees visible messages only, until a full peek (42 visible > 32): then the
		// approximate count of all is read, the invisible one included.
		"visible only": {queue: "visible", strategy: "visibleonly", enqueued: 3, dequeued: 2, deleted: 2, many: 43},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			q := f.queue(t, tc.queue)
			meta := map[string]string{"queueName": tc.queue}
			if tc.strategy != "" {
				meta["queueLengthStrategy"] = tc.strategy
			}
			s := build(t, "azure-queue", meta, f.connection(), Deps{})
			var deleteIt func()
			runSteps(t, s, []step{
				{"empty", func() {}, 0},
				{"three enqueued", enqueue(t, q, 3), tc.enqueued},
				{"one dequeued", func() { deleteIt = dequeue(t, q) }, tc.dequeued},
				{"that one deleted", func() { deleteIt() }, tc.deleted},
				{"41 more, one of them dequeued", func() { enqueue(t, q, 41)(); dequeue(t, q) }, tc.many},
			})
		})
	}
}

func TestAzureQueueActivation(t *testing.T) {
	f := newAzureFixture(t)
	q := f.queue(t, "activation")
	meta := map[string]string{"queueName": "activation", "activationQueueLength": "2"}
	s, m := build(t, "azure-queue", meta, f.connection(), Deps{}), parse(t, "azure-queue", meta, f.connection())
	activeAfter(t, s, m, step{"two messages is the activation value", enqueue(t, q, 2), 2}, false)
	activeAfter(t, s, m, step{"three is above it", enqueue(t, q, 1), 3}, true)
}

func TestAzureQueueAccountKey(t *testing.T) {
	f := newAzureFixture(t)
	q := f.queue(t, "by-key")
	enqueue(t, q, 2)()
	tests := map[string]struct {
		key string
		err string
	}{
		"the account key":  {key: azurite.AccountKey},
		"a wrong key":      {key: "d3Jvbmcta2V5LXMzY3JldA==", err: "azure-queue: get properties of queue by-key: 403 AuthenticationFailed"},
		"a key not base64": {key: "s3cret!", err: "accountKey: not a base64 storage account key"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := parse(t, "azure-queue", map[string]string{"queueName": "by-key", "accountName": azurite.AccountName},
				map[string]string{"accountKey": tc.key}).(trigger.AzureQueue)
			// Azurite serves the account under a path on an IP address, not on
			// <account>.queue.<suffix>: the service URL is given here, the rest is Build's.
			s, err := newAzureQueueAt(m, f.srv.ServiceURL(), Deps{Pool: NewPool()})
			if err != nil {
				if diff := cmp.Diff(tc.err, err.Error()); diff != "" {
					t.Errorf("build (-want +got):\n%s", diff)
				}
				return
			}
			got, err := readOnce(t, s)
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Errorf("Read error (-want +got):\n%s", diff)
			}
			if err == nil && got != 2 {
				t.Errorf("Read = %v, want 2", got)
			}
		})
	}
}

func TestAzureQueueServiceURL(t *testing.T) {
	tests := map[string]struct {
		meta map[string]string
		want string
	}{
		"public cloud":        {meta: map[string]string{"queueName": "orders", "accountName": "acct"}, want: "https://acct.queue.core.windows.net/orders"},
		"US government cloud": {meta: map[string]string{"queueName": "orders", "accountName": "acct", "cloud": "AzureUSGovernmentCloud"}, want: "https://acct.queue.core.usgovcloudapi.net/orders"},
		"private cloud": {meta: map[string]string{"queueName": "orders", "accountName": "acct", "cloud": "Private", "endpointSuffix": "queue.azurestack.local"},
			want: "https://acct.queue.azurestack.local/orders"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := build(t, "azure-queue", tc.meta, map[string]string{"accountKey": azurite.AccountKey}, Deps{})
			if got := s.(*azureQueue).client.URL(); got != tc.want {
				t.Errorf("queue URL = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAzureQueueReadErrors(t *testing.T) {
	f := newAzureFixture(t)
	for _, strategy := range []string{"all", "visibleonly"} {
		t.Run(strategy, func(t *testing.T) {
			s := build(t, "azure-queue", map[string]string{"queueName": "nope", "queueLengthStrategy": strategy}, f.connection(), Deps{})
			want := map[string]string{"all": "azure-queue: get properties of queue nope: 404 QueueNotFound",
				"visibleonly": "azure-queue: peek queue nope: 404 QueueNotFound"}[strategy]
			if diff := cmp.Diff(want, readError(t, s).Error()); diff != "" {
				t.Errorf("Read error (-want +got):\n%s", diff)
			}
		})
	}
	_, err := Builtin().Build("azure-queue", parse(t, "azure-queue", map[string]string{"queueName": "q"},
		map[string]string{"connection": "AccountKey=s3cret"}), Deps{})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.HasPrefix(err.Error(), "build azure-queue: connection: ") {
		t.Errorf("Build with a bad connection string: %v", err)
	}
}

func TestAzureQueuePoolsByAccount(t *testing.T) {
	f := newAzureFixture(t)
	pool := NewPool()
	build(t, "azure-queue", map[string]string{"queueName": "a"}, f.connection(), Deps{Pool: pool})
	build(t, "azure-queue", map[string]string{"queueName": "b"}, f.connection(), Deps{Pool: pool})
	if pool.Len() != 1 {
		t.Errorf("two queues of one account: %d clients, want 1", pool.Len())
	}
}

func TestAzureQueueServerStops(t *testing.T) {
	f := newAzureFixture(t)
	f.queue(t, "stops")
	s := build(t, "azure-queue", map[string]string{"queueName": "stops"}, f.connection(), Deps{})
	readFailsAfterStop(t, s, f.srv.Stop, "azure-queue: get properties of queue stops: ")
}

func BenchmarkAzureQueueRead(b *testing.B) {
	f := newAzureFixture(b)
	enqueue(b, f.queue(b, "bench"), 5)()
	benchmarkRead(b, build(b, "azure-queue", map[string]string{"queueName": "bench"}, f.connection(), Deps{}), 5)
}
