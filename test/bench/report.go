package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Env is what every scenario gets.
type Env struct {
	// EBB is the built ebb binary.
	EBB string
	// Repo is the ebb checkout: deploy/kustomize (CRDs, arguments) and the Go packages.
	Repo string
	// Dir is a scratch folder for this scenario (logs, stores, kubeconfigs).
	Dir string
	// Trials is how often a latency scenario repeats (the issues ask for 20, or 5 at least).
	Trials int
	// Quick shrinks counts and trials so a scenario can be tried in a minute.
	Quick bool
	Log   *slog.Logger
}

// Scenario is one measurement.
type Scenario struct {
	Name string
	Run  func(ctx context.Context, env Env) (Section, error)
}

// Section is one scenario's part of the report.
type Section struct {
	Title string
	// Intro says what was measured and how, in a sentence or two.
	Intro   string
	Tables  []Table
	Charts  []Chart
	Targets []Target
	Notes   []string
}

// Table is a markdown table.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Chart is drawn as <Name>.svg beside the report.
type Chart struct {
	Name                  string
	Title, XLabel, YLabel string
	Series                []Series
	// LogY draws the y axis in powers of ten, for values that span several (10 ms and 30 s);
	// points at or below zero are then left out.
	LogY bool
}

// Series is one line of a chart.
type Series struct {
	Name   string
	Points []Point
}

// Point is one (x, y) of a series.
type Point struct{ X, Y float64 }

// Target is a design target from an issue and what this run measured against it.
type Target struct {
	Name string
	Want string
	Got  string
	Met  bool
	// Miss says by how much a missed target was missed.
	Miss string
}

// Machine describes where a report was measured.
type Machine struct {
	Started time.Time
	Host    string
	CPUs    int
	Memory  string
	Go      string
	Commit  string
}

// Write writes report.md and the charts' SVGs into dir.
func Write(dir string, m Machine, sections []Section) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report dir: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# ebb benchmark report\n\n%s, commit %s, on %s: %d CPUs, %s memory, %s.\n\n",
		m.Started.UTC().Format(time.RFC3339), m.Commit, m.Host, m.CPUs, m.Memory, m.Go)
	for _, s := range sections {
		writeSection(&b, s)
		for _, c := range s.Charts {
			if err := os.WriteFile(filepath.Join(dir, c.Name+".svg"), []byte(SVG(c)), 0o644); err != nil {
				return fmt.Errorf("chart %s: %w", c.Name, err)
			}
		}
	}
	return os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644)
}

func writeSection(b *strings.Builder, s Section) {
	fmt.Fprintf(b, "## %s\n\n", s.Title)
	if s.Intro != "" {
		fmt.Fprintf(b, "%s\n\n", s.Intro)
	}
	for _, t := range s.Tables {
		writeTable(b, t)
	}
	if len(s.Targets) > 0 {
		t := Table{Columns: []string{"target", "wanted", "measured", "met"}}
		for _, tg := range s.Targets {
			met := "yes"
			if !tg.Met {
				met = "no: " + tg.Miss
			}
			t.Rows = append(t.Rows, []string{tg.Name, tg.Want, tg.Got, met})
		}
		writeTable(b, t)
	}
	for _, c := range s.Charts {
		fmt.Fprintf(b, "![%s](%s.svg)\n\n", c.Title, c.Name)
	}
	for _, n := range s.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	if len(s.Notes) > 0 {
		b.WriteString("\n")
	}
}

func writeTable(b *strings.Builder, t Table) {
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(t.Columns, " | "), strings.Repeat(" --- |", len(t.Columns)))
	for _, r := range t.Rows {
		fmt.Fprintf(b, "| %s |\n", strings.Join(r, " | "))
	}
	b.WriteString("\n")
}
