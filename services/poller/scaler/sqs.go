package scaler

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"ebb.dev/schemas/trigger"
)

// sqsQueue reads a queue's approximate message counts, summed as KEDA does: visible messages,
// plus in-flight ones with scaleOnInFlight, plus delayed ones with scaleOnDelayed.
type sqsQueue struct {
	client  sqsClient
	release func() error
	name    string
	attrs   []types.QueueAttributeName

	mu  sync.Mutex
	url string // the queue URL; looked up once when the trigger names the queue
}

// sqsClient is a pooled SQS client for one region, endpoint and set of credentials; closing
// it drops its idle connections.
type sqsClient struct {
	*sqs.Client
	http *http.Client
}

func (c sqsClient) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

func newSQS(m trigger.AWSSQSQueue, d Deps) (Scaler, error) {
	if m.AccessKeyID == "" || m.SecretAccessKey == "" {
		return nil, fmt.Errorf("queue %s: awsAccessKeyID and awsSecretAccessKey are required", m.QueueName())
	}
	key := Key("aws-sqs", m.AWSRegion, m.AWSEndpoint, m.AccessKeyID, m.SecretAccessKey, m.SessionToken)
	client, release, err := Acquire(d.Pool, key, func() (sqsClient, error) { return newSQSClient(m), nil })
	if err != nil {
		return nil, err
	}
	q := &sqsQueue{client: client, release: release, name: m.QueueName(),
		attrs: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}}
	if m.IsURL() {
		q.url = m.QueueURL
	}
	if m.ScaleOnInFlight {
		q.attrs = append(q.attrs, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	}
	if m.ScaleOnDelayed {
		q.attrs = append(q.attrs, types.QueueAttributeNameApproximateNumberOfMessagesDelayed)
	}
	return q, nil
}

// newSQSClient builds a client with the trigger's static credentials. It does not retry: the
// next poll is the retry, and a source that is down must fail the read within its deadline.
func newSQSClient(m trigger.AWSSQSQueue) sqsClient {
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	creds := aws.Credentials{AccessKeyID: m.AccessKeyID, SecretAccessKey: m.SecretAccessKey,
		SessionToken: m.SessionToken, Source: "TriggerAuthentication"}
	opts := sqs.Options{
		Region:      m.AWSRegion,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return creds, nil }),
		HTTPClient:  hc,
		Retryer:     aws.NopRetryer{},
	}
	if m.AWSEndpoint != "" {
		opts.BaseEndpoint = aws.String(m.AWSEndpoint)
	}
	return sqsClient{Client: sqs.New(opts), http: hc}
}

func (q *sqsQueue) Read(ctx context.Context) (float64, error) {
	url, err := q.queueURL(ctx)
	if err != nil {
		return 0, err
	}
	out, err := q.client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: q.attrs})
	if err != nil {
		return 0, fmt.Errorf("aws-sqs-queue: get attributes of queue %s: %w", q.name, err)
	}
	n, err := sumAttributes(out.Attributes, q.attrs)
	if err != nil {
		return 0, fmt.Errorf("aws-sqs-queue: queue %s: %w", q.name, err)
	}
	return n, nil
}

// queueURL is the trigger's queue URL, looked up by name on the first read that needs it.
func (q *sqsQueue) queueURL(ctx context.Context) (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.url != "" {
		return q.url, nil
	}
	out, err := q.client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: &q.name})
	if err != nil {
		return "", fmt.Errorf("aws-sqs-queue: get URL of queue %s: %w", q.name, err)
	}
	q.url = aws.ToString(out.QueueUrl)
	return q.url, nil
}

// sumAttributes adds the counts of attrs; a missing or malformed count is an error, never 0.
func sumAttributes(got map[string]string, attrs []types.QueueAttributeName) (float64, error) {
	var sum int64
	for _, a := range attrs {
		v, ok := got[string(a)]
		if !ok {
			return 0, fmt.Errorf("attribute %s missing from the response", a)
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("attribute %s is %q, not a count", a, v)
		}
		sum += n
	}
	return float64(sum), nil
}

func (q *sqsQueue) Close() error { return q.release() }
