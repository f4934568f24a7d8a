#!/usr/bin/env bash
# Builds the JSON parser's libFuzzer target (Tests/fuzz/JSONFuzz.swift with the MockJSON
# sources, AddressSanitizer on) and runs it for the given seconds (default 60) from a seed
# corpus of the repository's fixtures and API examples. Exits non-zero on any finding; the
# crashing input is left in .build-fuzz/.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-60}"
out="$repo/.build-fuzz"
mkdir -p "$out/corpus" "$out/findings"
swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name MockJSON \
  "$repo"/Sources/MockJSON/*.swift "$repo/Tests/fuzz/JSONFuzz.swift" -o "$out/json-fuzz"
# Seeds: every JSON file of the repository that is not too large, and the README's bodies.
find "$repo/fixtures" "$repo/Tests" "$repo/examples" -name '*.json' -size -200k -print0 2>/dev/null |
  while IFS= read -r -d '' f; do cp "$f" "$out/corpus/$(basename "$f")"; done
printf '%s' '{"events":[{"type":"user.message","content":"hi"}]}' > "$out/corpus/send.json"
printf '%s' '[1,-0.5e3,"\u00e9\ud83d\ude00",true,null,{"a":{"b":[]}}]' > "$out/corpus/mixed.json"
cd "$out/findings"
exec "$out/json-fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 "$out/corpus"
