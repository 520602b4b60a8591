#!/usr/bin/env bash
# Lint every shell script in the repository with shellcheck: *.sh files and any file
# whose first line is a sh/bash shebang (e.g. .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v shellcheck >/dev/null; then
  echo "shellcheck is not installed: apt-get install shellcheck (npm test installs it as root: tools/test-deps.sh)" >&2
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
done < <(
  # A clone: what git tracks or would track. Without git (a source archive,
  # or a checkout git calls dubious): every file outside node_modules and .git.
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard
  else
    find . \( -path ./node_modules -o -path ./.git \) -prune -o -type f -printf '%P\0'
  fi
)

if [ "${#scripts[@]}" -eq 0 ]; then
  echo "shellcheck: no shell scripts found" >&2
  exit 1
fi
# Provisioning steps run with lib.sh in front of them (components/steps/
# index.ts); check them the same way so its functions and variables are known.
lib=components/steps/scripts/lib.sh
plain=()
steps=()
for f in "${scripts[@]}"; do
  if [ "$f" != "$lib" ] && [ -f "$lib" ] && grep -q 'aihpc_done' "$f"; then steps+=("$f"); else plain+=("$f"); fi
done

failed=0
shellcheck --severity=style --external-sources "${plain[@]}" || failed=1
for f in "${steps[@]}"; do
  if ! out=$(sed '1{/^#!/d}' "$f" | cat "$lib" - | shellcheck --severity=style -s bash - 2>&1); then
    echo "== $f (checked with $lib in front; line numbers count from the top of $lib)"
    echo "$out"
    failed=1
  fi
done
[ "$failed" = 0 ] || exit 1
echo "shellcheck: ${#scripts[@]} scripts clean (${#steps[@]} steps checked with lib.sh)"
