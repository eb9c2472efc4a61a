// Package deploy checks the deployment files offline: the Kubernetes
// manifests against the Kubernetes 1.30 schemas (kubectl-validate), every
// collector config in them with the built collector's `validate`, the
// systemd unit with systemd-analyze, the Dockerfile with a linter, and the
// least privileges they grant by running the collector under exactly those
// privileges (setpriv) and finding a workload's exact counts.
//
// `make test` and `make e2e` pass the binaries in OTELCOL_BIN,
// KUBECTL_VALIDATE_BIN and DOCKERFILE_LINT_BIN; without them the tests
// that need them skip (and fail when CI is set).
package deploy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"
	"github.com/seed22255693/syscallsreceiver/internal/kerneltest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// manifests is every YAML document under deploy/kubernetes.
func manifests(t *testing.T) (files []string, docs []map[string]any) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(collectortest.RepoRoot(), "deploy", "kubernetes", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				require.ErrorContains(t, err, "EOF", f)
				break
			}
			if doc != nil {
				docs = append(docs, doc)
			}
		}
	}
	return files, docs
}

func find(t *testing.T, docs []map[string]any, kind, name string) map[string]any {
	t.Helper()
	for _, d := range docs {
		if d["kind"] == kind && get(d, "metadata", "name") == name {
			return d
		}
	}
	t.Fatalf("no %s %s in deploy/kubernetes", kind, name)
	return nil
}

// get walks maps and lists (by int index).
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

// TestKubernetesManifestsValidate checks every manifest against the
// Kubernetes 1.30 OpenAPI schemas, offline.
func TestKubernetesManifestsValidate(t *testing.T) {
	kv := collectortest.Binary(t, "KUBECTL_VALIDATE_BIN", "_build/tools/kubectl-validate-v0.0.4/kubectl-validate")
	files, docs := manifests(t)
	out, err := exec.Command(kv, append([]string{"--version", "1.30"}, files...)...).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("kubectl-validate --version 1.30: %d files, %d objects valid", len(files), len(docs))

	// The validator also rejects what it should.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	data, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(), "deploy", "kubernetes", "daemonset.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(bad, bytes.Replace(data, []byte("hostPID: true"), []byte("hostPIDs: true"), 1), 0o644))
	out, err = exec.Command(kv, "--version", "1.30", bad).CombinedOutput()
	assert.Error(t, err, "kubectl-validate accepted hostPIDs:\n%s", out)
}

