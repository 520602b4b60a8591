#!/usr/bin/env bash
# Debian 12's Slurm 22.05 and munge: slurmctld on the controller, slurmd on
# compute hosts, the client tools everywhere, the NVML GRES plugin on GPU
# hosts when it can be installed. Teardown stops the daemons and
# purges only what this step installed (unless slurm.retain).
case "$AIHPC_ACTION" in
  apply)
    : "${PACKAGES:?}"
    aihpc_require_systemd
    read -r -a pkgs <<<"$PACKAGES"
    aihpc_apt_install slurm "${pkgs[@]}"
    # OPTIONAL_PACKAGES: installed when apt can install them beside the rest.
    # Debian's slurm-wlm-nvml-plugin (source slurm-wlm-contrib) depends on
    # slurm-wlm-basic-plugins at its exact version and is rebuilt after Slurm's
    # security updates, not with them (bookworm: plugin 22.05.8-4+deb12u2,
    # Slurm 22.05.8-4+deb12u3 from bookworm-security, 2026-12-02); holding
    # Slurm back for it would keep a security fix out.
    read -r -a opt <<<"${OPTIONAL_PACKAGES:-}"
    for p in "${opt[@]}"; do
      aihpc_installed "$p" && continue
      if why="$(apt-get install --simulate --no-install-recommends "$p" 2>&1)"; then
        aihpc_apt_install slurm "$p"
      else
        aihpc_warn "$p cannot be installed beside this Slurm now ($(printf '%s\n' "$why" | grep -m1 -o "$p : Depends: .*" || echo "apt-get install --simulate $p fails")): skipped, gres.conf lists the GPUs without AutoDetect=nvml; a later run installs it once Debian has rebuilt it"
      fi
    done
    ;;
  delete)
    for u in slurmctld.service slurmd.service munge.service; do aihpc_service_off "$u"; done
    if aihpc_retain slurm; then
      aihpc_log "retain: keeping the Slurm and munge packages and their state"
    else
      aihpc_apt_remove slurm
    fi
    ;;
esac
aihpc_done
