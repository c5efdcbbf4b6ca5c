package kern

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// caches are the per-core data cache sizes that GEMM block sizes are
// chosen from (see blockSizes), found once at start-up.
var caches = detectCaches()

// cacheInfo is what detectCaches found: sizes in bytes (0 = unknown) and
// where they came from.
type cacheInfo struct {
	l1d, l2 int
	source  string
}

// detectCaches reads the L1 data and L2 cache sizes from Linux's sysfs
// (/sys/devices/system/cpu/cpu0/cache), or, where that is missing (some
// containers and VMs), from the CPU itself (cpuidCaches: CPUID leaf 4 on
// Intel, 0x8000001D or the older 0x80000005/0x80000006 on AMD). When
// neither answers, the kernels keep the block sizes in their table.
func detectCaches() cacheInfo {
	if c, ok := sysfsCaches("/sys/devices/system/cpu/cpu0/cache"); ok {
		return c
	}
	if c, ok := cpuidCaches(); ok {
		return c
	}
	return cacheInfo{source: "unknown (table defaults)"}
}

// sysfsCaches reads dir/index*/{level,type,size}.
func sysfsCaches(dir string) (cacheInfo, bool) {
	c := cacheInfo{source: "sysfs"}
	for i := 0; i < 16; i++ {
		idx := fmt.Sprintf("%s/index%d/", dir, i)
		level, err1 := os.ReadFile(idx + "level")
		typ, err2 := os.ReadFile(idx + "type")
		size, err3 := os.ReadFile(idx + "size")
		if err1 != nil || err2 != nil || err3 != nil {
			break
		}
		n, ok := parseCacheSize(string(size))
		if !ok {
			continue
		}
		switch t := strings.TrimSpace(string(typ)); strings.TrimSpace(string(level)) {
		case "1":
			if t == "Data" || t == "Unified" {
				c.l1d = n
			}
		case "2":
			if t == "Data" || t == "Unified" {
				c.l2 = n
			}
		}
	}
	return c, c.l1d > 0 && c.l2 > 0
}

// parseCacheSize reads sysfs's size notation: "48K", "1024K", "32M".
func parseCacheSize(s string) (int, bool) {
	s = strings.TrimSpace(s)
	mult := 1
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 || n > 1<<20 {
		return 0, false
	}
	return n * mult, true
}

// cacheLeaf decodes one sub-leaf of CPUID leaf 4 (Intel) or 0x8000001D
// (AMD), which share a layout: EAX bits 4:0 the type (0 = no more caches,
// 1 data, 2 instruction, 3 unified), bits 7:5 the level; EBX the line size,
// partitions and ways, each minus one; ECX the number of sets minus one.
func cacheLeaf(eax, ebx, ecx uint32) (typ, level, size int) {
	typ = int(eax & 31)
	level = int(eax >> 5 & 7)
	line := int(ebx&0xfff) + 1
	parts := int(ebx>>12&0x3ff) + 1
	ways := int(ebx>>22) + 1
	sets := int(ecx) + 1
	return typ, level, line * parts * ways * sets
}

// cachesFromLeaves walks the sub-leaves of a deterministic cache leaf, as
// returned by q(sub), until the type is 0 (at most 16).
func cachesFromLeaves(q func(sub uint32) (eax, ebx, ecx uint32)) (l1d, l2 int) {
	for sub := uint32(0); sub < 16; sub++ {
		typ, level, size := cacheLeaf(q(sub))
		if typ == 0 {
			break
		}
		if typ == 2 { // instruction cache
			continue
		}
		switch level {
		case 1:
			l1d = size
		case 2:
			l2 = size
		}
	}
	return l1d, l2
}

// blockSizes picks kc and mc for kernel k from the cache sizes; ok is
// false when the sizes are unknown. The driver keeps a kc×nr micro-panel
// of B in L1 while 12 (or 6) rows of A stream past it, and an mc×kc block
// of A in L2 while the B panels stream through:
//
//   - kc: the B micro-panel gets all of L1 but 16 KiB (the A micro-panel
//     being read, a tile of C and the stack): kc = (L1d − 16 KiB)/(4·nr),
//     but at least 256 steps where the panel still fits L1 (kc ≤
//     L1d/(4·nr)): a k loop of 128 steps loads and stores its tile of C
//     too often. A multiple of 8 in [64, 512]: 256 for 12×32 on a 32 KiB
//     L1 (Skylake-X, Zen 4) and on Zen 5's 48 KiB; 256 for 6×16 on 32 KiB.
//   - mc: the A block gets half of L2 (the rest holds the B panels and C
//     lines passing through): mc = L2/2/(4·kc), a multiple of mr in
//     [4·mr, 1024]. 504 for 12×32 on Zen 5, 252 for 6×16 on Zen 3 and
//     126 on Haswell's 256 KiB L2 (BLIS uses 168 there).
//
// Measured on Zen 5 (AVX-512, one core, 1024³, interleaved): kc = 256 ran
// 5–6% faster than the earlier fixed kc = 128 (Skylake-X's choice; mc =
// 480); mc = 252 and 504 were level. The AVX2 kernel there was within
// noise for every kc from 128 to 512 and mc from 126 to 720. On a Zen 4
// (32 KiB L1, 2 threads, paired in one process, 15 rounds): kc = 256 with
// mc = 504 against 128 with 1020, 2.3–3.0% faster at 1024³, 512³, 256³,
// 128×784×256 and 128×256×128, level at 784×128×256; the micro-kernel
// alone in L1 103.8 → 108.9 GFLOP/s (BenchmarkMicroL1).
func blockSizes(k *gemmKernel, c cacheInfo) (kc, mc int, ok bool) {
	if c.l1d <= 0 || c.l2 <= 0 {
		return 0, 0, false
	}
	kc = (c.l1d - 16<<10) / (4 * k.nr) &^ 7
	kc = max(kc, min(256, c.l1d/(4*k.nr)&^7))
	kc = min(max(kc, 64), 512)
	mc = c.l2 / 2 / (4 * kc) / k.mr * k.mr
	mc = min(max(mc, 4*k.mr), 1024/k.mr*k.mr)
	return kc, mc, true
}

// tuneBlocks sets the block sizes of the cache-blocked kernels (those that
// mark cacheBlocked) from the detected caches, leaving the table's values
// where the sizes are unknown.
func tuneBlocks(ks []*gemmKernel, c cacheInfo) []*gemmKernel {
	for _, k := range ks {
		if !k.cacheBlocked {
			continue
		}
		if kc, mc, ok := blockSizes(k, c); ok {
			k.kc, k.mc = kc, mc
		}
	}
	return ks
}

// Blocking describes the block sizes of the kernel in use and the caches
// they were chosen from, e.g. "kc=256 mc=504 (L1d 48 KiB, L2 1024 KiB,
// from cpuid 0x80000005/6)".
func Blocking() string {
	s := fmt.Sprintf("kc=%d mc=%d", active.kc, active.mc)
	if caches.l1d > 0 {
		return fmt.Sprintf("%s (L1d %d KiB, L2 %d KiB, from %s)", s, caches.l1d>>10, caches.l2>>10, caches.source)
	}
	return fmt.Sprintf("%s (caches %s)", s, caches.source)
}
