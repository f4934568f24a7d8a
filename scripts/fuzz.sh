#!/usr/bin/env bash
# Builds the libFuzzer targets of Tests/fuzz and runs each for SECONDS (default 60):
#
#   scripts/fuzz.sh [--merge] [SECONDS] [TARGET...]
#   targets: json query page-token timestamp fixture http (default: all, one after the other)
#
# The modules under test (MockJSON, MockHTTP, MockDomain, MockApp, and swift-log's Logging that
# MockApp imports) are compiled one by one with swiftc into .build-fuzz (FUZZ_SCRATCH moves it),
# instrumented for libFuzzer and AddressSanitizer (Logging only optimized); a module is compiled
# again only when its sources, its flags or a module it imports changed. One binary holds every
# target; the links fuzz-<target> pick one (libFuzzer's reproduction lines then work as printed).
#
# A target starts from its seeds in Tests/fuzz/corpus/<target> (json and fixture also from the
# repository's JSON files) and the inputs of past findings in Tests/fuzz/regressions/<target>,
# and keeps what it finds in .build-fuzz/corpus/<target>. A finding (a crash, a broken
# invariant, a leak, a timeout) is left in .build-fuzz/findings/<target>/ and the script exits
# non-zero once the other targets ran. Replay one with `.build-fuzz/fuzz-<target> FILE` (with
# LSAN_OPTIONS=suppressions=Tests/fuzz/lsan.supp for a leak); keep it, named for what it shows,
# in Tests/fuzz/regressions/<target>/, which every run replays.
#
# --merge: after each clean run, adds to Tests/fuzz/corpus/<target> the kept inputs that reach
# coverage the seeds do not (libFuzzer's -merge=1), to commit what a long run learnt. Look at
# what it added: the seeds should stay a few dozen small files per target.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
all_targets=(json query page-token timestamp fixture http)
merge=0
if [ "${1:-}" = "--merge" ]; then
  merge=1
  shift
fi
seconds=60
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then
  seconds="$1"
  shift
fi
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "unknown target '$t' (${all_targets[*]})" >&2; exit 2; }
done
out="${FUZZ_SCRATCH:-$repo/.build-fuzz}"
# Swift's crash backtracer and AddressSanitizer trip over each other (the backtracer can hang):
# a finding's report is AddressSanitizer's or the invariant's own line.
export SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}"
export LSAN_OPTIONS="suppressions=$repo/Tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
obj="$out/obj"
# FUZZ_SOURCES: fuzz a copy of Sources instead (a bug put in on purpose must break an invariant).
sources_root="${FUZZ_SOURCES:-$repo/Sources}"
mkdir -p "$obj"

# swift-log's sources: from a SwiftPM checkout the tests' build already made, or resolved here.
logging=""
for d in "$repo/.build/checkouts/swift-log" "$repo/.build-asan/checkouts/swift-log" "$out/spm/checkouts/swift-log"; do
  if [ -d "$d/Sources/Logging" ]; then
    logging="$d/Sources/Logging"
    break
  fi
done
if [ -z "$logging" ]; then
  swift package --package-path "$repo" --scratch-path "$out/spm" resolve >/dev/null
  logging="$out/spm/checkouts/swift-log/Sources/Logging"
fi

