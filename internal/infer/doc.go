// Package infer runs a saved model for the command line and the server:
// it reads inputs the way the model was trained (images resized, table
// rows standardised), predicts with class probabilities or values in the
// target's units, and explains one prediction with any method of package
// explain, returning the quality figures and a picture.
package infer
