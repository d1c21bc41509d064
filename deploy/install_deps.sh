#!/usr/bin/env bash
# Installs the Debian 12 packages stride builds with, skipping what is already there.
# Used by `make deps` (and so by `make test`, `make demo`, CI) and by the Dockerfile;
# `make dev-deps` adds the formatting, linting and fuzzing tools.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libabsl-dev libspdlog-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libpcre2-dev libutf8proc-dev libxxhash-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  nodejs npm
)
# `install_deps.sh dev`: also the tools of make format / lint / fuzz.
if [ "${1:-}" = dev ]; then
  packages+=(clang clang-format clang-tidy libclang-rt-14-dev)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# nodejs may come from elsewhere than Debian (e.g. a newer build): accept any working node/npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