# build NAME "FLAGS" DEPENDENCY... : compiles the module NAME from its directory's sources,
# unless its object is newer than every source and dependency and was made with the same flags
# and files.
started=$SECONDS
build() {
  local name="$1" flags="$2" dir
  shift 2
  if [ "$name" = Logging ]; then dir="$logging"; else dir="$sources_root/$name"; fi
  local sources
  sources="$(find "$dir" -name '*.swift' | LC_ALL=C sort)"
  local stamp="$flags"$'\n'"${sources//"$dir"/}"
  local o="$obj/$name.o"
  if [ -f "$o" ] && [ "$(cat "$obj/$name.stamp" 2>/dev/null)" = "$stamp" ] &&
    [ -z "$(find "$dir" -name '*.swift' -newer "$o")" ]; then
    local dep stale=0
    for dep in "$@"; do [ "$obj/$dep.o" -nt "$o" ] && stale=1; done
    [ $stale -eq 0 ] && return 0
  fi
  echo "fuzz: compiling $name"
  # shellcheck disable=SC2086
  swiftc -parse-as-library -swift-version 6 -O -wmo $flags -module-name "$name" -I "$obj" \
    -emit-module -emit-module-path "$obj/$name.swiftmodule" -c -o "$o" $sources
  printf '%s' "$stamp" >"$obj/$name.stamp"
}
instrumented="-sanitize=fuzzer,address"
build Logging "-package-name swift_log"
build MockJSON "$instrumented"
build MockHTTP "$instrumented"
build MockDomain "$instrumented" MockJSON
build MockApp "$instrumented" MockJSON MockHTTP MockDomain Logging
# The targets themselves, linked again when they or a module changed.
targets_stamp="$(cd "$repo/Tests/fuzz" && ls ./*.swift)"
if [ ! -f "$out/fuzz" ] || [ "$(cat "$out/fuzz.stamp" 2>/dev/null)" != "$targets_stamp" ] ||
  [ -n "$(find "$repo/Tests/fuzz" "$obj" -maxdepth 1 \( -name '*.swift' -o -name '*.o' \) -newer "$out/fuzz")" ]; then
  echo "fuzz: linking the targets"
  swiftc -parse-as-library -swift-version 6 -O $instrumented -I "$obj" -module-name FuzzTargets \
    "$repo"/Tests/fuzz/*.swift "$obj"/{Logging,MockJSON,MockHTTP,MockDomain,MockApp}.o -o "$out/fuzz"
  printf '%s' "$targets_stamp" >"$out/fuzz.stamp"
fi
for t in "${all_targets[@]}"; do ln -sf fuzz "$out/fuzz-$t"; done
echo "fuzz: built in $((SECONDS - started)) s"

# Seeds beyond the committed ones: the repository's JSON files for the parser and the loader.
mkdir -p "$out/seeds/json" "$out/seeds/fixture"
find "$repo/fixtures" "$repo/Tests" "$repo/examples" -name '*.json' -size -200k -print0 2>/dev/null |
  while IFS= read -r -d '' f; do
    cp "$f" "$out/seeds/json/$(basename "$f")"
    cp "$f" "$out/seeds/fixture/$(basename "$f")"
  done

# The app's targets keep a world between inputs (a replaced one is freed on later loop turns),
# so nearly every input allocates more than it frees, and libFuzzer would look for leaks after
# each (three quarters of the time). They fuzz without leak checks, then replay what they kept
# with them: a leak is then found with the input that made it.
leaks_after() { [ "$1" = fixture ] || [ "$1" = http ]; }

max_len() {
  case "$1" in
    timestamp) echo 64 ;;
    query | page-token) echo 512 ;;
    fixture) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

failed=()
summary=()
for t in "${targets[@]}"; do
  corpus="$out/corpus/$t"
  findings="$out/findings/$t"
  mkdir -p "$corpus" "$findings" "$out/logs"
  # Each run adds to the kept corpus; past a few thousand inputs (seconds to load, and to replay)
  # it is cut to the inputs that reach coverage the others do not.
  if [ "$(find "$corpus" -type f | wc -l)" -gt 3000 ]; then
    echo "fuzz: minimizing the kept $t corpus"
    rm -rf "$corpus.min"
    mkdir -p "$corpus.min"
    if (cd "$findings" && ASAN_OPTIONS=detect_leaks=0 "$out/fuzz-$t" -merge=1 -detect_leaks=0 \
      -max_len="$(max_len "$t")" "$corpus.min" "$corpus") >"$out/logs/$t.minimize.log" 2>&1; then
      rm -rf "$corpus"
      mv "$corpus.min" "$corpus"
    fi
  fi
  started_at="$out/logs/$t.started"
  touch "$started_at"
  dirs=("$corpus")
  [ -d "$repo/Tests/fuzz/corpus/$t" ] && dirs+=("$repo/Tests/fuzz/corpus/$t")
  [ -d "$repo/Tests/fuzz/regressions/$t" ] && dirs+=("$repo/Tests/fuzz/regressions/$t")
  [ -d "$out/seeds/$t" ] && dirs+=("$out/seeds/$t")
  extra=()
  [ -f "$repo/Tests/fuzz/$t.dict" ] && extra+=("-dict=$repo/Tests/fuzz/$t.dict")
  asan="${ASAN_OPTIONS:-}"
  if leaks_after "$t"; then
    extra+=("-detect_leaks=0")
    asan="detect_leaks=0${asan:+:$asan}"  # nor the check at exit, which names no input
  fi
  echo "fuzz: running $t for $seconds s"
  log="$out/logs/$t.log"
  report="$log"
  set +e
  (cd "$findings" && ASAN_OPTIONS="$asan" "$out/fuzz-$t" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" "${extra[@]}" "${dirs[@]}") 2>&1 |
    tee "$log"
  code=${PIPESTATUS[0]}
  if [ "$code" -eq 0 ] && leaks_after "$t"; then
    echo "fuzz: replaying the $t seeds and this run's new inputs with leak detection"
    fresh="$out/fresh/$t"
    rm -rf "$fresh"
    mkdir -p "$fresh"
    find "$corpus" -type f -newer "$started_at" -exec cp -t "$fresh" {} +
    (cd "$findings" && "$out/fuzz-$t" -runs=0 -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$findings/" "$fresh" "${dirs[@]:1}") >"$log.leaks" 2>&1
    code=$?
    if [ "$code" -ne 0 ]; then
      tail -60 "$log.leaks"
      report="$log.leaks"
    fi
  fi
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  speed="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  inputs="$(grep -o 'corp: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
  kept="$(find "$corpus" -type f | wc -l)"
  line="fuzz $t: ${runs:-?} runs, ${speed:-?} exec/s, corpus ${inputs:-?} inputs ($kept kept in $corpus)"
  if [ "$code" -ne 0 ]; then
    failed+=("$t")
    line="$line, FAILED (exit $code; see $findings and $report)"
  fi
  summary+=("$line")
  if [ $merge -eq 1 ] && [ "$code" -eq 0 ]; then
    mkdir -p "$repo/Tests/fuzz/corpus/$t"
    "$out/fuzz-$t" -merge=1 -max_len="$(max_len "$t")" "$repo/Tests/fuzz/corpus/$t" "$corpus" >"$out/logs/$t.merge.log" 2>&1
    echo "fuzz: merged into Tests/fuzz/corpus/$t ($(find "$repo/Tests/fuzz/corpus/$t" -type f | wc -l) files)"
  fi
done
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
