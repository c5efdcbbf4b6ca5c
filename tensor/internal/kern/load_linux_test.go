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
}
