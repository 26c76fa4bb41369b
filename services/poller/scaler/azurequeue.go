package scaler

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"ebb.dev/schemas/trigger"
)

// peekLimit is the most messages one peek returns (the service's limit). Below it, a visibleonly
// trigger counts exactly what it saw; at it, the queue may hold more, so it falls back to the
// approximate count of all messages, as KEDA does.
const peekLimit = 32

// azureQueue reads a storage queue's approximate message count (queueLengthStrategy all), or
// its visible messages by peeking (visibleonly).
type azureQueue struct {
	client      *azqueue.QueueClient
	release     func() error
	name        string
	visibleOnly bool
}

// azureService is a pooled queue service client for one account and credential; closing it
// drops its idle connections.
type azureService struct {
	*azqueue.ServiceClient
	http *http.Client
}

func (s azureService) Close() error {
	s.http.CloseIdleConnections()
	return nil
}

func newAzureQueue(m trigger.AzureQueue, d Deps) (Scaler, error) {
	return newAzureQueueAt(m, "https://"+m.AccountName+"."+m.QueueEndpointSuffix()+"/", d)
}

// newAzureQueueAt builds the scaler; serviceURL is the account's queue service, used with
// accountName and accountKey (a connection string names its own endpoint).
func newAzureQueueAt(m trigger.AzureQueue, serviceURL string, d Deps) (Scaler, error) {
	key := Key("azure-queue", m.Connection, m.AccountName, m.AccountKey, serviceURL)
	svc, release, err := Acquire(d.Pool, key, func() (azureService, error) { return newAzureService(m, serviceURL) })
	if err != nil {
		return nil, err
	}
	return &azureQueue{client: svc.NewQueueClient(m.QueueName), release: release, name: m.QueueName,
		visibleOnly: m.QueueLengthStrategy == "visibleonly"}, nil
}

// newAzureService builds a client that does not retry: the next poll is the retry, and a
// source that is down must fail the read within its deadline.
func newAzureService(m trigger.AzureQueue, serviceURL string) (azureService, error) {
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	opts := &azqueue.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: hc,
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}}
	if m.Connection != "" {
		svc, err := azqueue.NewServiceClientFromConnectionString(m.Connection, opts)
		if err != nil {
			// The SDK's message names the missing part, never the key.
			return azureService{}, fmt.Errorf("connection: %w", err)
		}
		return azureService{svc, hc}, nil
	}
	cred, err := azqueue.NewSharedKeyCredential(m.AccountName, m.AccountKey)
	if err != nil {
		return azureService{}, errors.New("accountKey: not a base64 storage account key")
	}
	svc, err := azqueue.NewServiceClientWithSharedKeyCredential(serviceURL, cred, opts)
	if err != nil {
		return azureService{}, err
	}
	return azureService{svc, hc}, nil
}

func (q *azureQueue) Read(ctx context.Context) (float64, error) {
	if q.visibleOnly {
		peeked, err := q.client.PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: new(int32(peekLimit))})
		if err != nil {
			return 0, fmt.Errorf("azure-queue: peek queue %s: %w", q.name, azureError(err))
		}
		if n := len(peeked.Messages); n < peekLimit {
			return float64(n), nil
		}
	}
	props, err := q.client.GetProperties(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("azure-queue: get properties of queue %s: %w", q.name, azureError(err))
	}
	if props.ApproximateMessagesCount == nil {
		return 0, fmt.Errorf("azure-queue: queue %s: no approximate message count in the response", q.name)
	}
	return float64(*props.ApproximateMessagesCount), nil
}

// azureError shortens the SDK's multi-line response errors to the status and error code.
func azureError(err error) error {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return fmt.Errorf("%d %s", re.StatusCode, re.ErrorCode)
	}
	return err
}

func (q *azureQueue) Close() error { return q.release() }
