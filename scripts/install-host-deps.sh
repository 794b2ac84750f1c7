#!/usr/bin/env bash
# Installs the Debian host packages the harness needs (run as root; CI runs it from .ci/run).
# The arm64 packages (busybox, dropbear) are NOT installed here: the harness fetches them as .debs
# with `apt-get download` and unpacks them without root. Only the arm64 architecture must be known to apt.
set -euo pipefail

packages=(
  linux-source-6.12          # the default tree (tarball under /usr/src)
  gcc-aarch64-linux-gnu      # cross compiler
  libc6-dev-arm64-cross      # static guest tests link against it
  qemu-system-arm            # qemu-system-aarch64
  qemu-utils
  ccache
  bc bison flex libssl-dev libelf-dev cpio kmod xz-utils rsync   # kernel build prerequisites
  openssh-client             # ssh-keygen for per-run keys and patatt openssh signatures
  gnupg                      # patatt openpgp signatures
  git
  # QEMU built from Debian's source (machines with a `qemu:` build, e.g. qemu/virt-smmuv3-sva.yaml);
  # meson and pycotap come from bookworm-backports below (QEMU 10.2 needs meson >= 1.5).
  dpkg-dev ninja-build gcc pkgconf python3-venv libglib2.0-dev libpixman-1-dev libfdt-dev libslirp-dev zlib1g-dev
  # the LAVA executor's local lab: lava-run (+ python3-jinja2, its dependency, renders the qemu device type,
  # whose template the harness takes from lava-server's .deb with apt-get download, without installing it)
  lava-dispatcher
  # the browser tests of report.html: headless, driven by puppeteer-core (which downloads no browser)
  chromium fonts-dejavu-core
)
backports=(meson python3-pycotap)

if [ "$(id -u)" -ne 0 ]; then
  echo "run as root, or run: apt-get install --no-install-recommends ${packages[*]}" >&2
  echo "  and, with bookworm-backports in apt's sources: apt-get install -t bookworm-backports ${backports[*]}" >&2
  exit 3
fi

export DEBIAN_FRONTEND=noninteractive
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
# bookworm-backports, for meson and pycotap only (-t picks them; nothing else is upgraded).
if ! grep -rqs "bookworm-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > /etc/apt/sources.list.d/wdh-bookworm-backports.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
apt-get install -y -q --no-install-recommends -t bookworm-backports "${backports[@]}"
