package trigger

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// admissionCase is a trigger as the admission webhook sees it: metadata, and only the
// parameter names its TriggerAuthentication supplies (unknownAuth when it could not be read).
type admissionCase struct {
	meta        map[string]string
	auth        []string
	unknownAuth bool
	errs        []string
}

// runAdmission parses each case through Builtin as services/actuator/webhook/validate does.
func runAdmission(t *testing.T, kind string, tests map[string]admissionCase) {
	t.Helper()
	r := Builtin()
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := Params{Metadata: tc.meta, Unresolved: true}
			if !tc.unknownAuth {
				p.Auth = map[string]string{}
				for _, n := range tc.auth {
					p.Auth[n] = ""
				}
			}
			m, errs := r.Parse(kind, p, triggerPath)
			if diff := cmp.Diff(tc.errs, errorStrings(errs)); diff != "" {
				t.Errorf("admission errors (-want +got):\n%s", diff)
			}
			if (m == nil) != (len(tc.errs) > 0) {
				t.Errorf("Parse returned metadata %v with errors %v", m, errs)
			}
		})
	}
}

// TestPushWakeupAdmission: the webhook accepts the ebb extensions for push wake-ups.
func TestPushWakeupAdmission(t *testing.T) {
	runAdmission(t, "nats-jetstream", map[string]admissionCase{
		"client URL from a TriggerAuthentication": {meta: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s", "consumer", "c"), auth: []string{"natsServerURL"}},
		"client URL in metadata":                  {meta: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s", "consumer", "c", "natsServerURL", "nats://nats:4222")},
		"client URL from env":                     {meta: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s", "consumer", "c", "natsServerURLFromEnv", "NATS_URL")},
		"client URL that is no URL": {meta: md("natsServerMonitoringEndpoint", "nats:8222", "stream", "s", "consumer", "c", "natsServerURL", "nats"),
			errs: []string{"spec.triggers[0].metadata.natsServerURL: Invalid value: must be client URLs, comma separated, each nats://, tls://, ws:// or wss:// with a host, such as nats://nats:4222"}},
	})
}
