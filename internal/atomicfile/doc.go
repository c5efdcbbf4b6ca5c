// Package atomicfile writes files so that readers see either the old file
// or the complete new one, never a partial write: the content goes to a
// temporary file in the same folder, which is synced and renamed over the
// target. Models, checkpoints, reports and CLI outputs all write this way.
package atomicfile
