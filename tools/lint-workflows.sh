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
echo "lint-workflows: ${#files[@]} workflows valid"
