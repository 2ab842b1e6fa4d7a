#!/bin/bash
# Assembles the obsdlab Linux test guest (vmlinuz + initramfs.cpio.gz) from Debian
# packages only: `apt-get download` + `dpkg -x`, no root needed.
#
#   build.sh [OUT_DIR] [DEB_CACHE_DIR]
#
# OUT_DIR (default: ./out beside this script) receives vmlinuz, initramfs.cpio.gz
# and manifest.json.  The image holds no key: the orchestrator passes its SSH
# public key on the kernel command line (obsdlab.sshkey=TYPE:BASE64), so one image
# serves every key.  The build is skipped when manifest.json already records the
# hash of this script, rootfs/ and the candidate package versions.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$(mkdir -p "${1:-$HERE/out}" && cd "${1:-$HERE/out}" && pwd)
DEBS=$(mkdir -p "${2:-$OUT/debs}" && cd "${2:-$OUT/debs}" && pwd)

# Packages whose files end up in the image (dependencies of the binaries below
# are resolved from ELF NEEDED entries and must be found among these).
PACKAGES=(linux-image-cloud-amd64 busybox-static dropbear-bin openssh-sftp-server
  iperf3 libiperf0 libssl3 libsctp1 libc6 libcrypt1 libtomcrypt1 libtommath1 zlib1g libgmp10)
# Kernel modules needed at boot (with their dependencies, from each .ko's modinfo);
# virtio_blk gives the guest /dev/vda when a disk overlay is attached.
MODULES=(virtio_pci virtio_net virtio_blk)
# ELF programs copied from the packages: source path in the package -> path in the image.
PROGRAMS=(/usr/sbin/dropbear:/usr/sbin/dropbear /usr/bin/iperf3:/usr/bin/iperf3
  /usr/lib/openssh/sftp-server:/usr/lib/sftp-server)

die() { echo "build-testguest: $*" >&2; exit 1; }
for tool in apt-get apt-cache dpkg-deb readelf cpio gzip sha256sum; do
  command -v "$tool" >/dev/null || die "missing host tool: $tool"
done

candidate() {
  local v
  v=$(apt-cache policy "$1" | awk '/Candidate:/ {print $2}')
  [[ -n $v && $v != "(none)" ]] || die "package $1 has no installable candidate (run apt-get update?)"
  echo "$v"
}

# The cloud kernel metapackage names the versioned kernel package in its Depends.
declare -A VERSION
# One apt-cache call for all packages (each call costs about a second).
while read -r p v; do VERSION[$p]=$v; done < <(apt-cache policy "${PACKAGES[@]}" |
  awk '/^[^ ]/ {sub(":$", "", $1); p = $1} /Candidate:/ {print p, $2}')
for p in "${PACKAGES[@]}"; do
  [[ -n ${VERSION[$p]:-} && ${VERSION[$p]} != "(none)" ]] || die "package $p has no installable candidate (run apt-get update?)"
