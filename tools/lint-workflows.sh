#!/usr/bin/env bash
# Validate every GitHub Actions workflow against the workflow schema.
set -euo pipefail
cd "$(dirname "$0")/.."
shopt -s nullglob
files=(.github/workflows/*.yml .github/workflows/*.yaml)
if [ "${#files[@]}" -eq 0 ]; then
  echo "lint-workflows: no workflow files found" >&2
  exit 1
fi
for f in "${files[@]}"; do
  if ! out=$(npx --no-install action-validator "$f" 2>&1); then
    echo "lint-workflows: $f is not a valid workflow:" >&2
    echo "$out" >&2
    exit 1
  fi
done
# Supply chain: every action pinned to a full commit SHA, its tag in a comment
# (`uses: actions/checkout@<40 hex> # v4.4.0`); a tag can be moved, a SHA cannot.
if unpinned=$(grep -nE '^\s*(- )?uses:' "${files[@]}" | grep -vE 'uses: [^@ ]+@[0-9a-f]{40} # v[0-9][^ ]*$'); then
  echo "lint-workflows: actions not pinned to a commit SHA with its tag as a comment:" >&2
  echo "$unpinned" >&2
  exit 1
fi
echo "lint-workflows: ${#files[@]} workflows valid, every action pinned by SHA"
