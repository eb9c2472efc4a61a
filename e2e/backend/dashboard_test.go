//go:build linux

package backend

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/seed22255693/syscallsreceiver/internal/workload"
)

// The parts of a Grafana dashboard JSON model that the test reads.
type dashboard struct {
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
			AllValue   string `json:"allValue"`
		} `json:"list"`
	} `json:"templating"`
	Panels []dashPanel `json:"panels"`
}

type dashPanel struct {
	ID      int         `json:"id"`
	Type    string      `json:"type"`
	Title   string      `json:"title"`
	Panels  []dashPanel `json:"panels"` // collapsed rows hold their panels
	Targets []struct {
		RefID  string `json:"refId"`
		Expr   string `json:"expr"`
		Format string `json:"format"`
		Hide   bool   `json:"hide"`
	} `json:"targets"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
}

// The two flavours of the dashboard: the same panels; the duration
// histogram's queries read VictoriaMetrics' vmrange buckets in one and
// Prometheus' native histograms in the other.
const (
	vmDashboard         = "syscalls.json"
	prometheusDashboard = "syscalls-prometheus.json"
)

func loadDashboard(t *testing.T, file string) dashboard {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(), "deploy", "grafana", file))
	require.NoError(t, err)
	var d dashboard
	require.NoError(t, json.Unmarshal(data, &d))
	return d
}

// panels flattens rows.
func (d dashboard) panels() []dashPanel {
	var out []dashPanel
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

var (
	// Grafana variable references: $name, ${name}, ${name:format}, [[name]].
	varRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)
	// label_values(MATCH, LABEL), Grafana's variable query.
	labelValuesRe = regexp.MustCompile(`^label_values\((.*),\s*(\w+)\)$`)
)

// workloadVars are the variable values of a user who picked the test
// workload: its node, container and process, the three syscalls it makes (a
// multi-value selection, which Grafana renders as a regex alternation).
func workloadVars(r run) map[string]string {
	return map[string]string{
		"node":      e2eNode,
		"container": r.containerID,
		"process":   workload.SteadyComm,
		"syscall":   "(getppid|openat|write)",
	}
}

// allVars is every variable at "All" (its allValue).
var allVars = map[string]string{"node": ".*", "container": ".*", "process": ".*", "syscall": ".*"}

// substitute replaces dashboard variables as Grafana does, with Grafana's
// own interval variables set for a short test run.
func substitute(t *testing.T, expr string, vars map[string]string) string {
	t.Helper()
	values := map[string]string{
		"__rate_interval": "2m",
		"__interval":      "15s",
		"__range":         "5m",
	}
	for k, v := range vars {
		values[k] = v
	}
	return varRef.ReplaceAllStringFunc(expr, func(ref string) string {
		m := varRef.FindStringSubmatch(ref)
		name := m[1] + m[2] + m[3]
		v, ok := values[name]
		if !ok {
			t.Errorf("%q uses variable %s, which the test does not know", expr, ref)
		}
		return v
	})
}

// checkDashboard runs every query of a flavour of the dashboard
// (deploy/grafana) against the backend, with the variables set to the
// steady workload, and requires data for it: at least one positive, finite
// value; and where a result carries the process, container or errno, the
// workload's own among them.
func checkDashboard(t *testing.T, api promAPI, r run, file string) {
	d := loadDashboard(t, file)
	// First the steady workload's totals, all of them: a backend that
	// scrapes (or a loaded machine) can be a few seconds behind.
	api.eventually(t, fmt.Sprintf(`syscall_calls_total{process_pid="%d",syscall_name="getppid"}`, r.steadyPid),
		float64(steadyRounds*steadySpec.Getppid))

	// Variable queries (label_values) list the workload's values.
	wantValue := map[string]string{
		"node": e2eNode, "container": r.containerID, "process": workload.SteadyComm, "syscall": "getppid",
	}
	vars := 0
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		vars++
		m := labelValuesRe.FindStringSubmatch(v.Definition)
		require.NotNil(t, m, "variable %s: %q is not label_values(match, label)", v.Name, v.Definition)
		match := substitute(t, m[1], allVars)
		got, err := api.labelValues(match, m[2])
		if assert.NoError(t, err, "variable %s", v.Name) {
			assert.Contains(t, got, wantValue[v.Name], "variable %s: label_values(%s, %s)", v.Name, match, m[2])
			t.Logf("variable %s: %d values, %s among them", v.Name, len(got), wantValue[v.Name])
		}
		assert.Equal(t, ".*", v.AllValue, "variable %s: All must match series without the label", v.Name)
	}
	assert.Equal(t, 4, vars, "variables node, container, process, syscall")

	queries := 0
	for _, p := range d.panels() {
		if p.Type == "row" {
			continue
		}
		assert.Equal(t, "${datasource}", p.Datasource.UID, "panel %q", p.Title)
		require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
		for _, tg := range p.Targets {
			if tg.Hide {
				continue
			}
			queries++
			checkQuery(t, api, p.Title+"/"+tg.RefID, substitute(t, tg.Expr, workloadVars(r)), tg.Format, r)
		}
	}
	t.Logf("%s: %d dashboard queries of %s", api.name, queries, file)
	assert.GreaterOrEqual(t, queries, 13)
}

// TestDashboardFlavoursAgree keeps the two flavours one dashboard: the
// same variables and panels, and the same queries except those of the
// duration histogram.
func TestDashboardFlavoursAgree(t *testing.T) {
	vm, prom := loadDashboard(t, vmDashboard), loadDashboard(t, prometheusDashboard)
	assert.Equal(t, vm.Templating, prom.Templating, "variables")
	vmPanels, promPanels := vm.panels(), prom.panels()
	require.Len(t, promPanels, len(vmPanels))
	histogramQueries := 0
	for i, p := range vmPanels {
		q := promPanels[i]
		assert.Equal(t, []any{p.ID, p.Type, p.Title}, []any{q.ID, q.Type, q.Title}, "panel %d", i)
		require.Len(t, q.Targets, len(p.Targets), "panel %q", p.Title)
		for j, tg := range p.Targets {
			if strings.Contains(tg.Expr, "syscall_duration_seconds") {
				histogramQueries++
				assert.NotContains(t, q.Targets[j].Expr, "vmrange", "panel %q: Prometheus has no vmrange", p.Title)
				assert.NotContains(t, q.Targets[j].Expr, "syscall_duration_seconds_", "panel %q: a native histogram has no _sum, _count, _bucket", p.Title)
				continue
			}
			assert.Equal(t, tg.Expr, q.Targets[j].Expr, "panel %q", p.Title)
		}
	}
	assert.Equal(t, 5, histogramQueries)
}

func checkQuery(t *testing.T, api promAPI, name, q, format string, r run) {
	t.Helper()
	{
		{
			t.Run(name, func(t *testing.T) {
				var res []sample
				var err error
				// The last exports may still be on their way.
				for range 40 {
					if res, err = api.query(q); err == nil && hasPositive(res) {
						break
					}
					time.Sleep(250 * time.Millisecond)
				}
				require.NoError(t, err)
				require.True(t, hasPositive(res), "%s: no positive value for the workload: %v", q, res)
				for label, want := range map[string]string{
					"process_executable_name": workload.SteadyComm,
					"container_id":            r.containerID,
					"error_type":              "ENOENT",
				} {
					if vals := labelValuesOf(res, label); vals != nil {
						assert.Contains(t, vals, want, "%s: %s", q, label)
					}
				}
				if format == "heatmap" {
					assert.NotEmpty(t, labelValuesOf(res, "le"), "%s: a heatmap needs le buckets", q)
				}
				t.Logf("%s → %d series, e.g. %v = %.4g", q, len(res), res[0].Metric, res[0].Value)
			})
		}
	}
}

func hasPositive(res []sample) bool {
	for _, s := range res {
		if s.Value > 0 && !math.IsInf(s.Value, 0) && !math.IsNaN(s.Value) {
			return true
		}
	}
	return false
}

// labelValuesOf is the values of label in res, nil if no series has it.
func labelValuesOf(res []sample, label string) []string {
	var out []string
	for _, s := range res {
		if v, ok := s.Metric[label]; ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
