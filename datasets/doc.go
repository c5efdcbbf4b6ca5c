// Package datasets turns data files into plain Go values that glassbox can
// train on: images (IDX files such as MNIST and Fashion-MNIST, folders of
// PNG/JPEG files), tables (CSV) and text (JSON Lines reviews, plain-text
// corpora, tokenisers and vocabularies).
//
// It has one job: reading and validating data. It does not depend on the
// tensor package; the data package wraps these values into batches.
//
// Data sets are available by name through [Load]. A small set is embedded
// in the binary so that glassbox trains on real data offline, from the first
// command:
//
//	mnist-small    12,000 training and 2,000 test MNIST digits (the first of each file)
//	breast-cancer  569 × 30 table, 2 classes (Wisconsin Diagnostic Breast Cancer)
//	iris           150 × 4 table, 3 classes
//	wine           178 × 13 table, 3 classes
//	diabetes       442 × 10 table, regression
//	digits         1,797 × 64 table (8×8 grey images), 10 classes
//	imdb-5000      5,000 movie reviews, positive or negative
//
// The full "mnist" and "fashion-mnist" sets are looked up in $GLASSBOX_DATA,
// the user cache directory and (Fashion-MNIST) the Debian package folder,
// and downloaded, checked against SHA-256 digests, when they are missing.
//
// Loaders validate sizes before they allocate and return errors (never
// panics) for anything wrong in a file; the messages name the file, line or
// column and say how to fix it.
package datasets
