package receiver

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/collector/scraper/scraperhelper"

	"github.com/seed22255693/syscallsreceiver/receiver/internal/metadata"
)

// GroupByProcess gives each process its own resource.
const GroupByProcess = "process"

// validGroupBy lists what group_by accepts.
var validGroupBy = []string{GroupByProcess}

// Config is the receiver's configuration.
type Config struct {
	scraperhelper.ControllerConfig `mapstructure:",squash"`
	metadata.MetricsBuilderConfig  `mapstructure:",squash"`

	// GroupBy chooses the resources counts are kept for: [process] gives
	// one resource per process, [] one for the whole host.
	GroupBy []string `mapstructure:"group_by"`

	// ExcludeSelf leaves the collector's own syscalls out, so that it does
	// not measure itself.
	ExcludeSelf bool `mapstructure:"exclude_self"`

	_ struct{}
}

func createDefaultConfig() *Config {
	controller := scraperhelper.NewDefaultControllerConfig()
	controller.CollectionInterval = 10 * time.Second
	return &Config{
		ControllerConfig:     controller,
		MetricsBuilderConfig: metadata.DefaultMetricsBuilderConfig(),
		GroupBy:              []string{GroupByProcess},
		ExcludeSelf:          true,
	}
}

// Validate reports every invalid value, naming its key. The embedded
// configs validate themselves.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, g := range c.GroupBy {
		switch {
		case !slices.Contains(validGroupBy, g):
			errs = append(errs, fmt.Errorf("group_by: unknown value %q (valid values: %s; [] counts system-wide)",
				g, strings.Join(validGroupBy, ", ")))
		case seen[g]:
			errs = append(errs, fmt.Errorf("group_by: %q is listed twice", g))
		}
		seen[g] = true
	}
	m := c.Metrics
	if !m.SyscallCalls.Enabled && !m.SyscallErrors.Enabled && !m.SyscallDuration.Enabled {
		errs = append(errs, errors.New("metrics: syscall.calls, syscall.errors and syscall.duration are all disabled; enable at least one"))
	}
	return errors.Join(errs...)
}

func (c *Config) groupByProcess() bool { return slices.Contains(c.GroupBy, GroupByProcess) }
