package msgtest

import (
	"time"

	"ebb.dev/schemas/msg"
)

// T0 is the time the examples are stamped around: 2026-11-28 14:02:07 UTC.
var T0 = time.Date(2026, 11, 28, 14, 2, 7, 0, time.UTC)

// Object is the ScaledObject orders/consumer.
func Object() msg.ObjectRef {
	return msg.ObjectRef{Namespace: "orders", Kind: msg.ScaledObject, Name: "consumer", UID: "3f1c9a6e", Generation: 2}
}

// Reading is an active RabbitMQ reading of 100 against an average-value target of 5, at T0.
func Reading() msg.Reading {
	return msg.Reading{
		Object:     Object(),
		Trigger:    msg.TriggerRef{Index: 0, Name: "queue", Type: "rabbitmq", MetricName: "s0-rabbitmq-orders"},
		Value:      100,
		Active:     true,
		Target:     msg.Target{Type: msg.AverageValue, Value: 5},
		ObservedAt: T0,
		Poller:     "poller-0",
	}
}

// FailedReading is a reading whose poll failed.
func FailedReading() msg.Reading {
	r := Reading()
	r.Value, r.Active, r.Error = 0, false, "dial tcp 127.0.0.1:5672: connect: connection refused"
	return r
}

// Decision scales orders/consumer from 1 to 20 (reason hpa) on Reading, at T0+1s.
func Decision() msg.Decision {
	return msg.Decision{
		Object: Object(), DesiredReplicas: 20, Active: true, Reason: msg.ReasonHPA, CurrentReplicas: 1,
		Inputs:          []msg.Reading{Reading()},
		Metrics:         []msg.MetricValue{{Name: Reading().Trigger.MetricName, Value: Reading().Value}},
		PollingInterval: 30,
		DecidedAt:       T0.Add(time.Second), Decider: "decider-0",
	}
}

// JobDecision is a ScaledJob decision to create 3 Jobs.
func JobDecision() msg.Decision {
	d := Decision()
	d.Object.Kind = msg.ScaledJob
	d.Reason = msg.ReasonJobs
	d.Jobs = &msg.Jobs{Create: 3, Running: 2, Pending: 1}
	return d
}

// FailingDecision holds orders/consumer at 3 replicas while its trigger fails with no
// fallback: the metric carries the error, never a zero.
func FailingDecision() msg.Decision {
	d := Decision()
	r := FailedReading()
	d.DesiredReplicas, d.CurrentReplicas, d.Active, d.Reason = 3, 3, false, msg.ReasonFailing
	d.Inputs = []msg.Reading{r}
	d.Metrics = []msg.MetricValue{{Name: r.Trigger.MetricName, Error: r.Error, Failures: 2}}
	return d
}

// CooldownDecision holds orders/consumer at 1 replica with an empty queue, inside a cooldown
// that ends at T0+5m: the decision changes by itself just after NextChangeAt.
func CooldownDecision() msg.Decision {
	d := Decision()
	r := Reading()
	r.Value, r.Active = 0, false
	d.DesiredReplicas, d.Active, d.Reason = 1, false, msg.ReasonCooldown
	d.Inputs = []msg.Reading{r}
	d.Metrics = []msg.MetricValue{{Name: r.Trigger.MetricName}}
	d.NextChangeAt = T0.Add(5 * time.Minute)
	return d
}

// Action applies Decision: scale 1 -> 20, ok, at T0+2s.
func Action() msg.Action {
	return msg.Action{
		Object: Object(), Decision: Decision().DecisionRef(), Operation: msg.OpScale,
		From: msg.Count(1), To: msg.Count(20), Result: msg.ResultOK, At: T0.Add(2 * time.Second),
	}
}

// FailedAction is Action failing because the target is gone.
func FailedAction() msg.Action {
	a := Action()
	a.Result, a.Error = msg.ResultFailed, `deployments.apps "consumer" not found`
	return a
}

// FastPathDecision takes orders/consumer from 1 to 20 at once (reason fast-path) on Reading:
// the HPA computes the same 20 from the same served value, so it keeps the count.
func FastPathDecision() msg.Decision {
	d := Decision()
	d.Reason = msg.ReasonFastPath
	return d
}

// StatusAction is a status update with no decision and no counts.
func StatusAction() msg.Action {
	a := Action()
	a.Decision, a.From, a.To, a.Operation = nil, nil, nil, msg.OpStatus
	return a
}

// All returns one of each example above.
func All() map[string]msg.Message {
	return map[string]msg.Message{
		"reading": Reading(), "failed reading": FailedReading(), "decision": Decision(), "failing decision": FailingDecision(),
		"cooldown decision": CooldownDecision(), "fast-path decision": FastPathDecision(),
		"scaledjob decision": JobDecision(), "action": Action(), "failed action": FailedAction(),
		"status action": StatusAction(),
	}
}
