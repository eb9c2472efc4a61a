// Package syscallsreceiver is the syscalls receiver: an OpenTelemetry Collector receiver that counts
// every syscall in the kernel with eBPF and exports calls, errors (by errno)
// and time spent as OTLP metrics, system-wide or per process.
package syscallsreceiver

//go:generate go tool mdatagen metadata.yaml
