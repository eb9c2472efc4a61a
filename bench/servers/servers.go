//go:build linux

// Package servers runs real programs as benchmark workloads: redis and
// nginx on loopback, driven by their usual load generators, and fio on
// tmpfs. Each server is pinned to CPU 0 and its load generator to CPU 1, so
// that the two do not compete for one CPU of a 2-CPU machine.
package servers

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Workload is a real program under load: Run measures its throughput.
type Workload interface {
	Name() string
	// Unit is what Run's figure counts per second.
	Unit() string
	// Run drives the program once and returns its throughput.
	Run() (float64, error)
	// Stop ends what Start began.
	Stop()
}

// Tools are the Debian packages the workloads need, by command.
var Tools = map[string]string{
	"redis-server": "redis-server", "redis-benchmark": "redis-tools", "nginx": "nginx", "wrk": "wrk", "fio": "fio",
	"taskset": "util-linux",
}

func pinned(cpu int, argv ...string) *exec.Cmd {
	return exec.Command("taskset", append([]string{"-c", strconv.Itoa(cpu)}, argv...)...)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitPort(port int) error {
	for range 200 {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			_ = c.Close()
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on 127.0.0.1:%d after 5 s", port)
}

type server struct {
	cmd  *exec.Cmd
	port int
}

func (s *server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
}

func (s *server) start(argv func(port int) []string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	s.port = port
	s.cmd = pinned(0, argv(port)...)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", s.cmd.Args[3], err)
	}
	if err := waitPort(port); err != nil {
		s.Stop()
		return fmt.Errorf("%s: %w", s.cmd.Args[3], err)
	}
	return nil
}

// Redis is redis-server without persistence, under redis-benchmark's GET
// and SET from 20 clients.
type Redis struct {
	server
	Requests int
}

// StartRedis starts redis-server on a free loopback port.
func StartRedis(requests int) (*Redis, error) {
	r := &Redis{Requests: requests}
	err := r.start(func(port int) []string {
		return []string{"redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	})
	return r, err
}

func (r *Redis) Name() string { return "redis GET+SET" }
func (r *Redis) Unit() string { return "requests/s" }

// Run returns the mean of the GET and SET rates.
func (r *Redis) Run() (float64, error) {
	out, err := pinned(1, "redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(r.port), "-q", "-n", strconv.Itoa(r.Requests),
		"-c", "20", "-t", "get,set", "--csv").Output()
	if err != nil {
		return 0, fmt.Errorf("redis-benchmark: %w", err)
	}
	// "SET","151515.16",... and "GET",...
	var sum float64
	var n int
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 2 || (f[0] != `"SET"` && f[0] != `"GET"`) {
			continue
		}
		v, err := strconv.ParseFloat(strings.Trim(f[1], `"`), 64)
		if err != nil {
			return 0, fmt.Errorf("redis-benchmark: %q: %w", line, err)
		}
		sum, n = sum+v, n+1
	}
	if n != 2 {
		return 0, fmt.Errorf("redis-benchmark printed no GET and SET rates: %s", out)
	}
	return sum / 2, nil
}

// Nginx is one nginx process serving a 4 KiB static file, under wrk with
// one thread and 20 connections.
type Nginx struct {
	server
	Duration time.Duration
}

// StartNginx starts nginx (no master process, one worker) in dir.
func StartNginx(dir string, d time.Duration) (*Nginx, error) {
	n := &Nginx{Duration: d}
	www := filepath.Join(dir, "www")
	if err := os.MkdirAll(www, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(www, "index.html"), []byte(strings.Repeat("x", 4096)), 0o644); err != nil {
		return nil, err
	}
	err := n.start(func(port int) []string {
		conf := fmt.Sprintf(`daemon off; master_process off; worker_processes 1;
error_log %[1]s/error.log; pid %[1]s/nginx.pid;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path %[1]s; proxy_temp_path %[1]s; fastcgi_temp_path %[1]s;
  uwsgi_temp_path %[1]s; scgi_temp_path %[1]s;
  server { listen 127.0.0.1:%[2]d; root %[3]s; } }
`, dir, port, www)
		_ = os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644)
		return []string{"nginx", "-p", dir, "-c", filepath.Join(dir, "nginx.conf")}
	})
	return n, err
}

func (n *Nginx) Name() string { return "nginx static 4 KiB" }
func (n *Nginx) Unit() string { return "requests/s" }

var wrkRate = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)

func (n *Nginx) Run() (float64, error) {
	out, err := pinned(1, "wrk", "-t1", "-c20", fmt.Sprintf("-d%ds", int(n.Duration.Seconds())),
		fmt.Sprintf("http://127.0.0.1:%d/index.html", n.port)).Output()
	if err != nil {
		return 0, fmt.Errorf("wrk: %w", err)
	}
	m := wrkRate.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("wrk printed no rate: %s", out)
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// Fio is fio's random 4 KiB reads and writes with psync (one syscall per
// I/O) on a tmpfs file.
type Fio struct {
	Dir      string
	Duration time.Duration
}

func (f *Fio) Name() string { return "fio 4 KiB randrw on tmpfs" }
func (f *Fio) Unit() string { return "IOPS" }
func (f *Fio) Stop()        { _ = os.RemoveAll(f.Dir) }

func (f *Fio) Run() (float64, error) {
	if err := os.MkdirAll(f.Dir, 0o755); err != nil {
		return 0, err
	}
	out, err := pinned(0, "fio", "--name=bench", "--directory="+f.Dir, "--rw=randrw", "--bs=4k", "--size=32m",
		"--ioengine=psync", fmt.Sprintf("--runtime=%d", int(f.Duration.Seconds())), "--time_based", "--output-format=json").Output()
	if err != nil {
		return 0, fmt.Errorf("fio: %w", err)
	}
	var res struct {
		Jobs []struct {
			Read, Write struct{ IOPS float64 }
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return 0, fmt.Errorf("fio: %w", err)
	}
	if len(res.Jobs) == 0 {
		return 0, errors.New("fio reported no job")
	}
	return res.Jobs[0].Read.IOPS + res.Jobs[0].Write.IOPS, nil
}
