#!/usr/bin/env bash
# Foundation benchmark (issue 2): how long the offline plan and the unit suite
# take on this machine, against the time of merely loading @pulumi/pulumi.
# Prints a Markdown table; docs/benchmarks.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${RUNS:-5}"

# Median wall time in seconds of a command run $runs times.
median() {
  local times=() t0 t1
  for _ in $(seq "$runs"); do
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# The plan exactly as `npm run plan` runs it, without npm's own start-up.
plan() { SWC_NODE_SOURCE_MAP_MODE=inline node -r @swc-node/register tools/plan/cli.ts "$@"; }
load=$(median node -e 'require("@pulumi/pulumi")')
plan_local=$(median plan --stack local)
plan_gcp=$(median plan --stack gcp)
plan_gcp_json=$(median plan --stack gcp --format json)
npm_plan_gcp=$(median npm run -s plan -- --stack gcp)
runs=1
unit=$(median npx jest --selectProjects unit)
typecheck=$(median npx tsc --noEmit -p tsconfig.json)
resources=$(plan --stack gcp --format json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).resources.length))')

echo "| measurement | seconds |"
echo "| --- | ---: |"
echo "| load @pulumi/pulumi (node -e require) | $load |"
echo "| plan --stack local | $plan_local |"
echo "| plan --stack gcp ($resources resources and components) | $plan_gcp |"
echo "| plan --stack gcp --format json | $plan_gcp_json |"
echo "| the same through npm (npm run -s plan -- --stack gcp) | $npm_plan_gcp |"
echo "| plan gcp / load pulumi (target <= 3) | $(echo "$plan_gcp / $load" | bc -l | xargs printf '%.1f') |"
echo "| unit suite: jest --selectProjects unit (target < 60) | $unit |"
echo "| strict type check: tsc --noEmit | $typecheck |"
echo
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ { print $2 }') GiB, node $(node --version), load $(cut -d' ' -f1-3 /proc/loadavg); median of ${RUNS:-5} runs for the plan rows, 1 run for the suite and type check"
echo "plan = SWC_NODE_SOURCE_MAP_MODE=inline node -r @swc-node/register tools/plan/cli.ts (what npm run plan runs)"
