#!/usr/bin/env bash
# Scale benchmark (issue 17): the offline plan of the `local` stack with N
# identical GPU hosts (as in tests/testbed: the GPU stack on, every host a
# compute node, ws1 the controller): wall time, peak memory (RSS, /usr/bin/time),
# plan JSON size, and the size of what the engine would keep per host (every
# command resource's inputs, which the command provider also returns as
# outputs, so Pulumi's state holds them twice). Prints a Markdown table and a
# least-squares line for time and memory against hosts.
# Usage: bash tools/bench/scale.sh [N ...]   (default 1 4 16 64)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time: apt-get install time" >&2; exit 1; }
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(1 4 16 64)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp Pulumi.yaml "$work/"

stack_file() {
  local n="$1" i
  echo "config:"
  echo "  aihpc:workstation:"
  echo "    hosts:"
  for i in $(seq 1 "$n"); do
    echo "      - name: ws$i"
    echo "        address: 10.0.$((i / 250)).$((i % 250 + 1))"
    echo "        hostKey: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJlcGxhY2Ugd2l0aCB5b3VyIGhvc3QncyBrZXkgICAg root@ws$i"
    [ "$i" = 1 ] && echo "        roles: [controller, compute]" || echo "        roles: [compute]"
    echo "        gpus: { count: 1, model: NVIDIA H200 }"
  done
  echo "  aihpc:sshPrivateKey:"
  echo "    secure: v1:bench"
}

plan() { SWC_NODE_SOURCE_MAP_MODE=inline node -r @swc-node/register tools/plan/cli.ts "$@"; }
plan --stack local --format json >/dev/null # warm swc's cache

echo "| hosts | resources | plan wall (s) | peak memory (MB) | plan JSON (MB) | command inputs per host (KB) | state estimate per host (KB) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
points=()
for n in "${sizes[@]}"; do
  stack_file "$n" >"$work/Pulumi.scale$n.yaml"
  /usr/bin/time -f '%e %M' -o "$work/time" bash -c "SWC_NODE_SOURCE_MAP_MODE=inline node -r @swc-node/register tools/plan/cli.ts --dir '$work' --stack scale$n --format json >'$work/plan.json'"
  read -r wall rss <"$work/time"
  node -e '
    const p = require(process.argv[1]); const n = Number(process.argv[2]);
    const cmd = p.resources.filter((r) => /^command:/.test(r.type));
    const inputs = cmd.reduce((a, r) => a + JSON.stringify(r.inputs).length, 0);
    const size = require("fs").statSync(process.argv[1]).size;
    console.log([n, p.resources.length, process.argv[3], (Number(process.argv[4]) / 1024).toFixed(0), (size / 1e6).toFixed(2),
      (inputs / n / 1024).toFixed(1), (2 * inputs / n / 1024).toFixed(1)].join(" | ").replace(/^/, "| ").replace(/$/, " |"));
  ' "$work/plan.json" "$n" "$wall" "$rss"
  points+=("$n $wall $((rss / 1024))")
done
echo
printf '%s\n' "${points[@]}" | awk '
  { x[NR] = $1; t[NR] = $2; m[NR] = $3; sx += $1; st += $2; sm += $3; sxx += $1 * $1; sxt += $1 * $2; sxm += $1 * $3 }
  END {
    n = NR; d = n * sxx - sx * sx; if (d == 0) exit
    bt = (n * sxt - sx * st) / d; at = (st - bt * sx) / n
    bm = (n * sxm - sx * sm) / d; am = (sm - bm * sx) / n
    for (i = 1; i <= n; i++) { et += (t[i] - at - bt * x[i]) ^ 2; vt += (t[i] - st / n) ^ 2; em += (m[i] - am - bm * x[i]) ^ 2; vm += (m[i] - sm / n) ^ 2 }
    printf "fit: wall = %.2f s + %.3f s/host (R^2 %.3f); peak memory = %.0f MB + %.1f MB/host (R^2 %.3f)\n", at, bt, vt ? 1 - et / vt : 1, am, bm, vm ? 1 - em / vm : 1
  }'
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, node $(node --version), load $(cut -d' ' -f1-3 /proc/loadavg)"
