package bus_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/nkeys"

	"ebb.dev/bus"
)

func TestConfigValidate(t *testing.T) {
	valid := func() bus.Config {
		return bus.Config{Mode: bus.Standalone, StoreDir: "/data", Users: []bus.User{{Name: "poller", Role: bus.RolePoller, Password: "s3cr3t-pw"}}}
	}
	cluster := func() bus.Config {
		c := valid()
		c.Mode, c.Name = bus.Cluster, "n0"
		c.Cluster = bus.ClusterConfig{Routes: []string{"nats://n0:6222"}, User: "route", Password: "r"}
		return c
	}
	tests := map[string]struct {
		cfg     bus.Config
		wantErr string // "" means valid
	}{
		"standalone with users":          {cfg: valid()},
		"single needs no users":          {cfg: bus.Config{StoreDir: "/data"}},
		"cluster":                        {cfg: cluster()},
		"unknown mode":                   {cfg: edit(valid(), func(c *bus.Config) { c.Mode = "mesh" }), wantErr: "mode:"},
		"no store":                       {cfg: edit(valid(), func(c *bus.Config) { c.StoreDir = "" }), wantErr: "storeDir:"},
		"standalone without users":       {cfg: edit(valid(), func(c *bus.Config) { c.Users = nil }), wantErr: "users: authentication is required"},
		"dotted prefix":                  {cfg: edit(valid(), func(c *bus.Config) { c.Prefix = "a.b" }), wantErr: "prefix:"},
		"noListen outside single mode":   {cfg: edit(valid(), func(c *bus.Config) { c.NoListen = true }), wantErr: "noListen:"},
		"user with two secrets":          {cfg: edit(valid(), func(c *bus.Config) { c.Users[0].NKey = "U" }), wantErr: "users[0]: set exactly one"},
		"user with no secret":            {cfg: edit(valid(), func(c *bus.Config) { c.Users[0].Password = "" }), wantErr: "users[0]: set exactly one"},
		"bad nkey":                       {cfg: edit(valid(), func(c *bus.Config) { c.Users[0].Password, c.Users[0].NKey = "", "SUABC" }), wantErr: "users[0].nkey:"},
		"unknown role":                   {cfg: edit(valid(), func(c *bus.Config) { c.Users[0].Role = "root" }), wantErr: "users[0].role:"},
		"user name with a dot":           {cfg: edit(valid(), func(c *bus.Config) { c.Users[0].Name = "a.b" }), wantErr: "users[0].name:"},
		"reserved user name":             {cfg: edit(valid(), func(c *bus.Config) { c.Users[0].Name = "ebb-bus" }), wantErr: "reserved"},
		"duplicate user":                 {cfg: edit(valid(), func(c *bus.Config) { c.Users = append(c.Users, c.Users[0]) }), wantErr: "users[1].name: \"poller\" is listed twice"},
		"tls without key":                {cfg: edit(valid(), func(c *bus.Config) { c.TLS = &bus.TLS{CertFile: "c"} }), wantErr: "tls:"},
		"client verification without CA": {cfg: edit(valid(), func(c *bus.Config) { c.TLS = &bus.TLS{CertFile: "c", KeyFile: "k", VerifyClients: true} }), wantErr: "tls.caFile:"},
		"cluster without routes":         {cfg: edit(cluster(), func(c *bus.Config) { c.Cluster.Routes = nil }), wantErr: "cluster.routes:"},
		"cluster without route auth":     {cfg: edit(cluster(), func(c *bus.Config) { c.Cluster.Password = "" }), wantErr: "cluster.user:"},
		"negative retention":             {cfg: edit(valid(), func(c *bus.Config) { c.AuditMaxAge = -1 }), wantErr: "retention:"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate error = %v, want it to contain %q", err, tc.wantErr)
			}
			for _, u := range tc.cfg.Users {
				if u.Password != "" && strings.Contains(err.Error(), u.Password) {
					t.Errorf("error %q contains a password", err)
				}
			}
		})
	}
}

func TestLoadUsers(t *testing.T) {
	kp, _ := nkeys.CreateUser()
	pub, _ := kp.PublicKey()
	dir := t.TempDir()
	files := map[string]string{
		"poller.password":       "p1\n",
		"poller-kafka.password": "p2",
		"metrics-api.password":  "  p3  ",
		"tap.nkey":              pub + "\n",
		"README":                "ignored",
		"ca.crt":                "ignored",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "..data"), 0o700); err != nil { // what a Secret volume holds
		t.Fatal(err)
	}
	got, err := bus.LoadUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []bus.User{
		{Name: "metrics-api", Role: bus.RoleMetricsAPI, Password: "p3"},
		{Name: "poller-kafka", Role: bus.RolePoller, Password: "p2"},
		{Name: "poller", Role: bus.RolePoller, Password: "p1"},
		{Name: "tap", Role: bus.RoleTap, NKey: pub},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LoadUsers (-want +got):\n%s", diff)
	}
}

func TestLoadUsersRejects(t *testing.T) {
	tests := map[string]struct {
		files   map[string]string
		wantErr string
	}{
		"a user with no role": {files: map[string]string{"root.password": "x"}, wantErr: `no role matches user "root"`},
		"an empty file":       {files: map[string]string{"tap.password": "\n"}, wantErr: "file is empty"},
		"a bad nkey":          {files: map[string]string{"tap.nkey": "hunter2"}, wantErr: "users[0].nkey: not a public user NKey"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tc.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := bus.LoadUsers(dir)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("LoadUsers error = %v, want it to contain %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q contains the secret", err)
			}
		})
	}
}

func edit[T any](v T, f func(*T)) T {
	f(&v)
	return v
}
