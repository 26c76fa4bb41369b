package scaler

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/trigger"
	"ebb.dev/test/servers/goaws"
)

// sqsFixture is goaws with an admin client. goaws counts a received (in-flight) message in
// ApproximateNumberOfMessages as well as in ApproximateNumberOfMessagesNotVisible; SQS counts
// it in the second only. The expectations below are goaws's.
type sqsFixture struct {
	srv   *goaws.Server
	admin sqsClient

	mu    sync.Mutex
	auths []string // the Authorization and X-Amz-Security-Token headers of each request
}

func newSQSFixture(t testing.TB) *sqsFixture {
	t.Helper()
	f := &sqsFixture{}
	f.srv = goaws.StartT(t, goaws.Options{Inspect: func(r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.auths = append(f.auths, r.Header.Get("Authorization")+" token="+r.Header.Get("X-Amz-Security-Token"))
	}})
	f.admin = newSQSClient(trigger.AWSSQSQueue{AWSRegion: "us-east-1", AWSEndpoint: f.srv.Endpoint(), AccessKeyID: "admin", SecretAccessKey: "admin"})
	return f
}

// queue creates a queue and returns its URL.
func (f *sqsFixture) queue(t testing.TB, name string) string {
	t.Helper()
	out, err := f.admin.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func (f *sqsFixture) send(t testing.TB, url string, n int) func() {
	return func() {
		for range n {
			if _, err := f.admin.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: &url, MessageBody: aws.String("job")}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// receive takes one message in flight (goaws's visibility timeout is 30 s) and returns a
// func that deletes it.
func (f *sqsFixture) receive(t testing.TB, url string) func() {
	out, err := f.admin.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 1})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %d messages, %v", len(out.Messages), err)
	}
	return func() {
		if _, err := f.admin.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
}

// meta is the trigger's metadata for queue (a URL or a name) against the fixture, plus kv.
func (f *sqsFixture) meta(queue string, kv ...string) map[string]string {
	m := map[string]string{"queueURL": queue, "awsRegion": "eu-west-1", "awsEndpoint": f.srv.Endpoint()}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

var sqsKeys = map[string]string{"awsAccessKeyID": "AKIDTRIGGER", "awsSecretAccessKey": "s3cret"}

func TestSQSFollowsTheQueue(t *testing.T) {
	f := newSQSFixture(t)
	tests := map[string]struct {
		queue, inFlight string
		// want after: three sent, one received, that one deleted.
		sent, received, deleted float64
	}{
		"in flight counted (the default)": {queue: "with-in-flight", sent: 3, received: 4, deleted: 2},
		"in flight not counted":           {queue: "without-in-flight", inFlight: "false", sent: 3, received: 3, deleted: 2},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			url := f.queue(t, tc.queue)
			meta := f.meta(url)
			if tc.inFlight != "" {
				meta["scaleOnInFlight"] = tc.inFlight
			}
			s := build(t, "aws-sqs-queue", meta, sqsKeys, Deps{})
			var deleteIt func()
			runSteps(t, s, []step{
				{"empty", func() {}, 0},
				{"three sent", f.send(t, url, 3), tc.sent},
				{"one received", func() { deleteIt = f.receive(t, url) }, tc.received},
				{"that one deleted", func() { deleteIt() }, tc.deleted},
			})
		})
	}
}

func TestSQSActivation(t *testing.T) {
	f := newSQSFixture(t)
	url := f.queue(t, "activation")
	meta := f.meta(url, "activationQueueLength", "2", "scaleOnInFlight", "false")
	s, m := build(t, "aws-sqs-queue", meta, sqsKeys, Deps{}), parse(t, "aws-sqs-queue", meta, sqsKeys)
	activeAfter(t, s, m, step{"two messages is the activation value", f.send(t, url, 2), 2}, false)
	activeAfter(t, s, m, step{"three is above it", f.send(t, url, 1), 3}, true)
}

func TestSQSQueueByName(t *testing.T) {
	f := newSQSFixture(t)
	url := f.queue(t, "by-name")
	s := build(t, "aws-sqs-queue", f.meta("by-name"), sqsKeys, Deps{})
	runSteps(t, s, []step{{"two sent", f.send(t, url, 2), 2}})
	err := readError(t, build(t, "aws-sqs-queue", f.meta("no-such-queue"), sqsKeys, Deps{}))
	if want := "aws-sqs-queue: get URL of queue no-such-queue: operation error SQS: GetQueueUrl"; !strings.HasPrefix(err.Error(), want) ||
		!strings.Contains(err.Error(), "NonExistentQueue") {
		t.Errorf("Read of a missing queue by name: %v, want %q... NonExistentQueue", err, want)
	}
}

