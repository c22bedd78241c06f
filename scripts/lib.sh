# Shared by scripts/demo and scripts/test: a Python virtualenv with Gongzhi installed, on Debian 12.
# Sourced, not run. Works as root on a fresh machine, or as a user with sudo for apt.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO_ROOT/.venv"
cd "$REPO_ROOT"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

APT_UPDATED=""
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found; install these packages yourself: $*"
    say "apt-get install $*"
    if [ -z "$APT_UPDATED" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

ensure_python() {
    # Minimal Debian images (e.g. the debian:12 container) come without Python.
    command -v python3 >/dev/null || apt_install python3 python3-venv
    python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
        || die "Python 3.11 or newer is needed (Debian 12 ships 3.11); found $(python3 --version)"
}

# Creates .venv when missing and (re)installs Gongzhi whenever pyproject.toml changed since the last install.
ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        ensure_python
        say "creating $VENV with $(command -v python3) ($(python3 --version))"
        if ! python3 -m venv "$VENV" 2>/dev/null; then
            # Debian ships venv's ensurepip separately, in python3-venv.
            rm -rf "$VENV"
            apt_install python3-venv
            python3 -m venv "$VENV"
        fi
    fi
    local stamp="$VENV/.gongzhi-pyproject.sha256"
    local want
    want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        say "installing Gongzhi and its dependencies into $VENV"
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q -e '.[test]'
        echo "$want" > "$stamp"
    fi
}
