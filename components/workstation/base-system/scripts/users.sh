#!/usr/bin/env bash
# The research group (gid GROUP_GID when set) and users. USERS: one
# `name:uid:group,group` line per user (uid may be empty); USER_KEYS:
# `name key...` lines. Users removed from the config lose their account
# (home directories are data and stay: README).
: "${GROUP:?}"
record="$AIHPC_STATE/users"
group_record="$AIHPC_STATE/users.group"
backups="$AIHPC_STATE/users.backups"
remove_user() {
  if id -u "$1" >/dev/null 2>&1; then
    if userdel "$1"; then
      aihpc_log "removed user $1 (home directory kept)"
      aihpc_mark_changed
    else
      aihpc_warn "could not remove user $1 (userdel's reason above; a process of theirs still running?): end them (loginctl terminate-user $1) and run again"
    fi
  fi
}
case "$AIHPC_ACTION" in
  apply)
    install -d -m 0755 "$AIHPC_STATE"
    if ! getent group "$GROUP" >/dev/null; then
      groupadd ${GROUP_GID:+--gid "$GROUP_GID"} "$GROUP" || aihpc_die "could not create group $GROUP (gid ${GROUP_GID:-auto} taken?): pick another workstation.base.researchGroupGid"
      echo "$GROUP" >"$group_record"
      aihpc_log "created group $GROUP"
      aihpc_mark_changed
    fi
    if [ -n "${GROUP_GID:-}" ] && [ "$(getent group "$GROUP" | cut -d: -f3)" != "$GROUP_GID" ]; then
      aihpc_die "group $GROUP exists with gid $(getent group "$GROUP" | cut -d: -f3), config says $GROUP_GID: fix workstation.base.researchGroupGid"
    fi
    wanted=()
    while IFS=: read -r name uid groups; do
      [ -n "$name" ] || continue
      wanted+=("$name")
      all="$GROUP${groups:+,$groups}"
      for g in ${all//,/ }; do
        if ! getent group "$g" >/dev/null; then
          groupadd "$g"
          aihpc_log "created group $g"
          aihpc_mark_changed
        fi
      done
      if ! id -u "$name" >/dev/null 2>&1; then
        # useradd backs up /etc/subuid and /etc/subgid (their `-` files) when it
        # adds the user's ranges: files this stack then made, removed on teardown.
        for f in /etc/subuid- /etc/subgid-; do
          [ -e "$f" ] || grep -qx "$f" "$backups" 2>/dev/null || echo "$f" >>"$backups"
        done
        args=(--create-home --shell /bin/bash --groups "$all")
        [ -n "$uid" ] && args+=(--uid "$uid")
        useradd "${args[@]}" "$name" || aihpc_die "could not create user $name (uid ${uid:-auto} taken?): pick another uid in workstation.base.users"
        echo "$name" >>"$record"
        aihpc_log "created user $name"
        aihpc_mark_changed
      else
        [ -z "$uid" ] || [ "$(id -u "$name")" = "$uid" ] || aihpc_die "user $name exists with uid $(id -u "$name"), config says $uid: fix the uid in workstation.base.users"
        for g in ${all//,/ }; do
          # shellcheck disable=SC2046 # group names: one word each
          if ! aihpc_contains "$g" $(id -nG "$name"); then
            usermod -a -G "$g" "$name"
            aihpc_log "added $name to $g"
            aihpc_mark_changed
          fi
        done
      fi
      keys="$(printf '%s\n' "${USER_KEYS:-}" | awk -v u="$name" '$1 == u { sub(/^[^ ]+ /, ""); print }')"
      if [ -n "$keys" ]; then
        home="$(getent passwd "$name" | cut -d: -f6)"
        install -d -m 0700 -o "$name" -g "$(id -gn "$name")" "$home/.ssh"
        aihpc_put "$home/.ssh/authorized_keys" 0600 "$name:$(id -gn "$name")" "$keys"
      fi
    done <<<"${USERS:-}"
    # Users this step created that the config no longer lists.
    if [ -f "$record" ]; then
      keep=()
      while read -r u; do
        if aihpc_contains "$u" "${wanted[@]}"; then keep+=("$u"); else remove_user "$u"; fi
      done < <(sort -u "$record")
      printf '%s\n' "${keep[@]}" | sed '/^$/d' >"$record"
    fi
    ;;
  delete)
    if aihpc_retain base; then
      aihpc_log "retain: keeping users and group $GROUP"
    else
      if [ -f "$record" ]; then
        while read -r u; do [ -n "$u" ] && remove_user "$u"; done < <(sort -u "$record")
        rm -f "$record"
      fi
      if [ -f "$group_record" ] && getent group "$GROUP" >/dev/null; then
        groupdel "$GROUP" && aihpc_log "removed group $GROUP" && aihpc_mark_changed
      fi
      rm -f "$group_record"
      if [ -f "$backups" ]; then
        while read -r f; do [ -n "$f" ] && aihpc_rm "$f"; done <"$backups"
        rm -f "$backups"
      fi
    fi
    ;;
esac
aihpc_done
