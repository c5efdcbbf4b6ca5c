package kern

import (
	"sync"
	"syscall"
)

var (
	loadavgOnce sync.Once
	loadavgFD   = -1
)

// runnableThreads returns how many threads the system has running or
// ready to run right now: the "4" of "0.52 0.38 0.30 4/311 12345" in
// /proc/loadavg, the count the load average is made of. It does not
// allocate.
func runnableThreads() (int, bool) {
	loadavgOnce.Do(func() {
		if fd, err := syscall.Open("/proc/loadavg", syscall.O_RDONLY|syscall.O_CLOEXEC, 0); err == nil {
			loadavgFD = fd
		}
	})
	if loadavgFD < 0 {
		return 0, false
	}
	var buf [128]byte
	n, err := syscall.Pread(loadavgFD, buf[:], 0)
	if err != nil || n <= 0 {
		return 0, false
	}
	return parseRunnable(buf[:n])
}
