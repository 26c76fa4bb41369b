package scaler

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"ebb.dev/schemas/trigger"
)

// Trigger types the poller never reads: the HPA reads cpu and memory from the metrics server.
var resourceKinds = []string{"cpu", "memory"}

// Trigger types whose scalers a later issue adds. Move a kind out of this list in the change
// that registers its scaler.
var laterKinds []string

func TestBuiltinCoversTriggerKinds(t *testing.T) {
	scalers := Builtin().Kinds()
	triggers := trigger.Builtin().Kinds()
	for _, kind := range scalers {
		if !slices.Contains(triggers, kind) {
			t.Errorf("scaler %s has no metadata in trigger.Builtin", kind)
		}
	}
	for _, kind := range triggers {
		registered := slices.Contains(scalers, kind)
		switch {
		case slices.Contains(resourceKinds, kind) && registered:
			t.Errorf("%s is read by the HPA, yet a scaler is registered for it", kind)
		case slices.Contains(laterKinds, kind) && registered:
			t.Errorf("%s has a scaler now: remove it from laterKinds", kind)
		case !slices.Contains(resourceKinds, kind) && !slices.Contains(laterKinds, kind) && !registered:
			t.Errorf("trigger type %s has no scaler: register one in Builtin or list it in laterKinds", kind)
		}
	}
	for _, kind := range laterKinds {
		if !slices.Contains(triggers, kind) {
			t.Errorf("laterKinds lists %s, which trigger.Builtin does not know", kind)
		}
	}
}

// example is one trigger of testdata/<kind>.yaml.
type example struct {
	Name       string            `json:"name"`
	Metadata   map[string]string `json:"metadata"`
	AuthParams map[string]string `json:"authParams"`
}

func TestEveryScalerBuildsItsExamples(t *testing.T) {
	r := Builtin()
	for _, kind := range r.Kinds() {
		raw, err := os.ReadFile(filepath.Join("testdata", kind+".yaml"))
		if err != nil {
			t.Errorf("%s: every scaler needs testdata/%s.yaml: %v", kind, kind, err)
			continue
		}
		var examples []example
		if err := yaml.UnmarshalStrict(raw, &examples); err != nil || len(examples) == 0 {
			t.Errorf("%s: testdata: %d examples, err %v", kind, len(examples), err)
			continue
		}
		for _, ex := range examples {
			t.Run(kind+"/"+ex.Name, func(t *testing.T) {
				pool := NewPool()
				s := build(t, kind, ex.Metadata, ex.AuthParams, Deps{Pool: pool})
				if s == nil {
					t.Fatal("Build returned no scaler")
				}
			})
		}
	}
}

func TestBuildErrors(t *testing.T) {
	r := Builtin()
	if _, err := r.Build("cpu", trigger.CPU{}, Deps{}); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("Build(cpu) err = %v, want ErrUnknownKind", err)
	}
	if _, err := r.Build("kafka", trigger.Cron{}, Deps{}); err == nil || !strings.Contains(err.Error(), "metadata is trigger.Cron, want trigger.Kafka") {
		t.Errorf("Build(kafka, Cron{}) err = %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a kind twice did not panic")
		}
	}()
	Register(r, "cron", newCron)
}

func TestBuildRejectsBadHosts(t *testing.T) {
	tests := map[string]struct {
		kind       string
		meta, auth map[string]string
		err        string
	}{
		"rabbitmq host with an unknown scheme": {
			kind: "rabbitmq", meta: map[string]string{"host": "rmq://u:s3cret@rmq:5672/", "queueName": "q"},
			err: `build rabbitmq: host: unknown URL scheme "rmq", want amqp, amqps, http or https`,
		},
		"rabbitmq host that is no URL": {
			kind: "rabbitmq", meta: map[string]string{"host": "amqp://u:s3cret@rmq:port/", "queueName": "q"},
			err: "build rabbitmq: host is not a valid URL",
		},
		"rabbitmq tls with a bad ca": {
			kind: "rabbitmq", meta: map[string]string{"host": "amqps://rmq/", "queueName": "q"},
			auth: map[string]string{"tls": "enable", "ca": "s3cret"},
			err:  "build rabbitmq: ca: no PEM certificate found",
		},
		"kafka tls with a bad key": {
			kind: "kafka", meta: map[string]string{"bootstrapServers": "k:9092", "consumerGroup": "g"},
			auth: map[string]string{"tls": "enable", "cert": "s3cret", "key": "s3cret"},
			err:  "build kafka: key: no PEM block found",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Builtin().Build(tc.kind, parse(t, tc.kind, tc.meta, tc.auth), Deps{})
			if diff := cmp.Diff(tc.err, errString(err)); diff != "" {
				t.Errorf("Build error (-want +got):\n%s", diff)
			}
			if strings.Contains(errString(err), "s3cret") {
				t.Errorf("error quotes a secret: %v", err)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
