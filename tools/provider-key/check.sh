#!/usr/bin/env bash
# Does the command provider read aihpc:sshPrivateKey as aihpc hands it on?
# Builds main.go against golang.org/x/crypto v0.48.0 (pulumi-command
# v1.2.1's) from the Go module proxy and runs check.ts. Needs Go 1.25+ and
# ssh-keygen. Not part of `npm test`: Go is not one of its requirements.
set -euo pipefail
cd "$(dirname "$0")"
command -v go >/dev/null || { echo "provider-key check: needs Go 1.25 or newer (go not on PATH)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
go build -o "$out/provider-key" .
cd ../..
node -r ts-node/register/transpile-only tools/provider-key/check.ts "$out/provider-key"
