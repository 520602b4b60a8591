#!/usr/bin/env bash
# Docker authenticates to Artifact Registry through gcloud's credential helper
# (`credHelpers` in ~/.docker/config.json), so pulls and pushes on the
# workstation act as its keyless identity: for root and each research user.
# Other keys of an existing config are kept; teardown removes only ours.
# REGISTRIES (host names), USERS (names).
record="$AIHPC_STATE/hybrid-docker-auth"

# config_for USER -> path of the user's Docker client config
config_for() {
  local home
  home="$(getent passwd "$1" | cut -d: -f6)"
  printf '%s/.docker/config.json' "$home"
}

unset_helpers() { # FILE CREATED HOSTS...
  local f="$1" created="$2" new
  shift 2
  [ -f "$f" ] || return 0
  new="$(jq --args 'reduce $ARGS.positional[] as $h (.; del(.credHelpers[$h])) | if (.credHelpers // {}) == {} then del(.credHelpers) else . end' "$@" <"$f")"
  if [ "$created" = 1 ] && [ "$new" = "{}" ]; then
    aihpc_rm "$f"
    rmdir "$(dirname "$f")" 2>/dev/null || true
  else
    aihpc_put "$f" "$(stat -c '%a' "$f")" "$(stat -c '%U:%G' "$f")" "$new"
  fi
}

case "$AIHPC_ACTION" in
  apply)
    : "${REGISTRIES:?}"
    command -v jq >/dev/null || aihpc_die "jq is needed to edit Docker's client config: keep workstation.base enabled (it installs jq) or install jq"
    install -d -m 0755 "$AIHPC_STATE"
    read -r -a regs <<<"$REGISTRIES"
    old_regs=()
    [ -f "$record.hosts" ] && mapfile -t old_regs <"$record.hosts"
    : >"$record.new"
    for u in root ${USERS:-}; do
      id -u "$u" >/dev/null 2>&1 || { aihpc_warn "user $u does not exist: no Docker credential helper for it"; continue; }
      f="$(config_for "$u")"
      group="$(id -gn "$u")"
      created="$(awk -v f="$f" '$1 == f { print $2 }' "$record" 2>/dev/null || true)"
      if [ ! -f "$f" ]; then
        [ -d "$(dirname "$f")" ] || install -d -m 0700 -o "$u" -g "$group" "$(dirname "$f")"
        old="{}"
        created=1
      else
        old="$(cat "$f")"
        printf '%s' "$old" | jq -e 'type == "object"' >/dev/null 2>&1 || aihpc_die "$f is not a JSON object: fix or remove it, then re-run"
      fi
      new="$(printf '%s' "$old" | jq --args 'reduce $ARGS.positional[] as $h (.; .credHelpers[$h] = "gcloud")' "${regs[@]}")"
      mode=0600
      [ -f "$f" ] && mode="$(stat -c '%a' "$f")"
      # The folder exists by now (0700 when new): aihpc_put keeps its mode.
      aihpc_put "$f" "$mode" "$u:$group" "$new"
      echo "$f ${created:-0}" >>"$record.new"
    done
    # Users no longer listed, and registries no longer used.
    if [ -f "$record" ]; then
      while read -r f created; do
        [ -n "$f" ] || continue
        grep -q "^$f " "$record.new" || unset_helpers "$f" "$created" "${old_regs[@]}"
      done <"$record"
      stale=()
      for h in "${old_regs[@]}"; do
        case " $REGISTRIES " in *" $h "*) ;; *) stale+=("$h") ;; esac
      done
      if [ "${#stale[@]}" -gt 0 ]; then
        while read -r f created; do unset_helpers "$f" 0 "${stale[@]}"; done <"$record.new"
      fi
    fi
    mv -f "$record.new" "$record"
    printf '%s\n' "${regs[@]}" >"$record.hosts"
    ;;
  delete)
    if [ -f "$record" ]; then
      old_regs=()
      [ -f "$record.hosts" ] && mapfile -t old_regs <"$record.hosts"
      while read -r f created; do [ -n "$f" ] && unset_helpers "$f" "$created" "${old_regs[@]}"; done <"$record"
    fi
    rm -f "$record" "$record.hosts"
    ;;
esac
aihpc_done
