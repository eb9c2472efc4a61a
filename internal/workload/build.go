package workload

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// PrebuiltEnv names a directory of test helpers built beforehand (the
// workloads, testdata programs): where tests run without a Go toolchain or
// gcc, as in the kernel-matrix guests of test/kernels, they are taken from
// there instead of being built.
const PrebuiltEnv = "SYSCALLS_TEST_BIN_DIR"

// Prebuilt returns the path of the prebuilt helper name, or "" when
// PrebuiltEnv is unset; a helper missing there is an error.
func Prebuilt(name string) (string, error) {
	dir := os.Getenv(PrebuiltEnv)
	if dir == "" {
		return "", nil
	}
	bin := filepath.Join(dir, name)
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%s is set, but: %w", PrebuiltEnv, err)
	}
	return bin, nil
}

// goBuild compiles ./cmd/NAME of this package into dir, or returns the
// prebuilt one (PrebuiltEnv).
func goBuild(dir, name string) (string, error) {
	if bin, err := Prebuilt(name); bin != "" || err != nil {
		return bin, err
	}
	_, self, _, _ := runtime.Caller(0)
	bin := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/"+name)
	cmd.Dir = filepath.Dir(self)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", name, err, out)
	}
	return bin, nil
}
