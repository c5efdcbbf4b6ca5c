package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Tensor payloads: which element types glassbox reads, how many bytes an
// element takes in raw_data (always little-endian), which typed field of
// TensorProto holds it otherwise, and the float16 and bfloat16
// conversions.

// elemSize is the bytes of one element of t in raw_data, or 0 for a type
// that raw_data cannot hold (STRING) or that glassbox does not read.
func elemSize(t DataType) int {
	switch t {
	case Uint8, Int8, Bool:
		return 1
	case Uint16, Int16, Float16, BFloat16:
		return 2
	case Float, Int32, Uint32:
		return 4
	case Int64, Double, Uint64:
		return 8
	}
	return 0
}

// isFloat reports whether a tensor of type t keeps its elements in
// Tensor.Floats; integer and boolean types use Ints, STRING Strings.
func isFloat(t DataType) bool {
	return t == Float || t == Double || t == Float16 || t == BFloat16
}

// checkDataType returns an error for the element types glassbox does not
// read: UNDEFINED, the complex types and those newer than BFLOAT16
// (float8, int4, float4).
func checkDataType(t DataType) error {
	switch {
	case t == Undefined:
		return fmt.Errorf("data_type is missing (UNDEFINED)")
	case t == Complex64 || t == Complex128:
		return fmt.Errorf("data type %v is not supported: glassbox has no complex tensors", t)
	case t < 0 || t > BFloat16:
		return fmt.Errorf("data type %d is not supported (glassbox reads types up to BFLOAT16 = 16; float8, int4 and float4 tensors are not)", int32(t))
	}
	return nil
}

// TensorProto's typed data fields.
const (
	fieldFloatData  = 4
	fieldInt32Data  = 5
	fieldStringData = 6
	fieldInt64Data  = 7
	fieldDoubleData = 10
	fieldUint64Data = 11
)

var typedFieldNames = map[int]string{
	fieldFloatData:  "float_data",
	fieldInt32Data:  "int32_data",
	fieldStringData: "string_data",
	fieldInt64Data:  "int64_data",
	fieldDoubleData: "double_data",
	fieldUint64Data: "uint64_data",
}

// typedField is the TensorProto field that holds elements of type t when
// raw_data does not.
func typedField(t DataType) int {
	switch t {
	case Float:
		return fieldFloatData
	case Double:
		return fieldDoubleData
	case Int64:
		return fieldInt64Data
	case Uint32, Uint64:
		return fieldUint64Data
	case String:
		return fieldStringData
	}
	return fieldInt32Data // the 8-, 16- and 32-bit types, BOOL, FLOAT16, BFLOAT16
}

