#!/usr/bin/env bash
# State size benchmark (issue 17): boots 1, 2 and 4 testbed hosts in turn,
# applies the `local` stack to them for real and prints the state size per
# host. Needs root and the testbed prerequisites (tests/testbed/README.md).
# docs/benchmarks.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(id -u)" != 0 ]; then
  echo "state-size benchmark: needs root (it boots systemd-nspawn hosts)" >&2
  exit 1
fi
exec node -r ts-node/register/transpile-only tools/bench/state-size.ts "$@"