// TestDaemonSetGrantsOnlyWhatBPFNeeds pins the DaemonSet's privileges and
// mounts, and the agent config's use of them.
func TestDaemonSetGrantsOnlyWhatBPFNeeds(t *testing.T) {
	_, docs := manifests(t)
	ds := find(t, docs, "DaemonSet", "otelcol-syscalls")
	pod := get(ds, "spec", "template", "spec")
	assert.Equal(t, true, get(pod, "hostPID"))
	assert.Nil(t, get(pod, "hostNetwork"))
	assert.Equal(t, "otelcol-syscalls", get(pod, "serviceAccountName"))
	assert.Equal(t, true, get(pod, "securityContext", "runAsNonRoot"))
	c := get(pod, "containers", 0)
	sc := get(c, "securityContext")
	assert.Equal(t, []any{"ALL"}, get(sc, "capabilities", "drop"))
	assert.Equal(t, []any{"BPF", "PERFMON"}, get(sc, "capabilities", "add"))
	assert.Nil(t, get(sc, "privileged"))
	assert.Equal(t, true, get(sc, "readOnlyRootFilesystem"))
	for _, r := range []string{"requests", "limits"} {
		assert.NotNil(t, get(c, "resources", r, "cpu"), r)
		assert.NotNil(t, get(c, "resources", r, "memory"), r)
	}
	env := map[string]any{}
	for _, e := range get(c, "env").([]any) {
		env[get(e, "name").(string)] = get(e, "valueFrom")
	}
	assert.Equal(t, "spec.nodeName", get(env["K8S_NODE_NAME"], "fieldRef", "fieldPath"))

	mounts := map[string]bool{}
	for _, m := range get(c, "volumeMounts").([]any) {
		mounts[get(m, "mountPath").(string)] = get(m, "readOnly") == true
	}
	hostPaths := map[string]bool{}
	for _, v := range get(pod, "volumes").([]any) {
		if p, ok := get(v, "hostPath", "path").(string); ok {
			hostPaths[p] = true
		}
	}
	for _, p := range []string{"/sys/kernel/btf", "/sys/fs/cgroup"} {
		assert.True(t, mounts[p], "%s mounted read-only", p)
		assert.True(t, hostPaths[p], "%s from the host", p)
	}
	assert.Len(t, hostPaths, 2, "no other host paths (bpffs only with pin_path, commented out)")

	// The ConfigMap's config uses the node name and associates pods by uid
	// and container id.
	cfg := agentConfig(t, docs)
	assert.Contains(t, cfg, `value: "${env:K8S_NODE_NAME}"`)
	assert.Contains(t, cfg, "node_from_env_var: K8S_NODE_NAME")
	assert.Regexp(t, `(?s)pod_association:\s+- sources: \[\{from: resource_attribute, name: k8s.pod.uid\}\]\s+- sources: \[\{from: resource_attribute, name: container.id\}\]`, cfg)
	assert.Regexp(t, `processors: \[memory_limiter, k8s_attributes, resource, batch\]`, cfg)

	// The ClusterRole only reads.
	role := find(t, docs, "ClusterRole", "otelcol-syscalls")
	for _, r := range get(role, "rules").([]any) {
		assert.ElementsMatch(t, []any{"get", "list", "watch"}, get(r, "verbs"))
	}
}

func agentConfig(t *testing.T, docs []map[string]any) string {
	t.Helper()
	cfg, ok := get(find(t, docs, "ConfigMap", "otelcol-syscalls"), "data", "config.yaml").(string)
	require.True(t, ok)
	return cfg
}

// validate runs the built collector's `validate` on config.
func validate(t *testing.T, name, config string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".yaml")
	require.NoError(t, os.WriteFile(f, []byte(config), 0o644))
	cmd := exec.Command(collectortest.Otelcol(t), "validate", "--config", f)
	cmd.Env = append(os.Environ(), "K8S_NODE_NAME=node-1", "MY_POD_IP=10.0.0.1", "POD_IP=10.0.0.1",
		// What deploy/fleet's configs and the gateway Deployment read.
		"NODE_NAME=node-1", "GATEWAYS=dns:///gateways.example.internal:4317",
		"BACKEND_OTLP=http://vminsert:8480/insert/0/opentelemetry/v1/metrics")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s:\n%s\n%s", name, out, config)
	t.Logf("%s: otelcol-syscalls validate: ok", name)
}

// TestCollectorConfigsValidate: the agent's and the gateway's configs in
// the ConfigMaps are accepted by our collector build.
func TestCollectorConfigsValidate(t *testing.T) {
	_, docs := manifests(t)
	validate(t, "agent", agentConfig(t, docs))
	gw, ok := get(find(t, docs, "ConfigMap", "otel-gateway"), "data", "config.yaml").(string)
	require.True(t, ok)
	validate(t, "gateway", gw)
}

// chartBase stands in for the parts of the opentelemetry-collector chart's
// default config that deploy/helm/values.yaml relies on (the chart itself
// cannot be fetched offline): memory_limiter and the mandatory health_check.
const chartBase = `
extensions:
  health_check:
    endpoint: ${env:MY_POD_IP}:13133
processors:
  memory_limiter:
    check_interval: 5s
    limit_percentage: 80
    spike_limit_percentage: 25
service:
  extensions: [health_check]
`

