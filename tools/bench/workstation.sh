#!/usr/bin/env bash
# Workstation benchmark (issue 3): boots two testbed hosts, applies the `local`
# stack's program to them for real, and prints a Markdown table of the time and
# commands for bare -> first GPU job, a no-op re-apply and a one-setting change.
# Needs root and the testbed prerequisites (tests/testbed/README.md).
# docs/benchmarks-workstation.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
  echo "workstation benchmark: needs root (it boots systemd-nspawn hosts)" >&2
  exit 1
fi
exec node -r ts-node/register/transpile-only tools/bench/workstation.ts
