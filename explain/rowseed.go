package explain

import "hash/fnv"

// RowSeed is the seed of the explanation of the row called id in a run
// over many rows with base seed base (Options.Seed of every row):
//
//	RowSeed(base, id) = splitmix64(base ^ splitmix64(fnv1a64(id)))
//
// with fnv1a64 the 64-bit FNV-1a hash of id's bytes and splitmix64 the
// bijective mixer of the explainers' streams. A row's explanation then
// depends only on the model, its id, the options and the base seed —
// never on its position, the sharding or the number of workers — and
// `glassbox explain --id ID --seed BASE` reproduces the record a batch
// run (glassbox-beam) wrote for that row. Rows with different ids get
// unrelated seeds, so no two rows share their perturbations.
func RowSeed(base uint64, id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return splitmix64(base ^ splitmix64(h.Sum64()))
}
