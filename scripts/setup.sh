#!/usr/bin/env bash
# Installs what democd needs on a Debian 12 machine (run as root), then its npm packages.
# The host tools are only used, never the components: Xen, Linux and busybox are fetched
# by apt-get download and unpacked into build/cache, not installed.
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep in step with TOOLS/TOOL_FILES in src/exec.ts (test/unit/setup.test.ts checks).
APT_PACKAGES=(
  apt coreutils util-linux dpkg kmod tar gzip xz-utils zstd lz4 openssl cpio
  mmdebstrap debian-archive-keyring uidmap
  xorriso grub-common grub-pc-bin grub-efi-amd64-bin mtools binutils sbsigntool
  qemu-system-x86 qemu-utils ovmf fdisk e2fsprogs
  shellcheck python3 ipxe openssh-client
  nftables    # tests: xen_nat_enable's rules loaded by the real nft in a private network namespace
  libxml2-utils   # tests: xmllint reads the OVA's descriptor
  chromium    # tests: the web console's page in a real browser, driven by playwright-core
  fdisk e2fsprogs dosfstools
)

if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${APT_PACKAGES[@]}"
else
  missing=$(dpkg-query -W -f '${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null | awk '$4 != "installed" {print $1}' || true)
  if [ -n "$missing" ]; then
    echo "setup: not root, cannot install: $missing (run as root, or: sudo apt-get install $missing)" >&2
    exit 1
  fi
fi
npm ci --no-audit --no-fund
