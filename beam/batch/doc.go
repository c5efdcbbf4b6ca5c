// Package batch predicts and explains every row of a data set on Apache
// Beam, so that an audit of a million rows runs on the engine its owners
// already have (Flink, Spark, Google Dataflow, or Beam's local prism
// runner) instead of on one machine.
//
// The pipeline reads rows (CSV tables, JSON Lines, image folders or lists
// of image files), spreads them over the workers, and explains each with
// a method of the explain registry through a predictor.Predictor loaded
// once per worker process. It writes one JSON Lines record per row (id,
// prediction, explanation with its quality figures, seed), a dead-letter
// JSON Lines output for rows that could not be read or explained, and a
// summary computed with Beam combiners: the mean |weight| of each feature
// over all rows and per class, the share of explanations whose quality
// figures are poor, and an SP-LIME pick of the most representative
// explanations.
//
// A row's explanation depends only on the model, the row's id, the
// options and the base seed: its seed is explain.RowSeed(base, id), so
// sharding, worker count and runner change nothing, and
// `glassbox explain --id ID --seed BASE` gives the same record on one
// machine.
package batch
