package decide

import (
	"time"

	"ebb.dev/services/decider/hpa"
)

// ScaleUp is one ScaledObject's fast-path model, kept by the caller from decision to decision
// (Input.ScaleUp). With behavior.scaleUp it is an HPA model whose scale-up stabilization and
// policies run at every decision instead of every 15 s; without, it is empty and the fast
// path goes straight to the HPA's count. Build a new one when the Policy changes. Not safe
// for concurrent use.
type ScaleUp struct {
	model *hpa.HPA // nil: nothing limits the step
	seen  int32    // the count the model last saw or took; 0 before its first step
}

// NewScaleUp returns a fast-path model without history for p.
func (p *Policy) NewScaleUp() *ScaleUp {
	b := p.spec.Behavior
	if b == nil || b.ScaleUp == nil {
		return &ScaleUp{}
	}
	h, err := hpa.New(p.HPA())
	if err != nil {
		// The actuator cannot create this HPA either, and reports why: no fast path for an
		// object whose rules cannot be known.
		return nil
	}
	return &ScaleUp{model: h}
}

// Clone returns an independent copy, history included.
func (s *ScaleUp) Clone() *ScaleUp {
	c := *s
	if s.model != nil {
		c.model = s.model.Clone()
	}
	return &c
}

// fastScaleUp takes the HPA's count target at once when it is above current and the fast
// path is on: straight there without behavior.scaleUp (clamping to max is hpaTarget's), or
// the step the object's scale-up stabilization and policies allow now. The HPA computes the
// same target from the same served values, so it keeps what the fast path writes. A model
// that cannot be built (an invalid behavior) means no fast path.
func (p *Policy) fastScaleUp(in Input, current, target int32, res *Result) {
	if !p.spec.FastScaleUp || p.noUp {
		return
	}
	m := in.ScaleUp
	if m == nil {
		if m = p.NewScaleUp(); m == nil {
			return
		}
	}
	if n := m.step(in.Now, in.Replicas, current, target); n > current {
		res.Replicas, res.Scale, res.Reason = n, true, ReasonFastPath
	}
}

// step records the HPA's target and returns the count to take from current. replicas is the
// target's count as read (current is higher only at activation, where ebb's own 0 → min step
// is no scale event for the HPA's policies); a change since the model's last step that the
// model did not make is counted against the policies as the HPA would count its own.
func (s *ScaleUp) step(now time.Time, replicas, current, target int32) int32 {
	if s.model == nil {
		return max(current, target)
	}
	if s.seen > 0 && replicas > 0 {
		s.model.Observe(now, s.seen, replicas)
	}
	n, _ := s.model.LimitUp(now, current, target)
	s.seen = n
	return n
}