func TestSQSReadErrors(t *testing.T) {
	f := newSQSFixture(t)
	url := f.queue(t, "errors")
	f.send(t, url, 1)()
	tests := map[string]struct {
		meta map[string]string
		err  string
	}{
		// goaws reports no ApproximateNumberOfMessagesDelayed: a count it lacks is an error, not 0.
		"delayed count missing": {meta: f.meta(url, "scaleOnDelayed", "true"),
			err: "aws-sqs-queue: queue errors: attribute ApproximateNumberOfMessagesDelayed missing from the response"},
		"missing queue": {meta: f.meta(strings.Replace(url, "/errors", "/nope", 1)),
			err: "aws-sqs-queue: get attributes of queue nope: operation error SQS: GetQueueAttributes, https response error StatusCode: 400"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := readError(t, build(t, "aws-sqs-queue", tc.meta, sqsKeys, Deps{}))
			if !strings.HasPrefix(err.Error(), tc.err) {
				t.Errorf("Read error %q, want it to start %q", err, tc.err)
			}
		})
	}
}

func TestSQSCredentialsFromTheTriggerAuthentication(t *testing.T) {
	f := newSQSFixture(t)
	url := f.queue(t, "signed")
	auth := map[string]string{"awsAccessKeyID": "AKIDTRIGGER", "awsSecretAccessKey": "s3cret", "awsSessionToken": "session-token"}
	s := build(t, "aws-sqs-queue", f.meta(url), auth, Deps{})
	f.mu.Lock()
	f.auths = nil
	f.mu.Unlock()
	runSteps(t, s, []step{{"read", func() {}, 0}})
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.auths) != 1 || !strings.HasPrefix(f.auths[0], "AWS4-HMAC-SHA256 Credential=AKIDTRIGGER/") ||
		!strings.Contains(f.auths[0], "/eu-west-1/sqs/aws4_request") || !strings.HasSuffix(f.auths[0], " token=session-token") {
		t.Errorf("requests signed with %q, want one signed by AKIDTRIGGER for eu-west-1 with the session token", f.auths)
	}
	if strings.Contains(strings.Join(f.auths, " "), "s3cret") {
		t.Error("the secret key crossed the wire")
	}
	// Keys in plain metadata are not credentials: the trigger is rejected, and a scaler built
	// without keys refuses to run rather than fall back to some other identity.
	_, errs := trigger.Builtin().Parse("aws-sqs-queue", trigger.Params{Metadata: f.meta(url, "awsAccessKeyID", "AKID", "awsSecretAccessKey", "s3cret")}, triggerPath)
	if diff := cmp.Diff("spec.triggers[0].metadata.awsAccessKeyID: Required value: set TriggerAuthentication parameters awsAccessKeyID and awsSecretAccessKey (or awsAccessKeyIDFromEnv and awsSecretAccessKeyFromEnv)",
		errString(errs.ToAggregate())); diff != "" {
		t.Errorf("parse with keys in metadata (-want +got):\n%s", diff)
	}
	_, err := Builtin().Build("aws-sqs-queue", trigger.AWSSQSQueue{QueueURL: url, AWSRegion: "eu-west-1"}, Deps{})
	if diff := cmp.Diff("build aws-sqs-queue: queue signed: awsAccessKeyID and awsSecretAccessKey are required", errString(err)); diff != "" {
		t.Errorf("Build without keys (-want +got):\n%s", diff)
	}
}

func TestSQSPoolsByCredentials(t *testing.T) {
	f := newSQSFixture(t)
	pool := NewPool()
	build(t, "aws-sqs-queue", f.meta("a"), sqsKeys, Deps{Pool: pool})
	build(t, "aws-sqs-queue", f.meta("b", "queueLength", "9"), sqsKeys, Deps{Pool: pool})
	if pool.Len() != 1 {
		t.Errorf("two queues with one set of keys: %d clients, want 1", pool.Len())
	}
	build(t, "aws-sqs-queue", f.meta("a"), map[string]string{"awsAccessKeyID": "AKIDOTHER", "awsSecretAccessKey": "s3cret"}, Deps{Pool: pool})
	if pool.Len() != 2 {
		t.Errorf("other keys: %d clients, want 2", pool.Len())
	}
}

func TestSQSServerStops(t *testing.T) {
	f := newSQSFixture(t)
	s := build(t, "aws-sqs-queue", f.meta(f.queue(t, "stops")), sqsKeys, Deps{})
	readFailsAfterStop(t, s, f.srv.Stop, "aws-sqs-queue: get attributes of queue stops: ")
}

func BenchmarkSQSRead(b *testing.B) {
	f := newSQSFixture(b)
	url := f.queue(b, "bench")
	f.send(b, url, 5)()
	benchmarkRead(b, build(b, "aws-sqs-queue", f.meta(url), sqsKeys, Deps{}), 5)
}
