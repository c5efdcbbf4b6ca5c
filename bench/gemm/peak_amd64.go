//go:build amd64

package main

import "golang.org/x/sys/cpu"

// The register-only FMA loops (peak_amd64.s): iters iterations of 24
// independent-chain FMAs on zmm (16 floats) or ymm (8 floats) registers.

//go:noescape
func fmaLoopAVX512(iters int)

//go:noescape
func fmaLoopAVX2(iters int)

// peakLoops lists the FMA loops this CPU can run: name, the loop, and the
// flops of one iteration (24 FMAs × lanes × 2).
func peakLoops() []peakLoop {
	var ls []peakLoop
	if cpu.X86.HasAVX512F {
		ls = append(ls, peakLoop{"avx512", fmaLoopAVX512, 24 * 16 * 2})
	}
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		ls = append(ls, peakLoop{"avx2", fmaLoopAVX2, 24 * 8 * 2})
	}
	return ls
}
