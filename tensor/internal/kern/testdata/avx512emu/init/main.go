// Command init is PID 1 of the initramfs that run.sh boots under Bochs: it
// mounts /proc, /sys and /dev, prints the CPU's AVX-512 flags and the GEMM
// kernel tensor/internal/kern picks on it, runs /kern.test with its own
// arguments (the kernel passes what follows "--" on its command line, and
// unknown NAME=value parameters as environment), then prints a marker line
// with the exit status and powers the machine off.
//
// It lives under testdata so that "go build ./..." and "go test ./..." skip
// it; run.sh builds it by path.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/glassbox-ml/glassbox/tensor/internal/kern"
)

func main() {
	for _, m := range []struct{ src, dir, fs string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"},
	} {
		os.MkdirAll(m.dir, 0o755)
		if err := syscall.Mount(m.src, m.dir, m.fs, 0, ""); err != nil {
			fmt.Printf("avx512emu: mount %s: %v\n", m.dir, err)
		}
	}
	if info, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(info), "\n") {
			if strings.HasPrefix(line, "model name") {
				fmt.Printf("avx512emu: %s\n", line)
			}
			if strings.HasPrefix(line, "flags") {
				var avx []string
				for _, f := range strings.Fields(line) {
					if strings.HasPrefix(f, "avx") || f == "fma" {
						avx = append(avx, f)
					}
				}
				fmt.Printf("avx512emu: cpu flags: %s\n", strings.Join(avx, " "))
				break
			}
		}
	}
	fmt.Printf("avx512emu: kern.Name() = %q\n", kern.Name())
	args := os.Args[1:]
	fmt.Printf("avx512emu: running /kern.test %s (env %s)\n", strings.Join(args, " "), strings.Join(os.Environ(), " "))
	cmd := exec.Command("/kern.test", args...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	status := "ok"
	if err != nil {
		status = err.Error()
	}
	fmt.Printf("AVX512EMU-DONE status=%s\n", status)
	syscall.Sync()
	time.Sleep(time.Second) // let the console drain before the kernel's last messages
	syscall.Reboot(syscall.LINUX_REBOOT_CMD_POWER_OFF)
	select {}
}
