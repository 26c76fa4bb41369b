package redis

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"
	"time"
)

func TestStartStop(t *testing.T) {
	s, err := Start(context.Background(), t.TempDir(), Options{Password: "pw", Users: map[string]string{"ebb": "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		commands []string
		want     string // the reply to the last command
	}{
		"no password":           {commands: []string{"PING"}, want: "-NOAUTH Authentication required."},
		"default user password": {commands: []string{"AUTH pw", "PING"}, want: "+PONG"},
		"ACL user":              {commands: []string{"AUTH ebb s3cret", "SET k v"}, want: "+OK"},
		"wrong ACL password":    {commands: []string{"AUTH ebb nope"}, want: "-WRONGPASS invalid username-password pair or user is disabled."},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := talk(t, s.Addr(), tc.commands); got != tc.want {
				t.Errorf("reply = %q, want %q", got, tc.want)
			}
		})
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after Stop", s.Addr())
	}
}

// talk sends inline commands and returns the first line of the last reply.
func talk(t *testing.T, addr string, commands []string) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	var line string
	for _, cmd := range commands {
		if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
			t.Fatal(err)
		}
		if line, err = r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	return strings.TrimRight(line, "\r\n")
}
