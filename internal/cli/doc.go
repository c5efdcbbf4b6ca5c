// Package cli implements the glassbox command line (see cmd/glassbox):
// parsing of data and model specs, and the demo, train, eval, predict,
// explain, inspect and serve commands. It is a thin layer over the library packages; the
// commands live here rather than in package main so tests can run them
// in-process with their own output streams.
package cli
