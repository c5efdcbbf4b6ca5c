#!/usr/bin/env bash
# run.sh boots a Linux kernel under the Bochs x86 emulator with an emulated
# Skylake-X CPU (AVX-512F) and runs tensor/internal/kern's tests there, so
# that the AVX-512 micro-kernel is checked on a machine without AVX-512. See
# README.md.
#
# Usage (from anywhere in the repository; needs root for apt-get, or the
# packages already installed):
#
#	tensor/internal/kern/testdata/avx512emu/run.sh [go test flags...]
#
# Flags go on the guest kernel's command line, so each must be one word
# without spaces or quotes (use -test.run=PATTERN). The default runs the
# micro-kernel tests and the Sgemm driver tests in -test.short mode, which
# covers only the kernel in use (the AVX-512 one on this CPU model):
#
#	-test.run=^(TestName|TestPickKernel|TestMicroKernels|TestSgemmOddShapes|TestSgemmAlphaBeta|TestSgemmParallelShapes|TestSgemmDeterministic|TestSgemmConcurrent)$ -test.short -test.v
#
# Environment: WORK (scratch dir, default /tmp/avx512emu), CPU (Bochs CPU
# model, default corei7_skylake_x), TIMEOUT (seconds, default 3600),
# GUESTENV (NAME=value words passed to the test's environment, e.g.
# GUESTENV=GLASSBOX_KERNEL=avx2), KARGS (replaces "quiet" on the guest
# kernel's command line; KARGS= shows the boot messages).
#
# Bochs's VNC display listens on TCP port 5900 (or the next free one) while
# it runs; nothing needs to connect to it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here" && git rev-parse --show-toplevel)
work=${WORK:-/tmp/avx512emu}
cpu=${CPU:-corei7_skylake_x}
timeout=${TIMEOUT:-3600}
guestenv=${GUESTENV:-}
if [ $# -eq 0 ]; then
	set -- '-test.run=^(TestName|TestPickKernel|TestMicroKernels|TestSgemmOddShapes|TestSgemmAlphaBeta|TestSgemmParallelShapes|TestSgemmDeterministic|TestSgemmConcurrent)$' -test.short -test.v
fi

log() { printf 'run.sh: %s\n' "$*" >&2; }

# 1. Tools: Bochs 2.7 (Debian bookworm's build has EVEX/AVX-512 compiled
# in), its BIOSes, isolinux and genisoimage for a bootable CD, cpio.
need=()
for p in bochs bochsbios vgabios isolinux syslinux-common genisoimage cpio; do
	dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

mkdir -p "$work/dl" "$work/root" "$work/iso/isolinux"

# 2. A Linux kernel: Debian's current cloud kernel (few drivers, quick to
# boot; 8250 serial console and initramfs support built in).
if ! ls "$work"/dl/vmlinuz-* >/dev/null 2>&1; then
	kernelpkg() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'; }
	pkg=$(kernelpkg)
	if [ -z "$pkg" ]; then
		apt-get update -qq
		pkg=$(kernelpkg)
	fi
	log "downloading $pkg"
	(cd "$work/dl" && apt-get download "$pkg" && dpkg-deb --fsys-tarfile "$pkg"_*.deb |
		tar -x --wildcards --strip-components=2 './boot/vmlinuz-*')
fi
vmlinuz=$(ls "$work"/dl/vmlinuz-* | head -n 1)

# 3. The initramfs: /init (testdata/avx512emu/init) runs /kern.test, the
# statically linked test binary of tensor/internal/kern.
log "building kern.test and init"
(cd "$repo" && CGO_ENABLED=0 go test -c -o "$work/root/kern.test" ./tensor/internal/kern)
(cd "$repo" && CGO_ENABLED=0 go build -o "$work/root/init" ./tensor/internal/kern/testdata/avx512emu/init)
(cd "$work/root" && find . -mindepth 1 | cpio -o -H newc --quiet | gzip -1) >"$work/iso/initrd.gz"

# 4. A bootable CD: isolinux loads the kernel and initramfs.
cp "$vmlinuz" "$work/iso/vmlinuz"
cp /usr/lib/ISOLINUX/isolinux.bin /usr/lib/syslinux/modules/bios/ldlinux.c32 "$work/iso/isolinux/"
cat >"$work/iso/isolinux/isolinux.cfg" <<CFG
DEFAULT emu
PROMPT 0
TIMEOUT 0
LABEL emu
  KERNEL /vmlinuz
  APPEND initrd=/initrd.gz console=ttyS0,115200 rdinit=/init panic=-1 ${KARGS-quiet} clearcpuid=xsaves,xsavec mitigations=off tsc=reliable $guestenv -- $*
CFG
genisoimage -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table -J -R "$work/iso"

# 5. Bochs: one emulated CPU of the chosen model, serial port to a file, a
# VNC display nobody needs to connect to.
cat >"$work/bochsrc" <<RC
megs: 1024
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
cpu: model=$cpu, count=1, ips=100000000, reset_on_triple_fault=0, ignore_bad_msrs=1
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev=$work/serial.log
display_library: rfb, options="timeout=0"
clock: sync=none, time0=local
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
RC
# Debian's Bochs has the internal debugger built in: it starts at a prompt,
# so give it "continue" as its first command.
echo c >"$work/dbgrc"

rm -f "$work/serial.log"
log "booting Linux under Bochs ($cpu); serial console in $work/serial.log"
start=$(date +%s)
(cd "$work" && exec bochs-bin -q -f "$work/bochsrc" -rc "$work/dbgrc" </dev/null >"$work/bochs.out" 2>&1) &
bochs=$!
# The guest powers off when the tests are done, which ends Bochs.
while kill -0 "$bochs" 2>/dev/null; do
	if [ $(($(date +%s) - start)) -gt "$timeout" ]; then
		log "timed out after ${timeout}s"
		kill "$bochs" 2>/dev/null || true
		break
	fi
	sleep 5
done
wait "$bochs" 2>/dev/null || true
elapsed=$(($(date +%s) - start))
tr -d '\r' <"$work/serial.log" >&2 || true
if grep -q '^AVX512EMU-DONE status=ok' "$work/serial.log"; then
	log "PASS (Bochs ran ${elapsed}s)"
else
	log "FAIL (Bochs ran ${elapsed}s; see $work/serial.log, $work/bochs.log)"
	exit 1
fi
