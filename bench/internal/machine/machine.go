// Package machine describes the computer a benchmark runs on — the CPU
// model, the vector extensions the kernels use, the core count and the
// load average — so every figure can be read with the machine it came
// from (the machines this project runs on differ, and are shared).
package machine

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
)

// CPUModel is /proc/cpuinfo's model name, or GOARCH where there is none.
func CPUModel() string {
	if v := cpuinfo("model name"); v != "" {
		return v
	}
	return runtime.GOARCH
}

// Flags lists the vector extensions that matter to the kernels (avx2, fma,
// avx512f), "no AVX2" when none, or "flags unknown".
func Flags() string {
	v := cpuinfo("flags")
	if v == "" {
		return "flags unknown"
	}
	f := strings.Fields(v)
	var have []string
	for _, want := range []string{"avx2", "fma", "avx512f"} {
		if slices.Contains(f, want) {
			have = append(have, want)
		}
	}
	if len(have) == 0 {
		return "no AVX2"
	}
	return strings.Join(have, " ")
}

// LoadAvg is the first three fields of /proc/loadavg, or "unknown".
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Describe is one line: CPU model, logical cores, extensions, GOMAXPROCS
// and the load average now.
func Describe() string {
	return fmt.Sprintf("cpu: %s, %d logical cores (%s), GOMAXPROCS %d, %s; load average %s",
		CPUModel(), runtime.NumCPU(), Flags(), runtime.GOMAXPROCS(0), runtime.Version(), LoadAvg())
}

// cpuinfo returns the first value of key in /proc/cpuinfo.
func cpuinfo(key string) string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
