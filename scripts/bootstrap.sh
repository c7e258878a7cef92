# Sourced by scripts/start and scripts/test: makes a working .venv on a fresh Debian/Ubuntu.
# Usage: bootstrap <extras>   (extras: "" for running, "test" for the test suite)
# Installs missing system libraries with apt-get when run as root; otherwise prints the exact
# command to run and stops. Re-running is cheap: nothing is reinstalled unless the pins change.

STATION_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$STATION_ROOT/.venv"

say() { printf 'station setup: %s\n' "$*" >&2; }

find_python() {
  for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

# library file -> Debian package that ships it
SYSTEM_LIBS=(
  "libzbar.so.0:libzbar0"
  "libglib-2.0.so.0:libglib2.0-0"
  "libGL.so.1:libgl1"
  "libEGL.so.1:libegl1"
  "libfontconfig.so.1:libfontconfig1"
  "libxkbcommon.so.0:libxkbcommon0"
  "libdbus-1.so.3:libdbus-1-3"
)

# A real window on X11 also needs Qt's xcb libraries (what PySide6's libQt6XcbQpa links beyond
# libxcb itself). station/ui/platform_check.py checks the same list before opening a window;
# tests/build/test_bootstrap.py keeps the two alike.
X11_LIBS=(
  "libxcb-cursor.so.0:libxcb-cursor0"
  "libxcb-icccm.so.4:libxcb-icccm4"
  "libxcb-image.so.0:libxcb-image0"
  "libxcb-keysyms.so.1:libxcb-keysyms1"
  "libxcb-randr.so.0:libxcb-randr0"
  "libxcb-render-util.so.0:libxcb-render-util0"
  "libxcb-shape.so.0:libxcb-shape0"
  "libxcb-util.so.1:libxcb-util1"
  "libxcb-xkb.so.1:libxcb-xkb1"
  "libxkbcommon-x11.so.0:libxkbcommon-x11-0"
)

# The shared libraries the system knows (a function, so the tests can give their own list).
library_cache() {
  /sbin/ldconfig -p 2>/dev/null || ldconfig -p 2>/dev/null || true
}

# Packages whose library (entries "lib:package") is not in the cache given as $1.
missing_libs() {
  local cache="$1" entry
  shift
  for entry in "$@"; do
    grep -qF "${entry%%:*}" <<<"$cache" || printf '%s\n' "${entry##*:}"
  done
}

missing_packages() {
  local py="$1" cache
  cache="$(library_cache)"
  local -a need
  mapfile -t need < <(missing_libs "$cache" "${SYSTEM_LIBS[@]}")
  if [ "${STATION_EXTRAS:-}" = "test" ]; then
    # The PyInstaller bundle test reads binaries with objdump.
    command -v objdump >/dev/null 2>&1 || need+=(binutils)
    # The mDNS tests make a network namespace (unshare, from util-linux, plus `ip`) for themselves.
    if ! command -v ip >/dev/null 2>&1 && ! [ -x /usr/sbin/ip ] && ! [ -x /sbin/ip ]; then
      need+=(iproute2)
    fi
    # The end-to-end test types a scanner burst into a real window on a virtual display.
    command -v Xvfb >/dev/null 2>&1 || need+=(xvfb)
    command -v xdotool >/dev/null 2>&1 || need+=(xdotool)
    # ...and switches the X keyboard to German and French for the scanner-layout cases.
    command -v setxkbmap >/dev/null 2>&1 || need+=(x11-xkb-utils)
  fi
  # Debian's python3 ships venv/ensurepip separately (python3.X-venv).
  if ! "$py" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    need+=("$("$py" -c 'import sys; print(f"python3.{sys.version_info.minor}-venv")')")
  fi
  # Qt's X11 libraries are small: take them along whenever packages are installed anyway, so
  # `station gui` works once a display appears; they are required for a display or the tests.
  if [ "${#need[@]}" -gt 0 ] || [ "${STATION_EXTRAS:-}" = "test" ] ||
     { [ -n "${DISPLAY:-}" ] && [ "${QT_QPA_PLATFORM:-}" != "offscreen" ]; }; then
    mapfile -t -O "${#need[@]}" need < <(missing_libs "$cache" "${X11_LIBS[@]}")
  fi
  [ "${#need[@]}" -eq 0 ] || printf '%s\n' "${need[@]}"
}

install_system_packages() {
  local py="$1"
  local -a need
  mapfile -t need < <(missing_packages "$py")
  [ "${#need[@]}" -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "these system packages are missing: ${need[*]}"
    say "run this once, then run this command again:"
    printf '\n    sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n\n' "${need[*]}" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing system libraries (${need[*]}) and no apt-get here: install them with your package manager."
    exit 1
  fi
  say "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
}

# The distribution's own nats-server (Debian 12: 2.9.10), unpacked into the venv without being
# installed or started, for tests/sync/test_server_versions.py to check the oldest server a venue
# may run. Best effort: without root or apt-get those tests say they were skipped, and why.
DISTRO_NATS_DIR="$VENV/distro-nats-server"
DISTRO_NATS="$DISTRO_NATS_DIR/usr/sbin/nats-server"

fetch_distro_nats_server() {
  [ -x "$DISTRO_NATS" ] && return 0
  command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "to also test against the distribution's nats-server, run once as root: scripts/test"
    return 0
  fi
  local tmp
  tmp="$(mktemp -d)"
  if (cd "$tmp" && { apt-get download -qq nats-server >/dev/null 2>&1 ||
                     { apt-get update -qq >&2 && apt-get download -qq nats-server >/dev/null 2>&1; }; }); then
    dpkg -x "$tmp"/nats-server_*.deb "$DISTRO_NATS_DIR" && say "unpacked the distribution's nats-server for the version tests"
  else
    say "the distribution has no nats-server package; its version tests will be skipped"
  fi
  rm -rf "$tmp"
}

bootstrap() {
  local extras="${1:-}"
  STATION_EXTRAS="$extras"
  local py
  if ! py="$(find_python)"; then
    say "Python 3.11 or newer is needed; install python3 (Debian 12 and Ubuntu 24.04 ship it)."
    exit 1
  fi
  install_system_packages "$py"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment in $VENV"
    rm -rf "$VENV"
    "$py" -m venv "$VENV" >&2
  fi
  local spec="."
  [ -n "$extras" ] && spec=".[$extras]"
  local stamp="$VENV/.installed-${extras:-run}"
  local want
  want="$(cat "$STATION_ROOT/pyproject.toml" "$STATION_ROOT/requirements.lock" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing Station and its pinned dependencies (first run takes a few minutes)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >&2
    (cd "$STATION_ROOT" && "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
        -c requirements.lock -e "$spec") >&2
    printf '%s' "$want" >"$stamp"
  fi
  if [ "$extras" = "test" ]; then
    fetch_distro_nats_server
  fi
}
