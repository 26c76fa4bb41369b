package bench

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The chart's geometry, in SVG user units: the plot area sits inside the margins, the legend
// to its right.
const (
	svgWidth, svgHeight       = 840, 400
	marginLeft, marginRight   = 72, 260
	marginTop, marginBottom   = 40, 56
	plotWidth, plotHeight     = svgWidth - marginLeft - marginRight, svgHeight - marginTop - marginBottom
	tickCount                 = 6
	legendX, legendLineHeight = svgWidth - marginRight + 16, 18
)

// palette colours the series in order (repeating past its end); it reads on white and in
// greyscale print.
var palette = [...]string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"}

// SVG draws a chart as a standalone SVG document: axes with ticks and labels, one polyline
// (with a marker per point) per series, and a legend.
func SVG(c Chart) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		svgWidth, svgHeight, svgWidth, svgHeight)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", svgWidth, svgHeight)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="15" text-anchor="middle">%s</text>`+"\n",
		marginLeft+plotWidth/2, marginTop-16, escape(c.Title))
	xs := axisRange(c, func(p Point) float64 { return p.X })
	ys := axisRange(c, func(p Point) float64 { return p.Y })
	if c.LogY {
		ys = logRange(c)
	}
	drawAxes(&b, c, xs, ys)
	if xs.empty {
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#666">no data</text>`+"\n",
			marginLeft+plotWidth/2, marginTop+plotHeight/2)
	}
	for i, s := range c.Series {
		drawSeries(&b, s, palette[i%len(palette)], xs, ys)
		drawLegendEntry(&b, i, s.Name, palette[i%len(palette)])
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// scale is one axis: its data range widened to whole ticks. A log scale holds the range and
// step as powers of ten (lo -2, hi 2, step 1: 0.01 to 100, a tick at each power).
type scale struct {
	lo, hi, step float64
	empty, log   bool
}

// axisRange is the range of one coordinate over every point of c, widened to round ticks. The
// y axis of a latency chart should start at zero, so a range of positive values does.
func axisRange(c Chart, coord func(Point) float64) scale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			v := coord(p)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if lo > hi {
		return scale{lo: 0, hi: 1, step: 0.2, empty: true}
	}
	lo = min(lo, 0)
	if hi == lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / (tickCount - 1))
	return scale{lo: math.Floor(lo/step) * step, hi: math.Ceil(hi/step) * step, step: step}
}

// logRange is the y range of c in powers of ten, widened to whole powers.
func logRange(c Chart) scale {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, p := range s.Points {
			if p.Y > 0 && !math.IsInf(p.Y, 0) {
				lo, hi = min(lo, math.Log10(p.Y)), max(hi, math.Log10(p.Y))
			}
		}
	}
	if lo > hi {
		return scale{lo: 0, hi: 1, step: 1, empty: true, log: true}
	}
	lo, hi = math.Floor(lo), math.Ceil(hi)
	if hi == lo {
		hi = lo + 1
	}
	return scale{lo: lo, hi: hi, step: 1, log: true}
}

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

// ticks are the values at which an axis gets a tick and a label.
func (s scale) ticks() []float64 {
	var out []float64
	for i := 0; ; i++ {
		v := s.lo + float64(i)*s.step
		if v > s.hi+s.step/1e6 {
			return out
		}
		out = append(out, v)
	}
}

// label formats a tick value with as many decimals as the step needs; a log scale's tick at
// power v reads 10^v ("0.01", "100").
func (s scale) label(v float64) string {
	if s.log {
		return strconv.FormatFloat(math.Pow(10, v), 'f', max(0, int(-v)), 64)
	}
	decimals := max(0, int(-math.Floor(math.Log10(s.step))))
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

func (s scale) toX(v float64) float64 {
	return marginLeft + (v-s.lo)/(s.hi-s.lo)*plotWidth
}

func (s scale) toY(v float64) float64 {
	if s.log {
		v = math.Log10(v)
	}
	return marginTop + plotHeight - (v-s.lo)/(s.hi-s.lo)*plotHeight
}

// drawAxes draws the frame, grid lines, ticks with labels and the axis titles.
func drawAxes(b *strings.Builder, c Chart, xs, ys scale) {
	bottom, right := marginTop+plotHeight, marginLeft+plotWidth
	for _, v := range xs.ticks() {
		x := xs.toX(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`+"\n", x, marginTop, x, bottom)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/>`+"\n", x, bottom, x, bottom+5)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, bottom+18, xs.label(v))
	}
	for _, v := range ys.ticks() {
		y := ys.toY(v)
		if ys.log {
			y = ys.toY(math.Pow(10, v))
		}
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`+"\n", marginLeft, y, right, y)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="black"/>`+"\n", marginLeft-5, y, marginLeft, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", marginLeft-8, y, ys.label(v))
	}
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black"/>`+"\n", marginLeft, marginTop, plotWidth, plotHeight)
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">%s</text>`+"\n", marginLeft+plotWidth/2, svgHeight-12, escape(c.XLabel))
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle" transform="rotate(-90 %d %d)">%s</text>`+"\n",
		18, marginTop+plotHeight/2, 18, marginTop+plotHeight/2, escape(c.YLabel))
}

// drawSeries draws one series as a polyline with a circle at each point; points that are not
// numbers, or not positive on a log scale, are left out.
func drawSeries(b *strings.Builder, s Series, colour string, xs, ys scale) {
	var pts []string
	for _, p := range s.Points {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) || (ys.log && p.Y <= 0) {
			continue
		}
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", xs.toX(p.X), ys.toY(p.Y)))
	}
	fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", colour, strings.Join(pts, " "))
	for _, p := range pts {
		x, y, _ := strings.Cut(p, ",")
		fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"/>`+"\n", x, y, colour)
	}
}

func drawLegendEntry(b *strings.Builder, i int, name, colour string) {
	y := marginTop + 8 + i*legendLineHeight
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="3"/>`+"\n", legendX, y, legendX+20, y, colour)
	fmt.Fprintf(b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", legendX+26, y, escape(name))
}

// escape makes s safe as SVG text content.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
