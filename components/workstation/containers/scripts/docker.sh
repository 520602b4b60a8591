#!/usr/bin/env bash
# Docker engine: Debian 12's docker.io (main, reachable through the same
# mirror and proxy as everything else), pinned to DOCKER_VERSION by an apt
# preference; /etc/docker/daemon.json managed (data root, json-file log
# rotation, cgroup driver, the nvidia runtime on GPU hosts), compared as JSON so
# that `nvidia-ctk runtime configure` rewriting it in its own layout is no
# change; docker restarted only when the file's meaning changed; the research
# users (DOCKER_USERS) in the docker group.
pin=/etc/apt/preferences.d/aihpc-docker
conf=/etc/docker/daemon.json
created="$AIHPC_STATE/docker-data-root"
case "$AIHPC_ACTION" in
  apply)
    : "${DOCKER_VERSION:?}" "${DAEMON_JSON:?}" "${DATA_ROOT:?}"
    aihpc_require_systemd
    aihpc_put "$pin" 0644 root:root "# Managed by aihpc (workstation.containers.docker.version)
Package: docker.io
Pin: version $DOCKER_VERSION+*
Pin-Priority: 1001"
    aihpc_apt_install containers jq
    have="$(dpkg-query -W -f='${Version}' docker.io 2>/dev/null || true)"
    if [ -n "$have" ] && [ "${have#"$DOCKER_VERSION"+}" = "$have" ]; then
      aihpc_lock
      aihpc_apt_retry install --no-install-recommends --allow-downgrades docker.io >&2 || aihpc_die "could not move docker.io from $have to $DOCKER_VERSION"
      aihpc_unlock
      aihpc_log "docker.io $have -> $(dpkg-query -W -f='${Version}' docker.io)"
      aihpc_mark_changed
    fi
    aihpc_apt_install containers docker.io
    v="$(dpkg-query -W -f='${Version}' docker.io)"
    [ "${v#"$DOCKER_VERSION"+}" != "$v" ] || aihpc_die "docker.io $v is installed, the pin says $DOCKER_VERSION: Debian no longer offers it? Set workstation.containers.docker.version to what \`apt-cache policy docker.io\` lists"
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
      if id -u "$u" >/dev/null 2>&1 && ! id -nG "$u" | tr ' ' '\n' | grep -qx docker; then
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
