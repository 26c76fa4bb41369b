package msg_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

func TestSubjects(t *testing.T) {
	dotted := msg.ObjectRef{Namespace: "kube-system", Kind: msg.ScaledJob, Name: "orders.v2.consumer"}
	tests := map[string]struct {
		got  string
		want string
	}{
		"reading":                         {got: msg.ReadingSubject(msgtest.Object(), 0), want: "ebb.reading.orders.so.consumer.0"},
		"decision":                        {got: msg.DecisionSubject(msgtest.Object()), want: "ebb.decision.orders.so.consumer"},
		"action":                          {got: msg.ActionSubject(msgtest.Object()), want: "ebb.action.orders.so.consumer"},
		"scaledjob with dots in its name": {got: msg.ReadingSubject(dotted, 12), want: "ebb.reading.kube-system.sj.orders_2Ev2_2Econsumer.12"},
		"configured prefix":               {got: msg.Prefix("staging").Decision(msgtest.Object()), want: "staging.decision.orders.so.consumer"},
		"empty prefix is the default":     {got: msg.Prefix("").Action(msgtest.Object()), want: "ebb.action.orders.so.consumer"},
		"subject of a message":            {got: msg.DefaultPrefix.Subject(msgtest.Reading()), want: "ebb.reading.orders.so.consumer.0"},
		"reading key":                     {got: msg.ReadingKey(dotted, 3), want: "kube-system.sj.orders_2Ev2_2Econsumer.3"},
		"object key":                      {got: msg.ObjectKey(dotted), want: "kube-system.sj.orders_2Ev2_2Econsumer"},
		"all readings":                    {got: msg.DefaultPrefix.All(msg.TypeReading), want: "ebb.reading.>"},
		"filter by namespace":             {got: msg.DefaultPrefix.Filter(msg.TypeReading, msg.Filter{Namespace: "orders"}), want: "ebb.reading.orders.*.*.*"},
		"filter by kind and name":         {got: msg.DefaultPrefix.Filter(msg.TypeDecision, msg.Filter{Kind: msg.ScaledJob, Name: "a.b"}), want: "ebb.decision.*.sj.a_2Eb"},
		"reading key filter":              {got: msg.ReadingKeyFilter(msg.Filter{Name: "a.b"}), want: "*.*.a_2Eb.*"},
		"empty filter":                    {got: msg.DefaultPrefix.Filter(msg.TypeAction, msg.Filter{}), want: "ebb.action.*.*.*"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("subject = %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := map[string]struct {
		subject string
		want    msg.Address
		wantErr string
	}{
		"reading": {
			subject: "ebb.reading.orders.so.consumer.7",
			want:    msg.Address{Type: msg.TypeReading, Namespace: "orders", Kind: msg.ScaledObject, Name: "consumer", Trigger: 7},
		},
		"decision with an escaped name": {
			subject: "ebb.decision.orders.sj.a_2Eb",
			want:    msg.Address{Type: msg.TypeDecision, Namespace: "orders", Kind: msg.ScaledJob, Name: "a.b"},
		},
		"other prefix":               {subject: "foo.reading.orders.so.consumer.0", wantErr: `want prefix "ebb"`},
		"unknown type":               {subject: "ebb.metric.orders.so.consumer", wantErr: `unknown message type "metric"`},
		"reading without index":      {subject: "ebb.reading.orders.so.consumer", wantErr: "want 4 tokens"},
		"decision with extra":        {subject: "ebb.decision.orders.so.consumer.0", wantErr: "want 3 tokens"},
		"unknown kind":               {subject: "ebb.action.orders.deploy.consumer", wantErr: `kind token "deploy"`},
		"negative index":             {subject: "ebb.reading.orders.so.consumer.-1", wantErr: "trigger index"},
		"index with leading zero":    {subject: "ebb.reading.orders.so.consumer.01", wantErr: "trigger index"},
		"raw underscore":             {subject: "ebb.decision.orders.so.a_bzc", wantErr: "bad escape"},
		"truncated escape":           {subject: "ebb.decision.orders.so.ab_2", wantErr: "truncated escape"},
		"escape that needs none":     {subject: "ebb.decision.orders.so._61b", wantErr: "not in canonical form"},
		"lower-case hex":             {subject: "ebb.decision.orders.so.a_2eb", wantErr: "not in canonical form"},
		"empty name":                 {subject: "ebb.decision.orders.so._", wantErr: "empty namespace or name"},
		"wildcard is not an address": {subject: "ebb.decision.*.so.consumer", wantErr: "not in canonical form"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := msg.DefaultPrefix.Parse(tc.subject)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want it to contain %q", tc.subject, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.subject, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) (-want +got):\n%s", tc.subject, diff)
			}
		})
	}
}

