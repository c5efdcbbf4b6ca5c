package machine

import (
	"runtime"
	"strings"
	"testing"
)

func TestDescribeNamesTheMachine(t *testing.T) {
	d := Describe()
	if !strings.Contains(d, CPUModel()) || !strings.Contains(d, "GOMAXPROCS") {
		t.Fatalf("Describe() = %q, want the CPU model %q and GOMAXPROCS", d, CPUModel())
	}
	if runtime.GOOS == "linux" && (CPUModel() == "" || LoadAvg() == "unknown") {
		t.Fatalf("on Linux the CPU model (%q) and load average (%q) come from /proc", CPUModel(), LoadAvg())
	}
}
