//go:build race

package autograd

// raceEnabled: under the race detector sync.Pool drops a quarter of what
// is put in it on purpose, so recycling saves less.
const raceEnabled = true
