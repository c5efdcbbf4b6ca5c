//go:build !amd64 || purego

package kern

// cpuidCaches has no CPUID to ask off amd64 (and purego builds have no
// assembly): the caches are known from sysfs or not at all.
func cpuidCaches() (cacheInfo, bool) { return cacheInfo{}, false }
