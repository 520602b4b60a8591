#!/usr/bin/env bash
# Accounts, users and QoS of workstation.slurm.accounting, reconciled with
# sacctmgr: what `sacctmgr -nP show ...` prints is compared with the desired
# state (STATE, rendered by accountingState() in conf.ts), and only the
# differences are added, modified or removed. Removing a user deletes its
# associations; its jobs stay in the database (sacct still lists them).
# Slurm's own `root` account, `root` user and `normal` QoS are never touched.
case "$AIHPC_ACTION" in
  apply)
    : "${STATE?}" "${SACCTMGR_CONF:?}" "${CLUSTER:?}"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    printf '%s\n' "$SACCTMGR_CONF" >"$tmp/slurm.conf"
    sm() { SLURM_CONF="$tmp/slurm.conf" sacctmgr "$@"; }
    run() {
      local out
      aihpc_log "sacctmgr $*"
      out="$(sm -i "$@" 2>&1)" || aihpc_die "sacctmgr $* failed: $out"
      aihpc_mark_changed
    }
    desired() { printf '%s\n' "$STATE" | awk -F'|' -v k="$1" '$1 == k' | cut -d'|' -f2-; }
    sorted() { printf '%s' "$1" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd,; }
    # slurmdbd may have just started.
    for _ in $(seq 1 30); do sm -nP show cluster format=cluster >/dev/null 2>&1 && break; sleep 1; done
    qos_now() { sm -nP show qos format=name,priority,maxtrespu,maxjobspu,maxsubmitpu,maxwall; }
    assoc_now() { sm -nP show assoc where cluster="$CLUSTER" format=account,user,parentname,fairshare,qos,defaultqos; }

    # TRES in QoS limits (gres/gpu) exist once slurmctld has registered them
    # (AccountingStorageTRES): this step runs after the controller's config.
    for t in $(desired qos | cut -d'|' -f4 | tr ',' '\n' | sed -n 's/=.*//p' | sort -u); do
      ok=0
      for _ in $(seq 1 60); do
        # grep reads it all (no -q): an early exit would fail the pipe under pipefail.
        sm -nP show tres format=type,name | awk -F'|' '{ print ($2 == "" ? $1 : $1 "/" $2) }' | grep -x "$t" >/dev/null && ok=1 && break
        sleep 1
      done
      [ "$ok" = 1 ] || aihpc_die "slurmdbd does not know TRES '$t' (workstation.slurm.accounting.qos[].maxTresPerUser): only cpu, mem, node, billing, energy and the gres in AccountingStorageTRES are tracked"
    done

    # 1. QoS: add and modify.
    have="$(qos_now)"
    while IFS='|' read -r name prio tres jobs submit wall; do
      [ -n "$name" ] || continue
      cur="$(printf '%s\n' "$have" | awk -F'|' -v n="$name" '$1 == n')"
      if [ -z "$cur" ]; then run add qos "$name"; cur="$name|0||||"; fi
      IFS='|' read -r _ cur_prio cur_tres cur_jobs cur_submit cur_wall <<<"$cur"
      # TRES in any order (sacctmgr prints them in its own).
      [ "$cur_prio|$(sorted "$cur_tres")|$cur_jobs|$cur_submit|$cur_wall" = "$prio|$(sorted "$tres")|$jobs|$submit|$wall" ] && continue
      # A TRES limit is cleared key by key (gres/gpu=-1), then set.
      if [ -n "$cur_tres" ] && [ "$(sorted "$cur_tres")" != "$(sorted "$tres")" ]; then run modify qos where name="$name" set MaxTRESPerUser="$(printf '%s' "$cur_tres" | sed 's/=[^,]*/=-1/g')"; fi
      run modify qos where name="$name" set Priority="$prio" MaxJobsPerUser="${jobs:--1}" MaxSubmitJobsPerUser="${submit:--1}" MaxWall="${wall:--1}" ${tres:+MaxTRESPerUser="$tres"}
    done < <(desired qos)

    # 2. Accounts: add and modify (parents come first in STATE).
    assoc="$(assoc_now)"
    descr="$(sm -nP show account format=account,description)"
    while IFS='|' read -r name parent share text; do
      [ -n "$name" ] || continue
      cur="$(printf '%s\n' "$assoc" | awk -F'|' -v n="$name" '$1 == n && $2 == ""')"
      if [ -z "$cur" ]; then
        run add account "$name" cluster="$CLUSTER" parent="$parent" fairshare="$share" description="$text" organization=aihpc
        continue
      fi
      IFS='|' read -r _ _ cur_parent cur_share _ <<<"$cur"
      [ "$cur_parent" = "$parent" ] || run modify account where name="$name" cluster="$CLUSTER" set parent="$parent"
      [ "$cur_share" = "$share" ] || run modify account where name="$name" cluster="$CLUSTER" set fairshare="$share"
      # sacctmgr keeps descriptions in lower case.
      [ "$(printf '%s\n' "$descr" | awk -F'|' -v n="$name" '$1 == n { print $2 }')" = "$(printf '%s' "$text" | tr '[:upper:]' '[:lower:]')" ] || run modify account where name="$name" set description="$text"
    done < <(desired account)

    # 3. Users: one association each (user, account); a new account moves it.
    assoc="$(assoc_now)"
    wanted_users=" "
    while IFS='|' read -r name account share qos defqos; do
      [ -n "$name" ] || continue
      wanted_users="$wanted_users$name "
      cur="$(printf '%s\n' "$assoc" | awk -F'|' -v u="$name" -v a="$account" '$1 == a && $2 == u')"
      if [ -z "$cur" ]; then
        run add user "$name" account="$account" cluster="$CLUSTER" fairshare="$share" qos="$qos" defaultqos="$defqos"
        # Moved from another account: this one becomes the default before the old one goes.
        if printf '%s\n' "$assoc" | awk -F'|' -v u="$name" '$2 == u { f = 1 } END { exit !f }'; then
          run modify user where name="$name" set defaultaccount="$account"
        fi
      else
        IFS='|' read -r _ _ _ cur_share cur_qos cur_defqos <<<"$cur"
        if [ "$cur_share|$(sorted "$cur_qos")|$cur_defqos" != "$share|$qos|$defqos" ]; then
          run modify user where name="$name" account="$account" cluster="$CLUSTER" set fairshare="$share" qos="$qos" defaultqos="$defqos"
        fi
      fi
      # Associations of this user with other accounts go.
      for old in $(printf '%s\n' "$assoc" | awk -F'|' -v u="$name" -v a="$account" '$2 == u && $1 != a { print $1 }' | sort -u); do
        run delete user where name="$name" account="$old" cluster="$CLUSTER"
      done
    done < <(desired user)
    for u in $(printf '%s\n' "$assoc" | awk -F'|' '$2 != "" && $2 != "root" { print $2 }' | sort -u); do
      case "$wanted_users" in *" $u "*) ;; *) run delete user where name="$u" cluster="$CLUSTER" ;; esac
    done

    # 4. Accounts not in the config go, children before parents.
    wanted_accounts=" root $(desired account | cut -d'|' -f1 | tr '\n' ' ')"
    for _ in $(seq 1 16); do
      assoc="$(assoc_now)"
      gone=0
      for a in $(printf '%s\n' "$assoc" | awk -F'|' '$2 == "" { print $1 }' | sort -u); do
        case "$wanted_accounts" in *" $a "*) continue ;; esac
        # A leaf: no account (and no user) below it.
        printf '%s\n' "$assoc" | awk -F'|' -v a="$a" '$3 == a || ($1 == a && $2 != "") { f = 1 } END { exit !f }' && continue
        run delete account where name="$a" cluster="$CLUSTER"
        gone=1
      done
      [ "$gone" = 1 ] || break
    done

    # 5. QoS not in the config go (Slurm's normal stays).
    wanted_qos=" normal $(desired qos | cut -d'|' -f1 | tr '\n' ' ')"
    for q in $(qos_now | cut -d'|' -f1); do
      case "$wanted_qos" in *" $q "*) ;; *) run delete qos where name="$q" ;; esac
    done
    ;;
  delete) ;;
esac
aihpc_done
