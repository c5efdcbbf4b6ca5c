package layering

import (
	"bufio"
	"go/build"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// kernDir is the kernel package, relative to the module root. Moving it
// must be a deliberate change here and in ARCHITECTURE.md.
const kernDir = "tensor/internal/kern"

// mayImport lists, for the packages at the bottom of the stack, every
// package of this module they may import (tests included): imports run
// downward, and autograd reaches the kernels only through tensor.
var mayImport = map[string][]string{
	kernDir:    {},
	"tensor":   {kernDir},
	"autograd": {"tensor"},
}

// contexts are the builds whose file sets differ: the assembly kernels,
// the pure-Go ones, other architectures and operating systems.
var contexts = []struct{ goos, goarch, tags string }{
	{"linux", "amd64", ""},
	{"linux", "amd64", "purego"},
	{"linux", "arm64", ""},
	{"darwin", "arm64", ""},
	{"windows", "amd64", ""},
}

// TestKernelSeam: only packages under tensor/ import a kernel package (one
// under tensor/internal, or any package named kern wherever it sits), so
// autograd imports none, and the bottom layers import only what mayImport
// allows.
func TestKernelSeam(t *testing.T) {
	root, mod := moduleRoot(t)
	imports := moduleImports(t, root, mod) // relative dir -> module-relative imports
	if _, ok := imports[kernDir]; !ok {
		t.Fatalf("no package at %s: if the kernels moved, update kernDir and mayImport", kernDir)
	}
	if _, ok := imports["autograd"]; !ok {
		t.Fatalf("no package autograd among %d packages found under %s", len(imports), root)
	}
	isKernel := func(p string) bool {
		return strings.HasPrefix(p, "tensor/internal/") || p == "kern" || strings.HasSuffix(p, "/kern")
	}
	underTensor := func(p string) bool { return p == "tensor" || strings.HasPrefix(p, "tensor/") }
	for _, pkg := range slices.Sorted(maps.Keys(imports)) {
		for _, imp := range imports[pkg] {
			if isKernel(imp) && !underTensor(pkg) { // autograd included
				t.Errorf("%s imports kernel package %s: reach kernels through tensor's backend interface (tensor/backend.go)", pkg, imp)
				continue
			}
			if allowed, ok := mayImport[pkg]; ok && !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s; it may import only %v of this module", pkg, imp, allowed)
			}
		}
	}
}

// moduleRoot finds go.mod above the working directory and returns its
// directory and module path.
func moduleRoot(t *testing.T) (dir, mod string) {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		f, err := os.Open(filepath.Join(dir, "go.mod"))
		if err == nil {
			defer f.Close()
			s := bufio.NewScanner(f)
			for s.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
					return dir, strings.Trim(strings.TrimSpace(rest), `"`)
				}
			}
			t.Fatalf("%s/go.mod has no module line", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// moduleImports returns, for every package directory of the module (as
// "go list ./..." sees them: no testdata, no hidden or _ directories, no
// nested modules), the module packages it imports in any of contexts,
// counting test imports, all as paths relative to the module root.
func moduleImports(t *testing.T, root, mod string) map[string][]string {
	return scanImports(t, root, mod, true)
}

// scanImports is moduleImports, with or without the test files' imports.
func scanImports(t *testing.T, root, mod string, tests bool) map[string][]string {
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		name := d.Name()
		if path != root {
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		for _, c := range contexts {
			ctx := build.Default
			ctx.GOOS, ctx.GOARCH, ctx.CgoEnabled = c.goos, c.goarch, false
			if c.tags != "" {
				ctx.BuildTags = []string{c.tags}
			}
			p, err := ctx.ImportDir(path, 0)
			if _, ok := err.(*build.NoGoError); ok {
				continue
			}
			if err != nil {
				t.Fatalf("%s (%s/%s %s): %v", rel, c.goos, c.goarch, c.tags, err)
			}
			if _, ok := out[rel]; !ok {
				out[rel] = []string{}
			}
			imps := p.Imports
			if tests {
				imps = slices.Concat(p.Imports, p.TestImports, p.XTestImports)
			}
			for _, imp := range imps {
				if r, ok := strings.CutPrefix(imp, mod+"/"); ok && r != rel && !slices.Contains(out[rel], r) {
					out[rel] = append(out[rel], r)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// layers ranks the packages of the module, lowest first, as ARCHITECTURE.md
// draws them: a package imports only packages of a lower rank. Packages not
// listed (commands, benchmarks, examples, this test) sit above them all and
// nothing may import them.
var layers = map[string]int{
	kernDir:  0,
	"tensor": 1, "internal/atomicfile": 1, "bench/internal/machine": 1, "internal/browsertest": 1, "internal/plantedtext": 1, "datasets": 1, "explain/segment": 1, "features": 1,
	"autograd": 2, "data": 2, "explain": 2, "report": 2,
	"nn": 3, "loss": 3, "optim": 3, "explain/check": 3,
	"nn/layertest": 4, "zoo": 4, "model": 4, "explain/adapt": 4, "onnx": 4,
	"train": 5, "inspect": 5,
	"predictor": 6,
	"serve":     7, "modelreport": 7,
	"cmd/glassbox/internal/cli": 8,
}

// TestImportsRunDownward checks every library import against layers (test
// files may reach up, e.g. to the conformance kit).
func TestImportsRunDownward(t *testing.T) {
	root, mod := moduleRoot(t)
	imports := scanImports(t, root, mod, false)
	const top = 1 << 20
	rank := func(p string) int {
		if r, ok := layers[p]; ok {
			return r
		}
		return top
	}
	for name := range layers {
		if _, ok := imports[name]; !ok {
			t.Errorf("layers lists %s, which is not a package any more: update layers and ARCHITECTURE.md", name)
		}
	}
	for _, pkg := range slices.Sorted(maps.Keys(imports)) {
		for _, imp := range imports[pkg] {
			if rank(imp) >= rank(pkg) {
				t.Errorf("%s (layer %d) imports %s (layer %d): imports must run downward; move the shared piece lower or place the package in layers", pkg, rank(pkg), imp, rank(imp))
			}
		}
	}
}
