#!/usr/bin/env bash
# Installs what building and testing need and is missing: libevent-dev and
# pkg-config from Debian, and (with --python) a virtual environment at .venv with
# the pinned Python packages of the client tests and this repository's Python
# package (clients/python: control client and pytest plugin). Safe to run again.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_python=0
for arg in "$@"; do
  case "$arg" in
    --python) want_python=1 ;;
    *) echo "setup.sh: unknown option '$arg' (expected --python)" >&2; exit 2 ;;
  esac
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

apt_packages=()
if ! command -v pkg-config >/dev/null 2>&1; then apt_packages+=(pkg-config); fi
if ! pkg-config --exists libevent_pthreads 2>/dev/null; then apt_packages+=(libevent-dev); fi
if [ "$want_python" -eq 1 ]; then
  # The end-to-end tests run the seed pages' and the README's curl examples as written.
  if ! command -v curl >/dev/null 2>&1; then apt_packages+=(curl); fi
  if ! command -v python3 >/dev/null 2>&1; then apt_packages+=(python3 python3-venv python3-pip); fi
  if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_packages+=(python3-venv)
  fi
fi
if [ "${#apt_packages[@]}" -gt 0 ]; then
  echo "setup: installing ${apt_packages[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq "${apt_packages[@]}" >&2
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift toolchain (6.x) is not on PATH; install it from swift.org, then run this again" >&2
  exit 1
fi

if [ "$want_python" -eq 1 ]; then
  venv="$repo/.venv"
  requirements="$repo/Tests/requirements.txt"
  stamp="$venv/.requirements.sha256"
  plugin="$repo/clients/python"
  digest="$(cat "$requirements" "$plugin/pyproject.toml" | sha256sum | cut -d' ' -f1)"
  if [ ! -x "$venv/bin/python" ]; then
    echo "setup: creating $venv" >&2
    python3 -m venv "$venv"
  fi
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    echo "setup: installing Python test packages from Tests/requirements.txt" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$requirements" >&2
    # The repository's suites run on its own pytest plugin, installed editable so edits apply at once.
    echo "setup: installing the cloud-agents-mock Python package (clients/python) in editable mode" >&2
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$plugin" >&2
    echo "$digest" > "$stamp"
  fi
fi
