// Package data turns examples into batches of tensors for training: the
// Dataset interface, an in-memory implementation, seeded shuffling,
// batching with an optional drop-last, train/validation splits,
// standardisation fitted on training data only, label encoding, and simple
// image augmentation, with a loader that prepares the next batch in the
// background so it keeps up with the training step.
//
// Everything random is derived from an explicit seed and the epoch number,
// so the same seed gives the same batches on every run, and a run resumed
// from a checkpoint at epoch e sees exactly the batches an uninterrupted
// run would.
package data
