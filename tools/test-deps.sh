#!/usr/bin/env bash
# What `npm test` needs beyond its npm packages (npm runs this first, as
# `pretest`). Each command, the Debian package that has it, and its use:
#   - shellcheck (shellcheck): every shell script (tools/shellcheck.sh)
#   - promtool (prometheus): the generated prometheus.yml and alert rules
#   - amtool (prometheus-alertmanager): the generated alertmanager.yml
#   - jq (jq): the hybrid bridge's aihpc-burst dry run
#   - python3 (python3): the GPU acceptance evaluator and PyTorch check
#   - g++ (g++): the GPU acceptance programs' option parsing (no CUDA needed)
#   - gpg (gpg): the pinned apt key fingerprints
#   - ssh-keygen (openssh-client): aihpc:sshPrivateKey read as OpenSSH reads it
# As root: installs the missing ones with apt (one update, no recommends,
# waiting for the dpkg lock). Not root: stops at once with one line that names
# them and the command that installs them.
set -euo pipefail

tools=(shellcheck:shellcheck promtool:prometheus amtool:prometheus-alertmanager jq:jq python3:python3 g++:g++ gpg:gpg ssh-keygen:openssh-client)
missing=()
for t in "${tools[@]}"; do
  command -v "${t%%:*}" >/dev/null 2>&1 || missing+=("${t#*:}")
done
[ "${#missing[@]}" -gt 0 ] || exit 0

install="apt-get install --no-install-recommends ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "npm test needs ${missing[*]}: run 'sudo $install' (or npm test as root, which installs them)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "npm test needs ${missing[*]} (Debian package names): install them, then re-run" >&2
  exit 1
fi

echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt=(apt-get -q -y -o DPkg::Lock::Timeout=300)
"${apt[@]}" update --error-on=any >&2 || {
  echo "test-deps: apt-get update failed (above): check this machine's apt sources, then re-run (or: $install)" >&2
  exit 1
}
"${apt[@]}" install --no-install-recommends "${missing[@]}" >&2 || {
  echo "test-deps: could not install ${missing[*]} (above)" >&2
  exit 1
}
