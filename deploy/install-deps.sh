#!/usr/bin/env bash
# Installs every build and test dependency of strait from Debian packages.
# Idempotent: installs only what is missing and prints nothing when all is present.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libevent-dev libssl-dev libsasl2-dev libsasl2-modules libzstd-dev liblz4-dev zlib1g-dev
  libsnappy-dev libsqlite3-dev libyaml-dev libcmocka-dev librdkafka-dev
  kcat python3 python3-kafka python3-confluent-kafka
  python3-snappy python3-lz4 python3-zstandard
  iproute2 iperf3 fio curl procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

[ "${#missing[@]}" -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
