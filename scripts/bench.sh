#!/usr/bin/env bash
# Every benchmark in one command: installs what is missing (wrk, nginx, a C compiler and
# libevent from Debian; FastAPI and uvicorn into .venv), builds the mock in release, runs
# the four parts with each comparison in the same run, prints one table, and writes it with
# the date and the machine to bench/RESULTS.md.
#
#   scripts/bench.sh            the full run (about 15 minutes on 2 cores, the first
#                               Hummingbird build included)
#   scripts/bench.sh --quick    fewer rounds and sizes up to 100,000 events (a few minutes)
#
# The parts can also run alone: bench/throughput.py, bench/fanout.py, bench/scale.py and
# bench/memory.py, each with --help.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "bench.sh: unknown option '$arg' (expected --quick)" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh --python
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "bench: installing ${missing[*]} with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >&2
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >&2
fi
export PATH="$PATH:/usr/sbin"
.venv/bin/python -m pip install -q --disable-pip-version-check -r bench/requirements.txt >&2

echo "bench: building the mock (release)" >&2
swift build -c release >&2
bin="$repo/.build/release/cloud-agents-mock"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
py="$repo/.venv/bin/python"
if [ "$quick" -eq 1 ]; then
  throughput=(--seconds 3 --rounds 1)
  fanout=(--streams 1000 --events 200)
  scale=(--sizes 10000,100000 --rounds 1)
  memory=()
else
  throughput=(--seconds 5 --rounds 5)
  fanout=(--streams 1000 --events 1000)
  scale=(--sizes 10000,100000,1000000 --rounds 3)
  memory=()
fi
status=0
# throughput.py builds the Hummingbird peer itself (minutes the first time).
"$py" bench/throughput.py --bin "$bin" --out "$out/1-throughput.json" "${throughput[@]}" || status=1
"$py" bench/fanout.py --bin "$bin" --out "$out/2-fanout.json" "${fanout[@]}" || status=1
"$py" bench/scale.py --bin "$bin" --out "$out/3-scale.json" "${scale[@]}" || status=1
"$py" bench/memory.py --bin "$bin" --out "$out/4-memory.json" "${memory[@]}" || status=1
note=""
if [ "$quick" -eq 1 ]; then note="A --quick run: one round each, sizes up to 100,000 events."; fi
"$py" bench/report.py "$out"/1-throughput.json "$out"/2-fanout.json "$out"/3-scale.json "$out"/4-memory.json \
  --note "$note"
exit "$status"
