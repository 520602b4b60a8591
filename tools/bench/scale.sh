#!/usr/bin/env bash
# Scale benchmark (issue 17): the offline plan of the `local` stack with N
# identical GPU hosts (as in tests/testbed: the GPU stack on, every host a
# compute node, ws1 the controller): wall time, peak memory (RSS, /usr/bin/time),
# plan JSON size, and the size of what the engine would keep per host (every
# command resource's inputs, which the command provider also returns as
# outputs, so Pulumi's state holds them twice). The plan runs as `npm run plan`
# runs it (package.json's script, without npm itself). Then the same program
# under the Pulumi CLI's loader (tools/bench/pulumi-loader.js: ts-node as
# Pulumi.yaml configures it, with its nodeargs): what `pulumi preview` spends
# in the program, less the engine's own work. Prints a Markdown table and a
# least-squares line for time and memory against hosts.
# Each is run RUNS times (default 3), alternating, and the medians reported:
# this machine's neighbours move single runs by half a second.
# Usage: [RUNS=3] bash tools/bench/scale.sh [N ...]   (default 1 4 16 64)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time: apt-get install time" >&2; exit 1; }
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(1 4 16 64)
runs="${RUNS:-3}"
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "RUNS must be a positive whole number, got '$runs'" >&2; exit 2; }
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

# The median of each column of a file of "wall rss" lines.
median() {
  local f="$1"
  paste <(cut -d' ' -f1 "$f" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') \
    <(cut -d' ' -f2 "$f" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }') | tr '\t' ' '
}

plan_cmd="$(node -p 'require("./package.json").scripts.plan')"
loader_cmd="node $(node -p 'require("yaml").parse(require("fs").readFileSync("Pulumi.yaml", "utf8")).runtime.options.nodeargs ?? ""') -r ./tools/bench/pulumi-loader.js tools/plan/cli.ts"
bash -c "$plan_cmd --stack local --format json" >/dev/null   # warm swc's cache
bash -c "$loader_cmd --stack local --format json" >/dev/null # and ts-node's
echo "plan: $plan_cmd"
echo "under the Pulumi CLI's loader: $loader_cmd"
echo

echo "| hosts | resources | plan wall (s) | peak memory (MB) | plan JSON (MB) | command inputs per host (KB) | state estimate per host (KB) | Pulumi's loader wall (s) | Pulumi's loader peak (MB) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
points=()
for n in "${sizes[@]}"; do
  stack_file "$n" >"$work/Pulumi.scale$n.yaml"
  : >"$work/plan.times"
  : >"$work/loader.times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -a -o "$work/plan.times" bash -c "$plan_cmd --dir '$work' --stack scale$n --format json >'$work/plan.json'"
    /usr/bin/time -f '%e %M' -a -o "$work/loader.times" bash -c "$loader_cmd --dir '$work' --stack scale$n --format json >'$work/loader.json'"
  done
  read -r wall rss < <(median "$work/plan.times")
  read -r lwall lrss < <(median "$work/loader.times")
  # The same graph both ways, or the second column measures something else.
  node -e 'const f = (p) => JSON.stringify(require(p).resources.map((r) => [r.urn, r.inputs])); if (f(process.argv[1]) !== f(process.argv[2])) { console.error("the loader planned another graph"); process.exit(1); }' "$work/plan.json" "$work/loader.json"
  node -e '
    const p = require(process.argv[1]); const n = Number(process.argv[2]);
    const cmd = p.resources.filter((r) => /^command:/.test(r.type));
    const inputs = cmd.reduce((a, r) => a + JSON.stringify(r.inputs).length, 0);
    const size = require("fs").statSync(process.argv[1]).size;
    console.log([n, p.resources.length, process.argv[3], (Number(process.argv[4]) / 1024).toFixed(0), (size / 1e6).toFixed(2),
      (inputs / n / 1024).toFixed(1), (2 * inputs / n / 1024).toFixed(1), process.argv[5], (Number(process.argv[6]) / 1024).toFixed(0)].join(" | ").replace(/^/, "| ").replace(/$/, " |"));
  ' "$work/plan.json" "$n" "$wall" "$rss" "$lwall" "$lrss"
  points+=("$n $wall $((rss / 1024)) $lwall $((lrss / 1024))")
done
echo
# Least squares of columns $2 (time) and $3 (memory) against hosts ($1).
fit() {
  awk -v what="$1" '
  { x[NR] = $1; t[NR] = $2; m[NR] = $3; sx += $1; st += $2; sm += $3; sxx += $1 * $1; sxt += $1 * $2; sxm += $1 * $3 }
  END {
    n = NR; d = n * sxx - sx * sx; if (d == 0) exit
    bt = (n * sxt - sx * st) / d; at = (st - bt * sx) / n
    bm = (n * sxm - sx * sm) / d; am = (sm - bm * sx) / n
    for (i = 1; i <= n; i++) { et += (t[i] - at - bt * x[i]) ^ 2; vt += (t[i] - st / n) ^ 2; em += (m[i] - am - bm * x[i]) ^ 2; vm += (m[i] - sm / n) ^ 2 }
    printf "fit, %s: wall = %.2f s + %.3f s/host (R^2 %.3f); peak memory = %.0f MB + %.1f MB/host (R^2 %.3f)\n", what, at, bt, vt ? 1 - et / vt : 1, am, bm, vm ? 1 - em / vm : 1
  }'
}
printf '%s\n' "${points[@]}" | awk '{ print $1, $2, $3 }' | fit "plan"
printf '%s\n' "${points[@]}" | awk '{ print $1, $4, $5 }' | fit "Pulumi's loader"
echo "medians of $runs runs each"
# CPU pressure: the share of time some task here waited for a CPU (neighbours on a shared host included).
psi="$(awk '/^some/ { sub("avg60=", "", $3); print $3 "%" }' /proc/pressure/cpu 2>/dev/null || true)"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, node $(node --version), load $(cut -d' ' -f1-3 /proc/loadavg), CPU pressure over the last minute ${psi:-unknown}"
