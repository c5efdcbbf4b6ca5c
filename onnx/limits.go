package onnx

import (
	"errors"
	"fmt"
)

// An ONNX file is untrusted input: the reader checks every count and
// length against these limits before it allocates, so a crafted file
// (a tensor declaring dims [1e9, 1e9] over four bytes of data, a million
// empty nodes, subgraphs nested ten thousand deep) is a clean error
// instead of an out-of-memory crash. Each allocation is bounded by the
// bytes actually present in the file (or external data file) and by these
// limits; a claimed count is never trusted.
//
// The defaults accept every model of the ONNX test suite and real models
// up to the 2 GiB protobuf limit; ReadOptions.Limits raises (or lowers)
// any of them for one read.
const (
	// MaxFileBytes bounds the size of an ONNX (or TensorProto) file: 2 GiB,
	// protobuf's own limit. Weights beyond it live in external data files,
	// which MaxTotalElements bounds.
	MaxFileBytes int64 = 2 << 30

	// MaxGraphDepth bounds the nesting of subgraphs (the bodies of If,
	// Loop and Scan held in graph attributes): the main graph is depth 1.
	// It also bounds the nesting of sequence, map and optional types in
	// each other.
	MaxGraphDepth = 32

	// MaxNodes bounds the number of nodes of all graphs of a model
	// together, subgraphs included.
	MaxNodes = 1 << 20

	// MaxAttributes bounds the number of attributes of all nodes together.
	MaxAttributes = 1 << 22

	// MaxValueInfos bounds the number of graph inputs, outputs and
	// value_info entries of all graphs together.
	MaxValueInfos = 1 << 22

	// MaxTensors bounds the number of tensors of a model: initialisers and
	// the tensors held in attributes.
	MaxTensors = 1 << 22

	// MaxDims bounds the rank of a tensor or a value's shape (NumPy's own
	// limit is 64).
	MaxDims = 64

	// MaxTensorElements bounds the number of elements of one tensor, the
	// product of its dims: 2^29, 2 GiB of float32.
	MaxTensorElements = 1 << 29

	// MaxTotalElements bounds the elements of all tensors of a model
	// together, external data included: 2^30, 4 GiB of float32.
	MaxTotalElements = 1 << 30

	// MaxAttributeElements bounds the length of one list attribute
	// (floats, ints, strings, tensors or graphs).
	MaxAttributeElements = 1 << 24

	// MaxStringBytes bounds one string or bytes value: a name, a doc
	// string, a metadata value, a string attribute or an element of a
	// string tensor.
	MaxStringBytes = 16 << 20

	// MaxMapEntries bounds the entries of each key-value list: the opset
	// imports and metadata_props of a model, the external_data of a tensor.
	MaxMapEntries = 1 << 16
)

// Limits overrides the limits of one read; a zero field takes the default
// of the constant of the same name.
type Limits struct {
	MaxFileBytes         int64
	MaxGraphDepth        int
	MaxNodes             int
	MaxAttributes        int
	MaxValueInfos        int
	MaxTensors           int
	MaxDims              int
	MaxTensorElements    int64
	MaxTotalElements     int64
	MaxAttributeElements int
	MaxStringBytes       int
	MaxMapEntries        int
}

// DefaultLimits returns the default limits, the constants above.
func DefaultLimits() Limits {
	return Limits{
		MaxFileBytes:         MaxFileBytes,
		MaxGraphDepth:        MaxGraphDepth,
		MaxNodes:             MaxNodes,
		MaxAttributes:        MaxAttributes,
		MaxValueInfos:        MaxValueInfos,
		MaxTensors:           MaxTensors,
		MaxDims:              MaxDims,
		MaxTensorElements:    MaxTensorElements,
		MaxTotalElements:     MaxTotalElements,
		MaxAttributeElements: MaxAttributeElements,
		MaxStringBytes:       MaxStringBytes,
		MaxMapEntries:        MaxMapEntries,
	}
}

// withDefaults returns l with every zero (or negative) field set to its
// default.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set64 := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	set64(&l.MaxFileBytes, d.MaxFileBytes)
	set(&l.MaxGraphDepth, d.MaxGraphDepth)
	set(&l.MaxNodes, d.MaxNodes)
	set(&l.MaxAttributes, d.MaxAttributes)
	set(&l.MaxValueInfos, d.MaxValueInfos)
	set(&l.MaxTensors, d.MaxTensors)
	set(&l.MaxDims, d.MaxDims)
	set64(&l.MaxTensorElements, d.MaxTensorElements)
	set64(&l.MaxTotalElements, d.MaxTotalElements)
	set(&l.MaxAttributeElements, d.MaxAttributeElements)
	set(&l.MaxStringBytes, d.MaxStringBytes)
	set(&l.MaxMapEntries, d.MaxMapEntries)
	return l
}

// ReadOptions are the options of Decode, DecodeTensor and ReadFile.
type ReadOptions struct {
	// Limits overrides the default limits; its zero fields keep them.
	Limits Limits

	// Dir is the folder external data files are read from: tensors whose
	// data_location is EXTERNAL name a file relative to it. ReadFile sets
	// it to the model's folder when it is empty. With Dir empty, Decode
	// rejects external data.
	Dir string
}

// ErrLimit is wrapped by every error that reports a limit exceeded, so
// that errors.Is(err, ErrLimit) tells a file that is too large for the
// limits from a malformed one.
var ErrLimit = errors.New("limit exceeded")

// limitError reports that what (a count or size) exceeds the limit named
// field of Limits, whose value is max.
func limitError(what string, got any, field string, max any) error {
	return fmt.Errorf("%s is %v, over the limit of %v (ReadOptions.Limits.%s raises it if the file is genuine): %w",
		what, got, max, field, ErrLimit)
}
