// Package cli implements the glassbox command line (see cmd/glassbox): the
// demo, train, eval, predict, explain, inspect and serve commands. Each is
// flags → one call into the library (package predictor for models, data
// and explanations; serve for the server; inspect for the views) → print.
// The commands live here rather than in package main so tests can run them
// in-process with their own output streams.
package cli
