package simulate

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
	"time"
)

// Plot geometry, in SVG user units.
const (
	plotWidth, plotHeight                            = 960, 440
	marginLeft, marginRight, marginTop, marginBottom = 64, 72, 56, 48
)

var seriesColors = []string{"#e07b00", "#2a9d3a", "#8e44ad", "#c0392b", "#16a085", "#7f6000"}

const (
	replicaColor = "#1f5fbf"
	failColor    = "#d62728"
)

// plot maps times and values onto the drawing area.
type plot struct {
	end      time.Duration
	leftMax  float64
	rightMax float64
	b        strings.Builder
	legendX  float64 // where the next legend entry goes
}

func (p *plot) x(t time.Duration) float64 {
	return marginLeft + float64(t)/float64(p.end)*(plotWidth-marginLeft-marginRight)
}
func (p *plot) yLeft(v float64) float64  { return p.y(v, p.leftMax) }
func (p *plot) yRight(v float64) float64 { return p.y(v, p.rightMax) }
func (p *plot) y(v, top float64) float64 {
	return plotHeight - marginBottom - v/top*(plotHeight-marginTop-marginBottom)
}

// WriteSVG draws the replica count (left axis, with ready pods dashed when pods take time to
// start, dots where ebb set the count itself) and each trigger's readings (right axis, failed
// polls as red ticks) over time. For a ScaledJob the left axis counts running Jobs.
func (r *Run) WriteSVG(w io.Writer) error {
	p := &plot{end: time.Second, leftMax: 1, rightMax: 1, legendX: marginLeft}
	for _, e := range r.Events {
		p.end = max(p.end, time.Duration(e.At))
		p.leftMax = max(p.leftMax, float64(e.Replicas))
		for _, rd := range e.Readings {
			if rd.Value != nil {
				p.rightMax = max(p.rightMax, *rd.Value)
			}
		}
	}
	p.leftMax, p.rightMax = math.Ceil(niceCeil(p.leftMax)), niceCeil(p.rightMax)
	fmt.Fprintf(&p.b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		plotWidth, plotHeight, plotWidth, plotHeight)
	fmt.Fprintf(&p.b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	p.axes(r.Kind)
	left := "replicas"
	if r.Kind == "ScaledJob" {
		left = "running Jobs"
	}
	p.legend(left, replicaColor, false)
	if r.PodStart > 0 {
		p.legend("ready", replicaColor, true)
	}
	for i, name := range r.Triggers {
		color := seriesColors[i%len(seriesColors)]
		p.legend(name+" (right axis)", color, false)
		p.triggerSeries(r.Events, i, color, name)
	}
	if r.PodStart > 0 {
		p.step(r.Events, func(e Event) float64 { return float64(e.Ready) }, replicaColor, `stroke-dasharray="5 4" stroke-width="1.5"`)
	}
	p.step(r.Events, func(e Event) float64 { return float64(e.Replicas) }, replicaColor, `stroke-width="2.5"`)
	p.markers(r.Events)
	fmt.Fprintf(&p.b, `<text x="%d" y="20" font-size="15" font-weight="bold">%s simulation</text>`+"\n", marginLeft, html.EscapeString(r.Kind))
	p.b.WriteString("</svg>\n")
	_, err := io.WriteString(w, p.b.String())
	if err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

func (p *plot) axes(kind string) {
	x0, x1 := float64(marginLeft), float64(plotWidth-marginRight)
	y0, y1 := float64(plotHeight-marginBottom), float64(marginTop)
	for _, v := range ticks(p.leftMax, true) {
		y := p.yLeft(v)
		fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e5e5e5"/>`+"\n", x0, y, x1, y)
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="%s">%s</text>`+"\n", x0-6, y+4, replicaColor, number(v))
	}
	for _, v := range ticks(p.rightMax, false) {
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" fill="#555">%s</text>`+"\n", x1+6, p.yRight(v)+4, number(v))
	}
	step := timeStep(p.end)
	for t := time.Duration(0); t <= p.end; t += step {
		x := p.x(t)
		fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999"/>`+"\n", x, y0, x, y0+4)
		fmt.Fprintf(&p.b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="#555">%s</text>`+"\n", x, y0+18, t)
	}
	fmt.Fprintf(&p.b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#999"/>`+"\n", x0, y1, x1-x0, y0-y1)
	fmt.Fprintf(&p.b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555">time since start</text>`+"\n", (x0+x1)/2, plotHeight-8)
}

// step draws a value that holds until the next event.
func (p *plot) step(events []Event, value func(Event) float64, color, attrs string) {
	var pts []string
	prev := math.NaN()
	for _, e := range events {
		v := value(e)
		x := p.x(time.Duration(e.At))
		if !math.IsNaN(prev) {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, p.yLeft(prev)))
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, p.yLeft(v)))
		prev = v
	}
	fmt.Fprintf(&p.b, `<polyline fill="none" stroke="%s" %s points="%s"/>`+"\n", color, attrs, strings.Join(pts, " "))
}

