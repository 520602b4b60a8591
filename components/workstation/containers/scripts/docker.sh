#!/usr/bin/env bash
# Docker engine: Debian 12's docker.io (main, reachable through the same
# mirror and proxy as everything else), held at DOCKER_PACKAGE
# (`docker.io=20.10.*`, its line, or an exact opt-in `docker.io=VERSION+*`) by an apt preference (PIN at PIN_FILE); DAEMON_JSON
# at DAEMON_FILE (data root, json-file log rotation, cgroup driver, the nvidia
# runtime on GPU hosts), compared as JSON so that `nvidia-ctk runtime
# configure` rewriting it in its own layout is no change; docker restarted
# only when the file's meaning changed; the research users (DOCKER_USERS) in
# the docker group. PIN and DAEMON_JSON are rendered in TypeScript
# (containers/files.ts, containers/index.ts daemonJson).
: "${PIN_FILE:?}" "${DAEMON_FILE:?}"
pin="$PIN_FILE"
conf="$DAEMON_FILE"
created="$AIHPC_STATE/docker-data-root"
case "$AIHPC_ACTION" in
  apply)
    : "${DOCKER_VERSION:?}" "${DOCKER_PACKAGE:?}" "${PIN:?}" "${DAEMON_JSON:?}" "${DATA_ROOT:?}"
    aihpc_require_systemd
    aihpc_put "$pin" 0644 root:root "$PIN"
    aihpc_apt_install_pinned containers "Debian no longer offers docker.io $DOCKER_VERSION? Set workstation.containers.docker.version to what \`apt-cache policy docker.io\` lists, or unset it to follow the line" jq "$DOCKER_PACKAGE"
    # What the host runs (the component's `installed` output).
    echo "installed_package=docker.io=$(dpkg-query -W -f='${Version}' docker.io)"
    printf '%s\n' "$DAEMON_JSON" | jq -e . >/dev/null || aihpc_die "the generated daemon.json is not valid JSON"
    if [ ! -d "$DATA_ROOT" ]; then
      install -d -m 0710 "$DATA_ROOT"
      echo "$DATA_ROOT" >"$created"
      aihpc_log "created $DATA_ROOT"
      aihpc_mark_changed
    fi
    restart=0
    if [ ! -f "$conf" ] || [ "$(jq -S . "$conf" 2>/dev/null || true)" != "$(printf '%s\n' "$DAEMON_JSON" | jq -S .)" ]; then
      aihpc_put "$conf" 0644 root:root "$DAEMON_JSON"
      restart=1
    fi
    aihpc_service docker.service "$restart"
    for _ in $(seq 1 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || aihpc_service_failed docker.service
    for u in ${DOCKER_USERS:-}; do
      # shellcheck disable=SC2046 # group names: one word each
      if id -u "$u" >/dev/null 2>&1 && ! aihpc_contains docker $(id -nG "$u"); then
        usermod -a -G docker "$u" && aihpc_log "added $u to docker" && aihpc_mark_changed
      fi
    done
    ;;
  delete)
    aihpc_have_systemd && for u in docker.service docker.socket containerd.service; do aihpc_service_off "$u"; done
    aihpc_rm "$conf" "$pin"
    if aihpc_retain containers; then
      aihpc_log "retain: keeping docker.io and its data root"
    else
      aihpc_apt_remove containers
      if [ -f "$created" ]; then
        root="$(cat "$created")"
        case "$root" in
          /?*) [ -d "$root" ] && rm -rf "$root" && aihpc_log "removed $root" && aihpc_mark_changed ;;
        esac
        rm -f "$created"
      fi
    fi
    ;;
esac
aihpc_done