// TestHelmValues: the values parse, run our image as the DaemonSet does,
// and their config, merged into the chart's base as the chart merges it
// (nulls delete), is accepted by our collector.
func TestHelmValues(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(), "deploy", "helm", "values.yaml"))
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, yaml.Unmarshal(data, &v))
	assert.Equal(t, "daemonset", v["mode"])
	assert.Equal(t, "otelcol-syscalls", get(v, "command", "name"))
	assert.Equal(t, true, v["hostPID"])
	assert.Equal(t, []any{"BPF", "PERFMON"}, get(v, "securityContext", "capabilities", "add"))
	assert.Equal(t, []any{"ALL"}, get(v, "securityContext", "capabilities", "drop"))

	// The Helm values and the plain manifests configure the same pipeline.
	_, docs := manifests(t)
	var agent map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(agentConfig(t, docs)), &agent))
	for _, p := range [][]any{
		{"receivers", "syscalls"},
		{"processors", "k8s_attributes"},
		{"processors", "resource"},
		{"exporters", "otlp_grpc"},
		{"service", "pipelines", "metrics"},
	} {
		assert.Equal(t, get(agent, p...), get(v, append([]any{"config"}, p...)...), "config %v", p)
	}

	var base map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(chartBase), &base))
	merged := merge(base, get(v, "config").(map[string]any))
	out, err := yaml.Marshal(merged)
	require.NoError(t, err)
	validate(t, "helm-values", string(out))
}

// merge is Helm's merge of values maps: maps merge recursively, other
// values replace, null deletes.
func merge(dst, src map[string]any) map[string]any {
	for k, sv := range src {
		if sv == nil {
			delete(dst, k)
			continue
		}
		sm, ok1 := sv.(map[string]any)
		dm, ok2 := dst[k].(map[string]any)
		if ok1 && ok2 {
			dst[k] = merge(dm, sm)
		} else if ok1 {
			dst[k] = merge(map[string]any{}, sm)
		} else {
			dst[k] = sv
		}
	}
	return dst
}

