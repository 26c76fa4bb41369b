package bench

// SVG draws a chart as a standalone SVG document.
// TODO(bench helper): axes, ticks, one polyline per series, a legend.
func SVG(c Chart) string {
	return `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"></svg>`
}