// triggerSeries draws trigger i's readings as steps on the right axis, broken where polls fail.
func (p *plot) triggerSeries(events []Event, i int, color, name string) {
	var segs [][]string
	var cur []string
	prev := math.NaN()
	for _, e := range events {
		if e.Kind != KindPoll || i >= len(e.Readings) {
			continue
		}
		x := p.x(time.Duration(e.At))
		rd := e.Readings[i]
		if rd.Value == nil {
			if !math.IsNaN(prev) {
				cur = append(cur, fmt.Sprintf("%.1f,%.1f", x, p.yRight(prev)))
			}
			fmt.Fprintf(&p.b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="2"><title>%s failed</title></line>`+"\n",
				x, plotHeight-marginBottom, x, plotHeight-marginBottom-10, failColor, html.EscapeString(name))
			if len(cur) > 0 {
				segs, cur = append(segs, cur), nil
			}
			prev = math.NaN()
			continue
		}
		if !math.IsNaN(prev) {
			cur = append(cur, fmt.Sprintf("%.1f,%.1f", x, p.yRight(prev)))
		}
		cur = append(cur, fmt.Sprintf("%.1f,%.1f", x, p.yRight(*rd.Value)))
		prev = *rd.Value
	}
	segs = append(segs, cur)
	for _, s := range segs {
		if len(s) > 0 {
			fmt.Fprintf(&p.b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`+"\n", color, strings.Join(s, " "))
		}
	}
}

// markers put a dot where ebb set the count itself and a bar for the Jobs it created.
func (p *plot) markers(events []Event) {
	for _, e := range events {
		x := p.x(time.Duration(e.At))
		if e.Jobs != nil && e.Jobs.Create > 0 {
			top := p.yLeft(float64(e.Jobs.Create))
			fmt.Fprintf(&p.b, `<rect x="%.1f" y="%.1f" width="4" height="%.1f" fill="%s" opacity="0.35"/>`+"\n",
				x-2, top, float64(plotHeight-marginBottom)-top, replicaColor)
		}
		if e.Decision != nil && e.Decision.Scaled {
			fmt.Fprintf(&p.b, `<circle cx="%.1f" cy="%.1f" r="4" fill="white" stroke="%s" stroke-width="2"><title>%s at %s</title></circle>`+"\n",
				x, p.yLeft(float64(e.Replicas)), replicaColor, html.EscapeString(string(e.Decision.Reason)), e.At)
		}
	}
}

// legend adds an entry to the row under the title.
func (p *plot) legend(name, color string, dashed bool) {
	x := p.legendX
	dash := ""
	if dashed {
		dash = ` stroke-dasharray="5 4"`
	}
	fmt.Fprintf(&p.b, `<line x1="%.1f" y1="38" x2="%.1f" y2="38" stroke="%s" stroke-width="2.5"%s/>`+"\n", x, x+22, color, dash)
	fmt.Fprintf(&p.b, `<text x="%.1f" y="42">%s</text>`+"\n", x+28, html.EscapeString(name))
	p.legendX += 28 + 7*float64(len(name)) + 24
}

// niceCeil rounds v (plus a little headroom) up to a round number an axis divides well.
func niceCeil(v float64) float64 {
	v *= 1.05
	mag := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10} {
		if m*mag >= v {
			return m * mag
		}
	}
	return 10 * mag
}

// ticks splits [0, top] into up to 6 steps of 1, 2, 2.5 or 5 times a power of ten, whole
// numbers only on a count axis.
func ticks(top float64, whole bool) []float64 {
	step := top / 5
	for _, n := range []float64{5, 4, 6, 3, 2, 1} {
		if s := top / n; nice(s) && (!whole || s == math.Trunc(s)) {
			step = top / n
			break
		}
	}
	var out []float64
	for v := 0.0; v <= top+step/2; v += step {
		out = append(out, v)
	}
	return out
}

func nice(step float64) bool {
	m := step / math.Pow(10, math.Floor(math.Log10(step)))
	for _, n := range []float64{1, 2, 2.5, 5} {
		if math.Abs(m-n) < 1e-9 {
			return true
		}
	}
	return false
}

func timeStep(end time.Duration) time.Duration {
	for _, s := range []time.Duration{15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
		5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour} {
		if end/s <= 10 {
			return s
		}
	}
	return end / 10
}

func number(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.4g", v), ".0") }
