# tools/deps.sh — sourced by demo.sh and check.sh: installs the Debian
# packages brine needs when run as root, or prints the apt-get line.
BRINE_BUILD_PKGS="build-essential pkg-config clang libclang-rt-14-dev zlib1g-dev libbz2-dev liblzma-dev liblz4-dev libdeflate-dev libgmp-dev libsodium-dev libjansson-dev libpcre2-dev libicu-dev"
BRINE_PY_PKGS="python3 python3-numpy python3-scipy python3-sklearn python3-joblib python3-lz4 python3-cryptography"

brine_need() {
  missing=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null || {
      echo "apt-get install failed for:$missing" >&2; return 1; }
  else
    echo "missing Debian packages; run as root:" >&2
    echo "  apt-get install -y$missing" >&2
    return 1
  fi
}
