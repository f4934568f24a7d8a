#!/usr/bin/env bash
# Checks the Dockerfile without a Docker engine: runs its build command here (in a
# separate build folder), lays the result out as its runtime stage does, checks that
# the runtime stage's Debian packages provide every shared library the binary needs,
# and smoke-tests the laid-out binary (ready line, one API call, SIGTERM exits 0).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
dockerfile="$repo/Dockerfile"

build_cmd="$(grep -E '^RUN swift build ' "$dockerfile" | sed 's/^RUN //')"
[ -n "$build_cmd" ] || { echo "check-docker: no 'RUN swift build' line in the Dockerfile" >&2; exit 1; }
scratch="$repo/.build-docker"
echo "check-docker: $build_cmd --scratch-path .build-docker" >&2
eval "$build_cmd --scratch-path '$scratch'" >&2

layout="$(mktemp -d)"
trap 'rm -rf "$layout"' EXIT
cp "$scratch/release/cloud-agents-mock" "$layout/"

# Every shared library must come from a package the runtime stage installs, or from
# the base image's essentials (libc, libgcc, libm).
runtime_pkgs="$(sed -n '/^FROM \${RUNTIME_IMAGE}/,$p' "$dockerfile" | grep -oE 'lib[a-z0-9.+-]+' | sort -u)"
base_pkgs="libc6 libgcc-s1"
missing=0
while read -r lib path; do
  [ -n "$path" ] || continue
  pkg="$(dpkg -S "$path" 2>/dev/null | head -n1 | cut -d: -f1 || true)"
  [ -n "$pkg" ] || pkg="$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n1 | cut -d: -f1 || true)"
  if ! grep -qx "$pkg" <<<"$runtime_pkgs" && ! grep -qw "$pkg" <<<"$base_pkgs"; then
    # libevent-core comes in as a dependency of libevent-2.1-7.
    if [ "$pkg" != "libevent-core-2.1-7" ]; then
      echo "check-docker: $lib ($pkg) is not installed by the runtime stage" >&2
      missing=1
    fi
  fi
done < <(ldd "$layout/cloud-agents-mock" | awk '/=>/ {print $1, $3}')
[ "$missing" -eq 0 ] || exit 1

"$layout/cloud-agents-mock" --host 127.0.0.1 --port 0 > "$layout/ready" 2> "$layout/stderr" &
pid=$!
for _ in $(seq 200); do
  [ -s "$layout/ready" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$layout/stderr" >&2; exit 1; }
  sleep 0.05
done
url="$(sed 's/^cloud-agents-mock listening on //' "$layout/ready")"
[ -n "$url" ] || { echo "check-docker: no ready line" >&2; kill "$pid"; exit 1; }
status="$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/sessions/sess_019f00000000000000000000000000aa/threads" -H 'Authorization: Bearer docker')"
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
if [ "$status" != 200 ] || [ "$code" -ne 0 ]; then
  echo "check-docker: smoke test failed (HTTP $status, exit $code)" >&2
  cat "$layout/stderr" >&2
  exit 1
fi
echo "check-docker: ok (build command, runtime libraries, laid-out binary answered 200 and exited 0)"
