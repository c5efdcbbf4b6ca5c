package kern

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPackAsmMatchesGo packs blocks of A and B for every kernel's tile
// shape, transposed or not, with the assembly packers and with the Go
// loops, and requires the same floats (the Go loops are what purego
// builds use). Odd depths cover the packers' Go tails; short edges the
// zero padding.
func TestPackAsmMatchesGo(t *testing.T) {
	defer func(saved bool) { asmPack = saved }(asmPack)
	r := rand.New(rand.NewPCG(3, 4))
	const rows, cols = 45, 70 // the stored matrix; blocks are cut from it
	src := randSlice(r, rows*cols)
	pack := func(asm bool, f func(d []float32), n int) []float32 {
		asmPack = asm
		d := make([]float32, n+8)
		for i := range d {
			d[i] = -7 // must be overwritten (or, past n, left alone)
		}
		f(d)
		return d
	}
	for _, kLen := range []int{1, 7, 8, 13, 16, 24, 31} {
		for _, trans := range []bool{false, true} {
			for _, mr := range []int{6, 12} {
				for _, mLen := range []int{mr, 2*mr + 3} {
					f := func(d []float32) { packA(d, src, cols, trans, 2, mLen, 5, kLen, mr) }
					if trans {
						f = func(d []float32) { packA(d, src, cols, trans, 3, mLen, 2, kLen, mr) }
					}
					n := (mLen + mr - 1) / mr * mr * kLen
					got, want := pack(true, f, n), pack(false, f, n)
					if !slices.Equal(got[:n], want[:n]) {
						t.Fatalf("packA mr=%d mLen=%d kLen=%d trans=%v: assembly and Go differ\nasm %v\ngo  %v", mr, mLen, kLen, trans, got[:n], want[:n])
					}
				}
			}
			for _, nr := range []int{16, 32} {
				for _, nEff := range []int{nr, nr - 5} {
					f := func(d []float32) { packBPanel(d, src, cols, trans, 3, nEff, 4, kLen, nr) }
					if trans {
						f = func(d []float32) { packBPanel(d, src, cols, trans, 1, nEff, 6, kLen, nr) }
					}
					n := kLen * nr
					got, want := pack(true, f, n), pack(false, f, n)
					if !slices.Equal(got[:n], want[:n]) {
						t.Fatalf("packBPanel nr=%d nEff=%d kLen=%d trans=%v: assembly and Go differ\nasm %v\ngo  %v", nr, nEff, kLen, trans, got[:n], want[:n])
					}
					if !slices.Equal(got[n:], want[n:]) {
						t.Fatalf("packBPanel nr=%d kLen=%d trans=%v: wrote past the panel", nr, kLen, trans)
					}
				}
			}
		}
	}
}