// decodeRawFloats decodes len(dst) elements of type t from raw (which
// holds exactly that many) into dst.
func decodeRawFloats(t DataType, raw []byte, dst []float32) {
	switch t {
	case Float:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	case Double:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
		}
	case Float16:
		for i := range dst {
			dst[i] = halfToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	case BFloat16:
		for i := range dst {
			dst[i] = bfloat16ToFloat32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
	}
}

// decodeRawInts decodes len(dst) elements of the integer or boolean type
// t from raw into dst.
func decodeRawInts(t DataType, raw []byte, dst []int64) {
	le := binary.LittleEndian
	switch t {
	case Uint8:
		for i := range dst {
			dst[i] = int64(raw[i])
		}
	case Int8:
		for i := range dst {
			dst[i] = int64(int8(raw[i]))
		}
	case Bool:
		for i := range dst {
			dst[i] = boolInt(raw[i] != 0)
		}
	case Uint16:
		for i := range dst {
			dst[i] = int64(le.Uint16(raw[2*i:]))
		}
	case Int16:
		for i := range dst {
			dst[i] = int64(int16(le.Uint16(raw[2*i:])))
		}
	case Int32:
		for i := range dst {
			dst[i] = int64(int32(le.Uint32(raw[4*i:])))
		}
	case Uint32:
		for i := range dst {
			dst[i] = int64(le.Uint32(raw[4*i:]))
		}
	case Int64, Uint64:
		for i := range dst {
			dst[i] = int64(le.Uint64(raw[8*i:]))
		}
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// int32DataFloat converts an int32_data element of a FLOAT16 or BFLOAT16
// tensor (the element's 16 bits) to float32.
func int32DataFloat(t DataType, v uint64) float32 {
	if t == BFloat16 {
		return bfloat16ToFloat32(uint16(v))
	}
	return halfToFloat32(uint16(v))
}

// int32DataInt converts an int32_data element of an integer or boolean
// tensor of 32 bits or fewer to its value, wrapping to the type's width as
// ONNX's own readers do.
func int32DataInt(t DataType, v uint64) int64 { return wrapInt(int64(int32(v)), t) }

// uint64DataInt converts a uint64_data element of a UINT32 or UINT64
// tensor; UINT64 values above MaxInt64 wrap to negative Ints.
func uint64DataInt(t DataType, v uint64) int64 {
	if t == Uint32 {
		return int64(uint32(v))
	}
	return int64(v)
}

// intRange is the range of values Encode accepts in Ints for type t.
func intRange(t DataType) (lo, hi int64) {
	switch t {
	case Uint8:
		return 0, math.MaxUint8
	case Int8:
		return math.MinInt8, math.MaxInt8
	case Bool:
		return 0, 1
	case Uint16:
		return 0, math.MaxUint16
	case Int16:
		return math.MinInt16, math.MaxInt16
	case Int32:
		return math.MinInt32, math.MaxInt32
	case Uint32:
		return 0, math.MaxUint32
	}
	// INT64, and UINT64 whose values above MaxInt64 are held wrapped.
	return math.MinInt64, math.MaxInt64
}

// appendRawFloats appends the elements of src as type t, little-endian.
func appendRawFloats(b []byte, t DataType, src []float32) []byte {
	le := binary.LittleEndian
	switch t {
	case Float:
		for _, v := range src {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
	case Double:
		for _, v := range src {
			b = le.AppendUint64(b, math.Float64bits(float64(v)))
		}
	case Float16:
		for _, v := range src {
			b = le.AppendUint16(b, float32ToHalf(v))
		}
	case BFloat16:
		for _, v := range src {
			b = le.AppendUint16(b, float32ToBFloat16(v))
		}
	}
	return b
}

// appendRawInts appends the elements of src as type t, little-endian;
// they have been checked against intRange.
func appendRawInts(b []byte, t DataType, src []int64) []byte {
	le := binary.LittleEndian
	switch elemSize(t) {
	case 1:
		for _, v := range src {
			b = append(b, byte(v))
		}
	case 2:
		for _, v := range src {
			b = le.AppendUint16(b, uint16(v))
		}
	case 4:
		for _, v := range src {
			b = le.AppendUint32(b, uint32(v))
		}
	case 8:
		for _, v := range src {
			b = le.AppendUint64(b, uint64(v))
		}
	}
	return b
}

// halfToFloat32 converts IEEE 754 half precision bits to float32, exactly.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch exp {
	case 0x1f: // infinity or NaN, NaN payload kept
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case 0: // zero or subnormal: mant × 2^-24
		f := float32(mant) * (1.0 / (1 << 24))
		if sign != 0 {
			f = -f
		}
		return f
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// float32ToHalf converts f to IEEE 754 half precision, rounding to the
// nearest (ties to even), overflowing to infinity and keeping NaN a NaN.
// It is exact for every value halfToFloat32 returns.
func float32ToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant == 0 {
			return sign | 0x7c00
		}
		m := uint16(mant >> 13)
		if m == 0 {
			m = 0x200
		}
		return sign | 0x7c00 | m
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 { // a half subnormal, or zero
		if e < -10 {
			return sign
		}
		mant |= 0x800000
		shift := uint(14 - e)
		m := mant >> shift
		rem := mant & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && m&1 == 1) {
			m++
		}
		return sign | uint16(m)
	}
	h := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && h&1 == 1) {
		h++ // a carry into the exponent is right, up to infinity
	}
	return sign | uint16(h)
}

// bfloat16ToFloat32 converts bfloat16 bits to float32, exactly.
func bfloat16ToFloat32(h uint16) float32 {
	return math.Float32frombits(uint32(h) << 16)
}

// float32ToBFloat16 converts f to bfloat16, rounding to the nearest (ties
// to even) and keeping NaN a NaN; exact for every value bfloat16ToFloat32
// returns.
func float32ToBFloat16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		h := uint16(b >> 16)
		if h&0x7f == 0 {
			h |= 0x40
		}
		return h
	}
	b += 0x7fff + (b>>16)&1
	return uint16(b >> 16)
}
