#!/usr/bin/env bash
# Peak memory and CPU of the Pulumi SDK alone per command resource
# (tools/bench/sdk-cost.ts), to compare with the stack's per-host cost
# (tools/bench/scale.sh). Usage: bash tools/bench/sdk-cost.sh [N ...] (default 500 2000)
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(500 2000)
run() { N="$1" SWC_NODE_SOURCE_MAP_MODE=inline /usr/bin/time -f '%U %M' -o "$2" node -r @swc-node/register tools/bench/sdk-cost.ts >/dev/null; }
t="$(mktemp)"; trap 'rm -f "$t"' EXIT
run 10 "$t"
echo "| resources | user CPU (s) | peak memory (MB) |"
echo "| ---: | ---: | ---: |"
points=()
for n in "${sizes[@]}"; do
  run "$n" "$t"; read -r user rss <"$t"
  echo "| $n | $user | $((rss / 1024)) |"
  points+=("$n $rss")
done
printf '%s\n' "${points[@]}" | awk 'NR == 1 { n0 = $1; m0 = $2 } { n1 = $1; m1 = $2 } END { if (n1 > n0) printf "slope: %.0f KB of peak memory per command resource\n", (m1 - m0) / (n1 - n0) }'
