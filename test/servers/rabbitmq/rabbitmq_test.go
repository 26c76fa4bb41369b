package rabbitmq

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	s, err := Start(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, step := range []struct {
		name string
		err  error
	}{
		{"add vhost", s.AddVhost(ctx, "orders")},
		{"add user", s.AddUser(ctx, "ebb", "pw", "monitoring")},
		{"permit", s.Permit(ctx, "orders", "ebb")},
		{"declare queue", s.DeclareQueue(ctx, "orders", "q1")},
	} {
		if step.err != nil {
			t.Errorf("%s: %v", step.name, step.err)
		}
	}
	if err := s.DeclareQueue(ctx, "no-such-vhost", "q1"); err == nil {
		t.Error("declaring a queue on a missing vhost succeeded")
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	for _, port := range []int{s.AMQPPort, s.ManagementPort} {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("port %d still accepts connections after Stop", port)
		}
	}
}
