//go:build linux && (amd64 || arm64)

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// firstBatchSize keys are read per batch syscall at first.
const firstBatchSize = 4096

// readMap calls fn with every key of a map and its values: one per CPU for
// a per-CPU map (cpus), else one. It reads in batches (one syscall per few
// thousand keys) and falls back to key-by-key iteration on kernels without
// batch operations.
func readMap[K any, V any](m *ebpf.Map, cpus int, fn func(K, []V)) error {
	size := min(firstBatchSize, int(m.MaxEntries()))
	for {
		err := batchRead(m, cpus, size, fn)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.ENOSPC) && size < int(m.MaxEntries()):
			// A hash bucket held more keys than the batch: retry larger.
			size = min(size*4, int(m.MaxEntries()))
		case errors.Is(err, ebpf.ErrNotSupported):
			return iterate(m, cpus > 1, fn)
		default:
			return err
		}
	}
}

// batchRead collects everything before calling fn, so that a retry after
// ENOSPC never reports a key twice.
func batchRead[K any, V any](m *ebpf.Map, cpus, size int, fn func(K, []V)) error {
	var (
		cursor  ebpf.MapBatchCursor
		allKeys []K
		allVals []V
		keys    = make([]K, size)
		vals    = make([]V, size*cpus)
	)
	for {
		n, err := m.BatchLookup(&cursor, keys, vals, nil)
		allKeys = append(allKeys, keys[:n]...)
		allVals = append(allVals, vals[:n*cpus]...)
		if errors.Is(err, ebpf.ErrKeyNotExist) {
			break
		}
		if err != nil {
			return err
		}
	}
	for i, k := range allKeys {
		fn(k, allVals[i*cpus:(i+1)*cpus])
	}
	return nil
}

func iterate[K any, V any](m *ebpf.Map, perCPU bool, fn func(K, []V)) error {
	var (
		key  K
		vals []V
		val  V
	)
	it := m.Iterate()
	if perCPU {
		for it.Next(&key, &vals) {
			fn(key, vals)
		}
	} else {
		for it.Next(&key, &val) {
			fn(key, []V{val})
		}
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("iterating: %w", err)
	}
	return nil
}
