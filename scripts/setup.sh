#!/bin/bash
# Installs everything obsdlab needs on a Debian 12 host (run as root), then the npm
# dependencies and the Linux test guest. Safe to run again: every step is idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # QEMU and disk images
  qemu-system-x86 qemu-utils
  # cross-building OpenBSD kernels, boot blocks and the lab image (see docs/build.md and vm-images/openbsd-lab/README.md)
  clang-19 lld-19 llvm-19 binutils bmake byacc flex gcc libc6-dev make xorriso makefs ccache
  # patches, sources, builder tests (a local sshd), process hygiene (setpriv)
  patch git openssh-server openssh-client util-linux
  # the Linux test guest is assembled from these packages' files (apt-get download)
  cpio busybox-static dropbear-bin iperf3
  # signify for cross-checking the verifier against the real tool
  signify-openbsd
)

export DEBIAN_FRONTEND=noninteractive
if [ "$(id -u)" = 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
else
  missing=$(dpkg-query -W -f '${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null | awk '!/installed$/ {print $1}')
  if [ -n "$missing" ]; then
    echo "setup: not root; install these first: $missing" >&2
    exit 1
  fi
fi

npm ci --no-audit --no-fund
node bin/obsdlab.mjs image testguest --quiet
