#!/usr/bin/env bash
# Slurm accounting storage on its host (workstation.slurm.accounting): Debian's
# MariaDB and slurmdbd, the database user slurm with the password generated in
# the graph (on stdin, never in argv), slurmdbd.conf 0600 slurm:slurm, and the
# cluster registered. Teardown stops both; the database, MariaDB and the
# backups stay unless accounting.retain is false.
conf=/etc/slurm/slurmdbd.conf
cnf=/etc/mysql/mariadb.conf.d/60-aihpc-slurmdbd.cnf
case "$AIHPC_ACTION" in
  apply)
    : "${SLURMDBD_CONF:?}" "${MARIADB_CONF:?}" "${DB_SETUP_SQL:?}" "${SACCTMGR_CONF:?}" "${CLUSTER:?}" "${DB:?}"
    aihpc_require_systemd
    getent passwd slurm >/dev/null || aihpc_die "user slurm is missing: the Slurm packages did not install; re-run"
    pass="$(cat)"
    [ -n "$pass" ] || aihpc_die "no database password on stdin; this step must be run by Pulumi, which sends it"
    aihpc_apt_install slurm-accounting mariadb-server slurmdbd
    aihpc_put "$cnf" 0644 root:root "$MARIADB_CONF"
    aihpc_service mariadb.service "$AIHPC_WROTE"
    for _ in $(seq 1 30); do mariadb-admin ping >/dev/null 2>&1 && break; sleep 1; done
    mariadb-admin ping >/dev/null 2>&1 || aihpc_service_failed mariadb.service
    # The password goes in a 0600 option file, never on a command line.
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    printf '[client]\nuser=slurm\npassword=%s\n' "$pass" >"$tmp/my.cnf"
    if ! mariadb --defaults-extra-file="$tmp/my.cnf" -e "SELECT 1 FROM DUAL" "$DB" >/dev/null 2>&1; then
      # SQL (rendered by conf.ts dbSetupSql) on stdin: the password never reaches argv.
      printf '%s\n' "$DB_SETUP_SQL" | mariadb
      aihpc_log "set up database $DB and its user slurm"
      aihpc_mark_changed
    fi
    install -d -m 0755 -o slurm -g slurm /var/log/slurm
    aihpc_put "$conf" 0600 slurm:slurm "$SLURMDBD_CONF"
    aihpc_service slurmdbd.service "$AIHPC_WROTE"
    # The cluster, registered once (sacctmgr finds slurmdbd through a
    # minimal slurm.conf: the real one may not name it yet).
    printf '%s\n' "$SACCTMGR_CONF" >"$tmp/slurm.conf"
    up=0
    for _ in $(seq 1 30); do
      if clusters="$(SLURM_CONF="$tmp/slurm.conf" sacctmgr -nP show cluster format=cluster 2>/dev/null)"; then up=1 && break; fi
      sleep 1
    done
    [ "$up" = 1 ] || aihpc_service_failed slurmdbd.service
    if ! grep -qx "$CLUSTER" <<<"$clusters"; then
      SLURM_CONF="$tmp/slurm.conf" sacctmgr -i add cluster "$CLUSTER" >/dev/null
      aihpc_log "registered cluster $CLUSTER with slurmdbd"
      aihpc_mark_changed
    fi
    ;;
  delete)
    aihpc_have_systemd && for u in slurmdbd.service mariadb.service; do aihpc_service_off "$u"; done
    if aihpc_retain slurm-accounting; then
      aihpc_log "retain: keeping MariaDB and the accounting database"
    else
      # MariaDB's data goes only where this step installed MariaDB; on a host
      # that had it before, only the accounting database and its user.
      ours=0
      grep -qx mariadb-server "$AIHPC_STATE/packages/slurm-accounting.requested" 2>/dev/null && ours=1
      if [ "$ours" = 0 ] && aihpc_installed mariadb-server && systemctl start mariadb.service 2>/dev/null; then
        mariadb -e "DROP DATABASE IF EXISTS \`${DB:-slurm_acct_db}\`; DROP USER IF EXISTS 'slurm'@'localhost';" || aihpc_warn "could not drop the accounting database"
        aihpc_log "dropped the accounting database and its user"
        aihpc_mark_changed
      fi
      aihpc_rm "$conf" "$cnf"
      aihpc_apt_remove slurm-accounting
      if [ "$ours" = 1 ]; then
        # Purging keeps the data folder; /etc/mysql only once no MariaDB package uses it.
        dirs=(/var/lib/mysql /run/mysqld)
        aihpc_installed mariadb-common || dirs+=(/etc/mysql)
        for d in "${dirs[@]}"; do
          if [ -e "$d" ]; then rm -rf "$d" && aihpc_log "removed $d" && aihpc_mark_changed; fi
        done
      fi
    fi
    ;;
esac
aihpc_done
