// Package plantedtext writes a tiny labelled text data set for tests: 100
// five-word sentences of filler words, every second one holding the
// planted word and labelled pos, the others neg. A recurrent classifier
// learns it in well under a second, and a faithful explanation must put
// the largest weight for pos on the planted word — a known answer that
// the CLI, server, playground and report tests check.
package plantedtext
