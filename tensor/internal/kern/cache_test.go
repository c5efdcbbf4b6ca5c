package kern

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseCacheSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"48K\n", 48 << 10, true}, {"1024K", 1 << 20, true}, {"32M", 32 << 20, true}, {"512", 512, true},
		{"", 0, false}, {"K", 0, false}, {"-4K", 0, false}, {"12Q", 0, false},
	} {
		got, ok := parseCacheSize(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("parseCacheSize(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// TestCacheLeaf decodes register values of CPUID leaf 4 as a Skylake
// reports them: a 32 KiB 8-way L1d, a 32 KiB L1i and a 1 MiB 16-way L2.
func TestCacheLeaf(t *testing.T) {
	leaves := [][3]uint32{
		{0x121, 0x1C0003F, 63},   // L1 data: 8 ways × 64 sets × 64 B
		{0x122, 0x1C0003F, 63},   // L1 instruction
		{0x143, 0x3C0003F, 1023}, // L2 unified: 16 ways × 1024 sets × 64 B
		{0x163, 0x3C0003F, 16383},
		{0, 0, 0},
		{0x121, 0x1C0003F, 1000}, // past the end: never read
	}
	typ, level, size := cacheLeaf(leaves[0][0], leaves[0][1], leaves[0][2])
	if typ != 1 || level != 1 || size != 32<<10 {
		t.Fatalf("cacheLeaf(L1d) = type %d level %d size %d; want 1, 1, 32768", typ, level, size)
	}
	l1, l2 := cachesFromLeaves(func(sub uint32) (uint32, uint32, uint32) {
		l := leaves[sub]
		return l[0], l[1], l[2]
	})
	if l1 != 32<<10 || l2 != 1<<20 {
		t.Fatalf("cachesFromLeaves = %d, %d; want 32768, 1048576", l1, l2)
	}
}

func TestSysfsCaches(t *testing.T) {
	dir := t.TempDir()
	for i, c := range [][3]string{{"1", "Data", "48K"}, {"1", "Instruction", "32K"}, {"2", "Unified", "1024K"}, {"3", "Unified", "32768K"}} {
		idx := filepath.Join(dir, "index"+string(rune('0'+i)))
		if err := os.MkdirAll(idx, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, v := range map[string]string{"level": c[0], "type": c[1], "size": c[2]} {
			if err := os.WriteFile(filepath.Join(idx, name), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, ok := sysfsCaches(dir)
	if !ok || c.l1d != 48<<10 || c.l2 != 1<<20 {
		t.Fatalf("sysfsCaches = %+v, %v; want L1d 48 KiB, L2 1 MiB", c, ok)
	}
	if _, ok := sysfsCaches(filepath.Join(dir, "missing")); ok {
		t.Fatal("sysfsCaches on a missing directory reported sizes")
	}
}

// TestBlockSizes checks the rule against the sizes it was derived from,
// and that whatever the caches, the blocks stay usable: kc a multiple of
// 8 in [64, 512], mc a multiple of mr.
func TestBlockSizes(t *testing.T) {
	k12 := &gemmKernel{mr: 12, nr: 32}
	k6 := &gemmKernel{mr: 6, nr: 16}
	for _, c := range []struct {
		k       *gemmKernel
		l1, l2  int
		kc, mc  int
		machine string
	}{
		{k12, 48 << 10, 1 << 20, 256, 504, "Zen 5"},
		{k12, 32 << 10, 1 << 20, 256, 504, "Skylake-X / Zen 4"},
		{k12, 16 << 10, 1 << 20, 128, 1020, "a 16 KiB L1"},
		{k6, 32 << 10, 512 << 10, 256, 252, "Zen 3"},
		{k6, 32 << 10, 256 << 10, 256, 126, "Haswell"},
	} {
		kc, mc, ok := blockSizes(c.k, cacheInfo{l1d: c.l1, l2: c.l2})
		if !ok || kc != c.kc || mc != c.mc {
			t.Errorf("%s %d×%d: kc, mc = %d, %d; want %d, %d", c.machine, c.k.mr, c.k.nr, kc, mc, c.kc, c.mc)
		}
	}
	for _, l1 := range []int{1, 4 << 10, 16 << 10, 20 << 10, 64 << 10, 1 << 20} {
		for _, l2 := range []int{1, 64 << 10, 2 << 20, 64 << 20} {
			for _, k := range []*gemmKernel{k12, k6} {
				kc, mc, _ := blockSizes(k, cacheInfo{l1d: l1, l2: l2})
				if kc%8 != 0 || kc < 64 || kc > 512 || mc%k.mr != 0 || mc < k.mr {
					t.Fatalf("L1 %d L2 %d %d×%d: kc=%d mc=%d out of range", l1, l2, k.mr, k.nr, kc, mc)
				}
			}
		}
	}
	if _, _, ok := blockSizes(k12, cacheInfo{}); ok {
		t.Fatal("blockSizes with unknown caches reported sizes")
	}
}

// TestDetectCaches: whatever this machine offers (sysfs, CPUID, nothing),
// detection returns without crashing, and sizes it reports are plausible.
func TestDetectCaches(t *testing.T) {
	c := detectCaches()
	t.Logf("caches: %+v; %s", c, Blocking())
	if c.l1d != 0 && (c.l1d < 4<<10 || c.l1d > 4<<20 || c.l2 < c.l1d) {
		t.Fatalf("implausible caches %+v", c)
	}
	if c2, ok := cpuidCaches(); ok && (c2.l1d < 4<<10 || c2.l2 < c2.l1d) {
		t.Fatalf("implausible CPUID caches %+v", c2)
	}
}
