# Helpers shared by the benchmark scripts (scripts/bench, scripts/bench-instructions,
# scripts/bench-allocations):
#   source scripts/bench-common.sh; ensure_installed wrk wrk; ...; wait_for 18480
# SUDO is empty when running as root.

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi

# ensure_installed COMMAND PACKAGE: installs Debian's PACKAGE if COMMAND is missing.
ensure_installed() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "installing: $2"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$2" >/dev/null
  fi
}

# wait_for PORT [TENTHS]: waits until something listens on 127.0.0.1:PORT (default 30 s).
wait_for() {
  for _ in $(seq 1 "${2:-300}"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2
  exit 1
}