done
meta_deb="$DEBS/linux-image-cloud-amd64_${VERSION[linux-image-cloud-amd64]//:/%3a}_amd64.deb"
[[ -f $meta_deb ]] || (cd "$DEBS" && apt-get download -q "linux-image-cloud-amd64=${VERSION[linux-image-cloud-amd64]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
[[ -f $meta_deb ]] || die "download of linux-image-cloud-amd64 failed"
KPKG=$(dpkg-deb -f "$meta_deb" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -1)
[[ -n $KPKG ]] || die "cannot find the kernel package in the Depends of $meta_deb"
VERSION[$KPKG]=$(candidate "$KPKG")
ALL=("${PACKAGES[@]}" "$KPKG")

HASH=$( {
  cat "$HERE/build.sh"
  (cd "$HERE/rootfs" && find . -type f | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$f"; done)
  for p in "${ALL[@]}"; do echo "$p=${VERSION[$p]}"; done | LC_ALL=C sort
} | sha256sum | cut -c1-16)

if [[ -f $OUT/manifest.json && -f $OUT/vmlinuz && -f $OUT/initramfs.cpio.gz ]] &&
   grep -q "\"hash\": \"$HASH\"" "$OUT/manifest.json"; then
  echo "build-testguest: up to date ($HASH)"
  exit 0
fi

STAGE=$(mktemp -d "$OUT/.stage.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
X=$STAGE/x ROOT=$STAGE/root
mkdir -p "$X" "$ROOT"

for p in "${ALL[@]}"; do
  deb="$DEBS/${p}_${VERSION[$p]//:/%3a}_amd64.deb"
  if [[ ! -f $deb ]]; then
    (cd "$DEBS" && apt-get download -q "$p=${VERSION[$p]}" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
    [[ -f $deb ]] || deb=$(ls "$DEBS/${p}_${VERSION[$p]//:/%3a}"_*.deb 2>/dev/null | head -1)
    [[ -n $deb && -f $deb ]] || die "download of $p=${VERSION[$p]} failed"
  fi
  dpkg-deb -x "$deb" "$X"
done

KVER=$(ls "$X/lib/modules")
[[ $(wc -w <<<"$KVER") == 1 ]] || die "expected one kernel in $KPKG, found: $KVER"

# --- skeleton and busybox
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,usr/lib,etc/dropbear,proc,sys,dev,tmp,run,root/.ssh,var/log,lib/modules,lib64}
chmod 700 "$ROOT/root" "$ROOT/root/.ssh"
cp "$X/bin/busybox" "$ROOT/bin/busybox"
for applet in $("$ROOT/bin/busybox" --list-full); do
  [[ -e $ROOT/$applet ]] || ln -s /bin/busybox "$ROOT/$applet"
done
cp -a "$HERE/rootfs/." "$ROOT/"
chmod 755 "$ROOT/init" "$ROOT/etc/rcS" "$ROOT/etc/udhcpc.script"

# --- ELF programs and the shared libraries they need (NEEDED walk)
LIBDIRS=("$X/lib/x86_64-linux-gnu" "$X/usr/lib/x86_64-linux-gnu" "$X/lib" "$X/usr/lib")
declare -A COPIED
find_lib() {
  local d
  for d in "${LIBDIRS[@]}"; do [[ -e $d/$1 ]] && { echo "$d/$1"; return 0; }; done
  return 1
}
copy_needed() {
  local elf=$1 lib src
  for lib in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [[ -n ${COPIED[$lib]:-} ]] && continue
    src=$(find_lib "$lib") || die "$(basename "$elf") needs $lib, not found in the packages (add its package to PACKAGES)"
    mkdir -p "$ROOT/lib/x86_64-linux-gnu"
    cp -L "$src" "$ROOT/lib/x86_64-linux-gnu/$lib"
    COPIED[$lib]=1
    copy_needed "$ROOT/lib/x86_64-linux-gnu/$lib"
  done
}
for spec in "${PROGRAMS[@]}"; do
  src=$X${spec%%:*} dst=$ROOT${spec#*:}
  [[ -f $src ]] || die "program ${spec%%:*} not in the packages"
  mkdir -p "$(dirname "$dst")"
  cp -L "$src" "$dst"
  interp=$(readelf -l "$src" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
  if [[ -n $interp && ! -e $ROOT$interp ]]; then
    [[ -e $X$interp ]] || die "ELF interpreter $interp not in the packages"
    mkdir -p "$ROOT$(dirname "$interp")"
    cp -L "$X$interp" "$ROOT$interp"
  fi
  copy_needed "$dst"
done

# --- kernel modules with dependencies, in load order
MODDIR=$X/lib/modules/$KVER
declare -A MODPATH LOADED
while read -r rel; do
  base=$(basename "$rel" .ko); MODPATH[${base//-/_}]=$rel
done < <(cd "$MODDIR" && find kernel -name '*.ko')
: > "$ROOT/etc/modules.load"
load_module() {
  local name=${1//-/_} dep deps rel
  [[ -n ${LOADED[$name]:-} ]] && return 0
  if [[ -z ${MODPATH[$name]:-} ]]; then
    grep -q "/${name}.ko\$" "$MODDIR/modules.builtin" 2>/dev/null && return 0
    die "kernel module $name not found in $KPKG"
  fi
  rel=${MODPATH[$name]}
  deps=$(readelf -p .modinfo "$MODDIR/$rel" | sed -n 's/.*depends=//p' | tr ',' ' ')
  for dep in $deps; do load_module "$dep"; done
  LOADED[$name]=1
  mkdir -p "$ROOT/lib/modules/$(dirname "$rel")"
  cp "$MODDIR/$rel" "$ROOT/lib/modules/$rel"
  echo "$rel" >> "$ROOT/etc/modules.load"
}
for m in "${MODULES[@]}"; do load_module "$m"; done

# --- archive
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) | gzip -9 > "$STAGE/initramfs.cpio.gz"
cp "$X/boot/vmlinuz-$KVER" "$STAGE/vmlinuz"
mv "$STAGE/initramfs.cpio.gz" "$STAGE/vmlinuz" "$OUT/"
{
  echo "{"
  echo "  \"hash\": \"$HASH\","
  echo "  \"kernelRelease\": \"$KVER\","
  echo "  \"modules\": [$(sed 's/.*/"&"/' "$ROOT/etc/modules.load" | paste -sd, -)],"
  echo "  \"packages\": {"
  n=0
  for p in "${ALL[@]}"; do
    n=$((n + 1)); sep=,; [[ $n == "${#ALL[@]}" ]] && sep=
    echo "    \"$p\": \"${VERSION[$p]}\"$sep"
  done
  echo "  }"
  echo "}"
} > "$OUT/manifest.json"
echo "build-testguest: built $HASH ($(du -k "$OUT/initramfs.cpio.gz" | cut -f1) KiB initramfs, kernel $KVER)"
