package goaws

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// call sends one query-protocol request, as an SQS client of that protocol does.
func call(t *testing.T, s *Server, form url.Values) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.Endpoint()+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Test", form.Get("Action"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", form.Get("Action"), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %s", form.Get("Action"), resp.Status, body)
	}
	return string(body)
}

func TestServeOnLoopback(t *testing.T) {
	var seen []string
	s, err := Start(Options{Inspect: func(r *http.Request) { seen = append(seen, r.Header.Get("X-Test")) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop() }) // when a check below fails; Stop is idempotent
	created := call(t, s, url.Values{"Action": {"CreateQueue"}, "QueueName": {"orders"}})
	queueURL := s.Endpoint() + "/" + AccountID + "/orders"
	if !strings.Contains(created, "<QueueUrl>"+queueURL+"</QueueUrl>") {
		t.Errorf("CreateQueue answered %s, want queue URL %s", created, queueURL)
	}
	call(t, s, url.Values{"Action": {"SendMessage"}, "QueueUrl": {queueURL}, "MessageBody": {"m"}})
	attrs := call(t, s, url.Values{"Action": {"GetQueueAttributes"}, "QueueUrl": {queueURL}, "AttributeName.1": {"ApproximateNumberOfMessages"}})
	if !strings.Contains(attrs, "<Value>1</Value>") {
		t.Errorf("GetQueueAttributes answered %s, want one message", attrs)
	}
	if want := []string{"CreateQueue", "SendMessage", "GetQueueAttributes"}; strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("Inspect saw %q, want %q", seen, want)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)), time.Second); err == nil {
		c.Close()
		t.Error("port still accepts connections after Stop")
	}
	// A new server starts empty, although goaws keeps queues in package variables.
	next := StartT(t, Options{})
	list := call(t, next, url.Values{"Action": {"ListQueues"}})
	if strings.Contains(list, "orders") {
		t.Errorf("a new server still lists the old queue: %s", list)
	}
}
