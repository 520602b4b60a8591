#!/usr/bin/env bash
# Lint every shell script in the repository with shellcheck: *.sh files and any file
# whose first line is a sh/bash shebang (e.g. .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
  echo "shellcheck is not installed: apt-get install shellcheck (.ci/run does this)" >&2
  exit 1
fi

scripts=()
while IFS= read -r -d '' f; do
  [ -f "$f" ] || continue
  case "$f" in
    node_modules/*) continue ;;
    *.sh) scripts+=("$f") ;;
    *) if head -n1 "$f" 2>/dev/null | grep -Eq '^#!.*/(env )?(ba)?sh( |$)'; then scripts+=("$f"); fi ;;
  esac
done < <(git ls-files -z --cached --others --exclude-standard)

if [ "${#scripts[@]}" -eq 0 ]; then
  echo "shellcheck: no shell scripts found" >&2
  exit 1
fi
shellcheck --severity=style --external-sources "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
