//go:build !amd64

package main

// peakLoops has no FMA loop off amd64: the peak is not measured.
func peakLoops() []peakLoop { return nil }