func TestPrefixValidate(t *testing.T) {
	for p, ok := range map[msg.Prefix]bool{"": true, "ebb": true, "ebb-staging_2": true, "a.b": false, "a b": false, "*": false, ">": false} {
		if err := p.Validate(); (err == nil) != ok {
			t.Errorf("Prefix(%q).Validate() = %v, want ok=%v", p, err, ok)
		}
	}
}

// Kubernetes namespaces are DNS labels and object names DNS subdomains: lower-case letters,
// digits, '-' and (names only) '.'; every such name must round-trip through a subject.
func TestKubernetesNamesRoundTrip(t *testing.T) {
	names := []string{
		"a", "0", "consumer", "orders-consumer", "orders.consumer", "a.b.c.d", "x-1.y-2",
		"a-", "-a", ".a", "a..b", strings.Repeat("a.", 126) + "a", strings.Repeat("z", 253),
	}
	namespaces := []string{"default", "kube-system", "a", strings.Repeat("n", 63), "0-0"}
	for _, ns := range namespaces {
		for _, name := range names {
			for _, kind := range []msg.Kind{msg.ScaledObject, msg.ScaledJob} {
				assertRoundTrip(t, msg.Prefix("ebb"), msg.ObjectRef{Namespace: ns, Kind: kind, Name: name}, 5)
			}
		}
	}
}

// Any non-empty strings round-trip, so an invalid name can never alias a valid one.
func FuzzSubjectRoundTrip(f *testing.F) {
	f.Add("orders", "consumer", false, uint16(0))
	f.Add("ns", "a.b_c*d>e f", true, uint16(12))
	f.Add("ü", "\x00.", false, uint16(65535))
	f.Fuzz(func(t *testing.T, ns, name string, job bool, idx uint16) {
		if ns == "" || name == "" {
			return
		}
		kind := msg.ScaledObject
		if job {
			kind = msg.ScaledJob
		}
		assertRoundTrip(t, msg.DefaultPrefix, msg.ObjectRef{Namespace: ns, Kind: kind, Name: name}, int(idx))
	})
}

func assertRoundTrip(t *testing.T, p msg.Prefix, ref msg.ObjectRef, idx int) {
	t.Helper()
	want := msg.Address{Namespace: ref.Namespace, Kind: ref.Kind, Name: ref.Name}
	subjects := map[msg.Type]string{
		msg.TypeReading:  p.Reading(ref, idx),
		msg.TypeDecision: p.Decision(ref),
		msg.TypeAction:   p.Action(ref),
	}
	for typ, s := range subjects {
		if strings.ContainsAny(s, " \t\r\n*>") || strings.Contains(s, "..") {
			t.Fatalf("subject %q is not a literal NATS subject", s)
		}
		got, err := p.Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		w := want
		w.Type = typ
		if typ == msg.TypeReading {
			w.Trigger = idx
		}
		if diff := cmp.Diff(w, got); diff != "" {
			t.Fatalf("Parse(%q) (-want +got):\n%s", s, diff)
		}
	}
	key := msg.ReadingKey(ref, idx)
	got, err := msg.ParseReadingKey(key)
	if err != nil {
		t.Fatalf("ParseReadingKey(%q): %v", key, err)
	}
	want.Type, want.Trigger = msg.TypeReading, idx
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("ParseReadingKey(%q) (-want +got):\n%s", key, diff)
	}
}
