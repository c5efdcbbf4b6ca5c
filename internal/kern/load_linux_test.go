package kern

import "testing"

func TestRunnableThreadsLinux(t *testing.T) {
	n, ok := runnableThreads()
	if !ok {
		t.Fatal("runnableThreads: /proc/loadavg could not be read")
	}
	if n < 1 {
		t.Fatalf("runnableThreads = %d, want ≥ 1 (this test is running)", n)
	}
	if allocs := testing.AllocsPerRun(100, func() { runnableThreads() }); allocs != 0 {
		t.Fatalf("runnableThreads allocates %.1f times per call, want 0", allocs)
	}
}
