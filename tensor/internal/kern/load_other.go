//go:build !linux

package kern

// runnableThreads is only known on Linux; elsewhere helpers are always used.
func runnableThreads() (int, bool) { return 0, false }
