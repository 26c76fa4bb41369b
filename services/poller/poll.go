package poller

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"

	"ebb.dev/schemas/keda/v1alpha1"
	"ebb.dev/schemas/msg"
	"ebb.dev/schemas/trigger"
	"ebb.dev/services/poller/resolve"
)

// source is a trigger's built scaler with the parameters it was built from; a poll whose
// parameters differ (a new generation, a rotated Secret) builds a new one.
type source struct {
	kind   string
	params trigger.Params
	shape  shape
	reader Reader
	// stopWake ends the reader's wake-ups; nil until they are started.
	stopWake func()
}

// shape is what a trigger's parsed metadata says about its readings; computed once per
// build, since it takes reflection.
type shape struct {
	metric             string
	target, activation float64
}

// shapeOf reads the shape from the trigger's metadata alone, never from resolved credentials
// or env, exactly as the actuator names the HPA's metrics and the decider reads its spec: a
// metric name whose detail came from a Secret would match no HPA metric. resolved is the
// fallback for the (unexpected) case that only the resolved parameters parse.
func (p *Replica) shapeOf(j *job, resolved trigger.Metadata) shape {
	kind := j.trigger.Type
	m := resolved
	unresolved := trigger.Params{Metadata: j.trigger.Metadata, MetricType: j.trigger.MetricType, Unresolved: true}
	if spec, errs := p.triggers.Parse(kind, unresolved, j.req.Path); len(errs) == 0 {
		m = spec
	}
	return shape{metric: trigger.MetricName(j.index, kind, m), target: trigger.Target(m), activation: trigger.Activation(m)}
}

func (s *source) close() {
	if s == nil || s.reader == nil {
		return
	}
	if s.stopWake != nil {
		s.stopWake()
	}
	if c, ok := s.reader.(io.Closer); ok {
		_ = c.Close()
	}
	s.reader = nil
}

func (s *source) matches(kind string, p trigger.Params) bool {
	return s != nil && s.kind == kind && s.params.MetricType == p.MetricType &&
		maps.Equal(s.params.Metadata, p.Metadata) && maps.Equal(s.params.Auth, p.Auth) && maps.Equal(s.params.Env, p.Env)
}

// poll reads one trigger once and returns the reading: the value, or the error that kept it
// from being read. cur is the trigger's current source, replaced when its parameters changed.
func (p *Replica) poll(ctx context.Context, j *job, cur **source) msg.Reading {
	kind := j.trigger.Type
	r := msg.Reading{
		Schema: msg.ReadingSchema,
		Object: j.ref,
		Trigger: msg.TriggerRef{
			Index: j.index, Name: j.trigger.Name, Type: kind,
			MetricName: v1alpha1.MetricName(j.index, kind, ""),
		},
		Target: msg.Target{Type: metricType(j.trigger)},
		Poller: p.cfg.ID,
	}
	ctx, cancel := context.WithTimeout(ctx, min(p.cfg.Timeout, j.interval))
	defer cancel()
	params, err := p.resolver.Params(ctx, j.req)
	var sh *shape
	if err == nil {
		sh, err = p.source(j, params, cur)
	}
	if sh != nil {
		r.Trigger.MetricName = sh.metric
		r.Target.Value = sh.target
	}
	if err == nil {
		r.Value, err = (*cur).reader.Read(ctx)
		if err == nil && (math.IsNaN(r.Value) || math.IsInf(r.Value, 0)) {
			err = fmt.Errorf("source returned %v, not a number", r.Value)
		}
		if err == nil {
			r.Active = r.Value > sh.activation
		}
	}
	r.ObservedAt = p.clock.Now()
	if err != nil {
		r.Value, r.Active = 0, false
		r.Error = resolve.Redact(err.Error(), params)
	}
	return r
}

// prepare builds the trigger's scaler ahead of its first poll, so that its wake-ups start
// at once. Errors are left for the poll to report.
func (p *Replica) prepare(ctx context.Context, j *job, cur **source) {
	ctx, cancel := context.WithTimeout(ctx, min(p.cfg.Timeout, j.interval))
	defer cancel()
	if params, err := p.resolver.Params(ctx, j.req); err == nil {
		_, _ = p.source(j, params, cur)
	}
}

// startWake starts the wake-ups of cur's reader, if it is a Waker whose wake-ups have not
// started; fire is the worker's.
func (p *Replica) startWake(ctx context.Context, cur *source, fire func(), log *slog.Logger) {
	if cur == nil || cur.stopWake != nil {
		return
	}
	w, ok := cur.reader.(Waker)
	if !ok {
		return
	}
	stop, err := w.Wake(ctx, fire)
	if err != nil {
		log.Warn("no push wake-ups: polls keep to pollingInterval", "error", resolve.Redact(err.Error(), cur.params))
		stop = func() {}
	}
	cur.stopWake = stop
}

// source makes *cur a scaler built from params, reusing it when nothing changed. It returns
// the shape of the parsed metadata, also when the scaler could not be built.
func (p *Replica) source(j *job, params trigger.Params, cur **source) (*shape, error) {
	kind := j.trigger.Type
	if (*cur).matches(kind, params) {
		return &(*cur).shape, nil
	}
	(*cur).close()
	*cur = nil
	m, errs := p.triggers.Parse(kind, params, j.req.Path)
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	sh := p.shapeOf(j, m)
	reader, err := p.scalers.Build(kind, m)
	if err == nil && reader == nil {
		err = errors.New("scaler builder returned no scaler")
	}
	if err != nil {
		return &sh, err
	}
	*cur = &source{kind: kind, params: params, shape: sh, reader: reader}
	return &sh, nil
}

func metricType(t v1alpha1.ScaleTriggers) msg.MetricType {
	if t.MetricType == "" {
		return msg.AverageValue
	}
	return msg.MetricType(t.MetricType)
}
