//go:build amd64 && !purego

package kern

// cpuid executes the CPUID instruction (cpuid_amd64.s).
//
//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// cpuidCaches reads the L1d and L2 sizes from CPUID: leaf 4 on Intel,
// 0x8000001D on AMD and Hygon, and on AMD, when a hypervisor leaves
// 0x8000001D empty (as on the Zen 5 VM this was written on), the older
// 0x80000005 (L1d KiB in ECX[31:24]) and 0x80000006 (L2 KiB in ECX[31:16]).
// Leaves past the reported maximum are not read.
func cpuidCaches() (cacheInfo, bool) {
	maxLeaf, b, c, d := cpuid(0, 0)
	vendor := string([]byte{byte(b), byte(b >> 8), byte(b >> 16), byte(b >> 24),
		byte(d), byte(d >> 8), byte(d >> 16), byte(d >> 24),
		byte(c), byte(c >> 8), byte(c >> 16), byte(c >> 24)})
	maxExt, _, _, _ := cpuid(0x80000000, 0)
	leaf := func(l uint32) func(sub uint32) (uint32, uint32, uint32) {
		return func(sub uint32) (uint32, uint32, uint32) {
			a, b, c, _ := cpuid(l, sub)
			return a, b, c
		}
	}
	switch vendor {
	case "GenuineIntel":
		if maxLeaf >= 4 {
			if l1, l2 := cachesFromLeaves(leaf(4)); l1 > 0 && l2 > 0 {
				return cacheInfo{l1d: l1, l2: l2, source: "cpuid leaf 4"}, true
			}
		}
	case "AuthenticAMD", "HygonGenuine":
		if maxExt >= 0x8000001D {
			if l1, l2 := cachesFromLeaves(leaf(0x8000001D)); l1 > 0 && l2 > 0 {
				return cacheInfo{l1d: l1, l2: l2, source: "cpuid 0x8000001D"}, true
			}
		}
		if maxExt >= 0x80000006 {
			_, _, c5, _ := cpuid(0x80000005, 0)
			_, _, c6, _ := cpuid(0x80000006, 0)
			l1, l2 := int(c5>>24)<<10, int(c6>>16)<<10
			if l1 > 0 && l2 > 0 {
				return cacheInfo{l1d: l1, l2: l2, source: "cpuid 0x80000005/6"}, true
			}
		}
	}
	return cacheInfo{}, false
}
