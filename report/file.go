package report

import (
	"fmt"
	"image"
	"image/png"
	"io"

	"github.com/glassbox-ml/glassbox/internal/atomicfile"
)

// WritePNG encodes img as PNG at path atomically: it writes a temporary file
// in the same directory, syncs it and renames it over path, so readers see
// either the old file or the complete new one, never a partial write. On any
// error the temporary file is removed and path is left as it was.
func WritePNG(path string, img image.Image) error {
	err := atomicfile.Write(path, func(w io.Writer) error {
		if err := png.Encode(w, img); err != nil {
			return fmt.Errorf("encoding PNG: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