// TestHelmTemplate renders the official chart (0.170.0, unmodified, from
// the team's shared reference: OTEL_COLLECTOR_CHART, which `make test`
// sets) with our values, lints them with helm lint, and runs the rendered
// manifests through kubectl-validate and the rendered collector config
// through validate.
func TestHelmTemplate(t *testing.T) {
	chart := os.Getenv("OTEL_COLLECTOR_CHART")
	if chart == "" {
		chart = filepath.Join(collectortest.RepoRoot(), "..", "shared", "charts", "opentelemetry-collector")
	}
	if _, err := os.Stat(filepath.Join(chart, "Chart.yaml")); err != nil {
		msg := fmt.Sprintf("no opentelemetry-collector chart at %s (set OTEL_COLLECTOR_CHART): %v", chart, err)
		if kerneltest.InCI() {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	helm := collectortest.Binary(t, "HELM_BIN", "_build/tools/helm-v3.22.0/helm")
	kv := collectortest.Binary(t, "KUBECTL_VALIDATE_BIN", "_build/tools/kubectl-validate-v0.0.4/kubectl-validate")
	values := filepath.Join(collectortest.RepoRoot(), "deploy", "helm", "values.yaml")
	lint, err := exec.Command(helm, "lint", chart, "-f", values).CombinedOutput()
	require.NoError(t, err, "helm lint: %s", lint)
	require.Contains(t, string(lint), "1 chart(s) linted, 0 chart(s) failed")
	out, err := exec.Command(helm, "template", "otelcol-syscalls", chart, "--namespace", "otel-syscalls",
		"-f", values).CombinedOutput()
	require.NoError(t, err, "%s", out)
	rendered := filepath.Join(t.TempDir(), "rendered.yaml")
	require.NoError(t, os.WriteFile(rendered, out, 0o644))
	vout, err := exec.Command(kv, "--version", "1.30", rendered).CombinedOutput()
	require.NoError(t, err, "%s", vout)

	var relay string
	dec := yaml.NewDecoder(bytes.NewReader(out))
	kinds := map[string]int{}
	for {
		var doc map[string]any
		if dec.Decode(&doc) != nil {
			break
		}
		if doc == nil {
			continue
		}
		kinds[fmt.Sprint(doc["kind"])]++
		if doc["kind"] == "ConfigMap" {
			relay, _ = get(doc, "data", "relay").(string)
		}
		if doc["kind"] == "DaemonSet" {
			pod := get(doc, "spec", "template", "spec")
			assert.Equal(t, true, get(pod, "hostPID"))
			assert.Equal(t, "/otelcol-syscalls", get(pod, "containers", 0, "command", 0))
		}
	}
	t.Logf("helm template: %v", kinds)
	assert.Equal(t, 1, kinds["DaemonSet"])
	assert.Equal(t, 1, kinds["ClusterRole"])
	require.NotEmpty(t, relay, "no collector config (ConfigMap key relay) rendered")
	validate(t, "helm-rendered", relay)
}

// TestSystemdUnitVerifies: systemd-analyze verify reports nothing, not even
// a warning (an unknown key is only a warning to systemd).
func TestSystemdUnitVerifies(t *testing.T) {
	sa := collectortest.Binary(t, "SYSTEMD_ANALYZE_BIN", "systemd-analyze")
	bin := collectortest.Otelcol(t)
	data, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(), "deploy", "systemd", "otelcol-syscalls.service"))
	require.NoError(t, err)
	// verify checks that ExecStart's binary exists: point it at the build.
	unit := filepath.Join(t.TempDir(), "otelcol-syscalls.service")
	require.NoError(t, os.WriteFile(unit, bytes.ReplaceAll(data, []byte("/usr/local/bin/otelcol-syscalls"), []byte(bin)), 0o644))
	out, err := exec.Command(sa, "verify", unit).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)))
	out, err = exec.Command(sa, "security", "--offline=yes", unit).CombinedOutput()
	require.NoError(t, err, "%s", out)
	if m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\w+)`).FindStringSubmatch(string(out)); assert.NotNil(t, m) {
		assert.Equal(t, "OK", m[2], "systemd-analyze security rates the unit %s %s", m[1], m[2])
		t.Logf("systemd-analyze verify: clean; security exposure %s %s", m[1], m[2])
	}
}

// unitSettings reads Key=Value lines of the systemd unit.
func unitSettings(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(), "deploy", "systemd", "otelcol-syscalls.service"))
	require.NoError(t, err)
	s := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			s[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return s
}

// TestDockerfile lints the Dockerfile and checks it builds with the same
// ocb and Go as the Makefile and go.mod (no docker engine runs here, so
// the image itself is not built).
func TestDockerfile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(), "Dockerfile"))
	require.NoError(t, err)
	df := string(data)
	mk, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(), "Makefile"))
	require.NoError(t, err)
	ocb := regexp.MustCompile(`(?m)^OCB_VERSION := (\S+)`).FindStringSubmatch(string(mk))
	require.NotNil(t, ocb)
	assert.Contains(t, df, "ARG OCB_VERSION="+ocb[1])
	assert.Contains(t, df, "ARG GO_VERSION="+strings.TrimPrefix(runtime.Version(), "go"), "the Go the tests run with")
	assert.Regexp(t, `(?m)^USER 65532:65532$`, df)
	assert.Contains(t, df, "setcap cap_bpf,cap_perfmon+ep")
	assert.Contains(t, df, `ENTRYPOINT ["/otelcol-syscalls"]`)

	lint := collectortest.Binary(t, "DOCKERFILE_LINT_BIN", "_build/tools/npm/node_modules/.bin/dockerfile-utils")
	out, err := exec.Command(lint, "lint", filepath.Join(collectortest.RepoRoot(), "Dockerfile")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Empty(t, strings.TrimSpace(string(out)))
	t.Logf("dockerfile-utils lint: clean")
}
