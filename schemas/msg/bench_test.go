package msg_test

import (
	"testing"

	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/msg/msgtest"
)

// BenchmarkReading measures a reading's trip through the codec: every poll encodes one
// (Marshal validates it), and the decider, metrics-api and tap each decode it.
func BenchmarkReading(b *testing.B) { benchCodec(b, msgtest.Reading()) }

// BenchmarkDecision: the decider encodes a decision per reading that changes something; the
// actuator and metrics-api decode it.
func BenchmarkDecision(b *testing.B) { benchCodec(b, msgtest.Decision()) }

func benchCodec[M msg.Message](b *testing.B, m M) {
	data, err := msg.Marshal(m)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := msg.Marshal(m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := msg.DecodeAs[M](data); err != nil {
				b.Fatal(err)
			}
		}
	})
}
