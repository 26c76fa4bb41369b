package bench

import (
	"encoding/xml"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// svgDoc is the part of an SVG document the tests read back.
type svgDoc struct {
	XMLName   xml.Name `xml:"svg"`
	Polylines []struct {
		Points string `xml:"points,attr"`
		Stroke string `xml:"stroke,attr"`
	} `xml:"polyline"`
	Circles []struct {
		CX float64 `xml:"cx,attr"`
		CY float64 `xml:"cy,attr"`
	} `xml:"circle"`
	Texts []string `xml:"text"`
}

func parseSVG(t *testing.T, s string) svgDoc {
	t.Helper()
	var doc svgDoc
	if err := xml.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatalf("not well-formed SVG: %v\n%s", err, s)
	}
	return doc
}

func TestSVG(t *testing.T) {
	tests := map[string]struct {
		chart     Chart
		polylines int
		circles   int
		texts     []string // each must appear as a text element
	}{
		"two series get two lines, a legend and labelled axes": {
			chart: Chart{Title: "0→1 per trial", XLabel: "trial", YLabel: "seconds", Series: []Series{
				{Name: "rabbitmq 1 s", Points: []Point{{1, 0.4}, {2, 1.1}, {3, 0.7}}},
				{Name: "nats push", Points: []Point{{1, 0.05}, {2, 0.07}, {3, 0.06}}},
			}},
			polylines: 2, circles: 6,
			texts: []string{"0→1 per trial", "trial", "seconds", "rabbitmq 1 s", "nats push", "0.0", "1.5"},
		},
		"names are escaped": {
			chart:     Chart{Title: `a < b & "c"`, Series: []Series{{Name: "<x>", Points: []Point{{0, 1}}}}},
			polylines: 1, circles: 1,
			texts: []string{`a < b & "c"`, "<x>"},
		},
		"points that are not numbers are left out": {
			chart:     Chart{Series: []Series{{Name: "s", Points: []Point{{1, 2}, {2, math.NaN()}, {3, math.Inf(1)}, {4, 3}}}}},
			polylines: 1, circles: 2,
		},
		"no points still draws the axes and says so": {
			chart:     Chart{Title: "empty", Series: []Series{{Name: "s"}}},
			polylines: 1, circles: 0,
			texts: []string{"empty", "no data", "s"},
		},
		"a log axis ticks at powers of ten and leaves out zeros": {
			chart:     Chart{LogY: true, Series: []Series{{Name: "s", Points: []Point{{1, 0.012}, {2, 0}, {3, 27.8}}}}},
			polylines: 1, circles: 2,
			texts: []string{"0.01", "0.1", "1", "10", "100"},
		},
		"large values get round ticks": {
			chart:     Chart{Series: []Series{{Name: "s", Points: []Point{{1, 12000}, {20, 61000}}}}},
			polylines: 1, circles: 2,
			texts: []string{"0", "80000"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			doc := parseSVG(t, SVG(tc.chart))
			if len(doc.Polylines) != tc.polylines {
				t.Errorf("%d polylines, want %d", len(doc.Polylines), tc.polylines)
			}
			if len(doc.Circles) != tc.circles {
				t.Errorf("%d circles, want %d", len(doc.Circles), tc.circles)
			}
			for _, want := range tc.texts {
				if !slices.Contains(doc.Texts, want) {
					t.Errorf("no text %q in %q", want, doc.Texts)
				}
			}
			for _, c := range doc.Circles {
				if c.CX < marginLeft || c.CX > marginLeft+plotWidth || c.CY < marginTop || c.CY > marginTop+plotHeight {
					t.Errorf("point (%v, %v) outside the plot area", c.CX, c.CY)
				}
			}
		})
	}
}

// TestSVGPlacesPoints: a point's position follows its value, so the highest value is drawn
// highest (smallest y) and the first x leftmost.
func TestSVGPlacesPoints(t *testing.T) {
	doc := parseSVG(t, SVG(Chart{Series: []Series{{Name: "s", Points: []Point{{1, 1}, {2, 5}, {3, 2}}}}}))
	var xs, ys []float64
	for _, p := range strings.Fields(doc.Polylines[0].Points) {
		x, y, _ := strings.Cut(p, ",")
		xf, _ := strconv.ParseFloat(x, 64)
		yf, _ := strconv.ParseFloat(y, 64)
		xs, ys = append(xs, xf), append(ys, yf)
	}
	if !slices.IsSorted(xs) {
		t.Errorf("x positions %v not increasing with x", xs)
	}
	if !(ys[1] < ys[2] && ys[2] < ys[0]) {
		t.Errorf("y positions %v do not order 5 above 2 above 1", ys)
	}
}

// TestSVGLogPlacesPoints: on a log axis 0.1, 1 and 10 are equally far apart.
func TestSVGLogPlacesPoints(t *testing.T) {
	doc := parseSVG(t, SVG(Chart{LogY: true, Series: []Series{{Name: "s", Points: []Point{{1, 0.1}, {2, 1}, {3, 10}}}}}))
	var ys []float64
	for _, c := range doc.Circles {
		ys = append(ys, c.CY)
	}
	if len(ys) != 3 || math.Abs((ys[0]-ys[1])-(ys[1]-ys[2])) > 0.2 || ys[0] <= ys[1] {
		t.Errorf("y positions %v: want 0.1 lowest and equal steps to 1 and 10", ys)
	}
}

func TestNiceStep(t *testing.T) {
	tests := map[float64]float64{0.13: 0.2, 0.9: 1, 1: 1, 2.2: 5, 7: 10, 12000: 20000, 0.004: 0.005}
	for raw, want := range tests {
		if got := niceStep(raw); math.Abs(got-want) > want*1e-9 {
			t.Errorf("niceStep(%v) = %v, want %v", raw, got, want)
		}
	}
}
