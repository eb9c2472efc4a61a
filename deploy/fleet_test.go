package deploy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/seed22255693/syscallsreceiver/internal/collectortest"
)

func fleetConfig(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(collectortest.RepoRoot(), "deploy", "fleet", name))
	require.NoError(t, err)
	return string(data)
}

// TestFleetConfigs: the fleet configs that e2e/backend's TestFleet runs are
// the ones Kubernetes runs. The gateway's ConfigMap holds
// deploy/fleet/gateway.yaml unchanged, and the DaemonSet's agent exports to
// the gateways with the same balancing, queue and retries as
// deploy/fleet/agent.yaml (only the gateways' address differs). Both
// configs pass the built collector's validate.
func TestFleetConfigs(t *testing.T) {
	_, docs := manifests(t)
	gateway := fleetConfig(t, "gateway.yaml")
	assert.Equal(t, gateway, get(find(t, docs, "ConfigMap", "otel-gateway"), "data", "config.yaml"),
		"deploy/kubernetes/gateway.yaml's ConfigMap must hold deploy/fleet/gateway.yaml unchanged")

	agent := fleetConfig(t, "agent.yaml")
	var fleet, kube map[string]any
	require.NoError(t, yaml.Unmarshal([]byte(agent), &fleet))
	require.NoError(t, yaml.Unmarshal([]byte(agentConfig(t, docs)), &kube))
	fleetExporter, ok := get(fleet, "exporters", "otlp_grpc").(map[string]any)
	require.True(t, ok)
	kubeExporter, ok := get(kube, "exporters", "otlp_grpc").(map[string]any)
	require.True(t, ok)
	delete(fleetExporter, "endpoint")
	delete(kubeExporter, "endpoint")
	assert.Equal(t, fleetExporter, kubeExporter, "the agents' otlp_grpc exporters")

	validate(t, "fleet-agent", agent)
	validate(t, "fleet-gateway", gateway)
}
