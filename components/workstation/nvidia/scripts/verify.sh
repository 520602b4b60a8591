#!/usr/bin/env bash
# Read-only: nvidia-smi must see the GPUs the config expects (EXPECTED_GPUS,
# and EXPECTED_MODEL when set), the loaded kernel module must match the driver
# libraries, and persistence mode must be as configured. Prints what it found,
# and the installed driver packages' exact versions (installed_package= lines).
case "$AIHPC_ACTION" in
  apply)
    : "${EXPECTED_GPUS:?}" "${PERSISTENCE:?}"
    command -v nvidia-smi >/dev/null || aihpc_die "nvidia-smi is not installed on $(hostname): the driver step must run first"
    out="$(nvidia-smi --query-gpu=index,name,uuid,driver_version,persistence_mode,pci.bus_id --format=csv,noheader 2>&1)" ||
      aihpc_die "nvidia-smi fails on $(hostname): $out (no NVIDIA device in \`lspci -d 10de:\`? else \`dmesg | grep -i nvrm\`: Secure Boot, a DKMS build failure in /var/lib/dkms)"
    printf '%s\n' "$out" | sed 's/^/aihpc: gpu /'
    # The same lines as the facts probe's: Slurm's GRES come from these, after the driver.
    nvidia-smi --query-gpu=index,name,uuid,memory.total,driver_version,pci.bus_id --format=csv,noheader,nounits | sed 's/^/nvidia_gpu=/'
    seen="$(printf '%s\n' "$out" | grep -c . || true)"
    [ "$seen" -ge "$EXPECTED_GPUS" ] || aihpc_die "nvidia-smi sees $seen GPU(s) on $(hostname), the config expects $EXPECTED_GPUS (workstation.hosts[].gpus.count): check seating/power (lspci -d 10de:) and \`dmesg | grep -i nvrm\`"
    [ "$seen" -eq "$EXPECTED_GPUS" ] || aihpc_warn "nvidia-smi sees $seen GPUs, more than the $EXPECTED_GPUS expected"
    if [ -n "${EXPECTED_MODEL:-}" ]; then
      wrong="$(printf '%s\n' "$out" | awk -F', ' -v m="$EXPECTED_MODEL" '$2 != m { print $2 }' | sort -u | tr '\n' ' ')"
      [ -z "$wrong" ] || aihpc_die "GPU model(s) ${wrong% } on $(hostname), the config expects '$EXPECTED_MODEL' (workstation.hosts[].gpus.model)"
    fi
    lib="$(printf '%s\n' "$out" | awk -F', ' 'NR == 1 { print $4 }')"
    kmod="$(cat /sys/module/nvidia/version 2>/dev/null || true)"
    if [ -n "$kmod" ]; then
      [ "$kmod" = "$lib" ] || aihpc_die "kernel module $kmod but driver libraries $lib on $(hostname): reboot it and re-run"
      aihpc_log "driver $lib, kernel module $kmod"
    else
      aihpc_log "driver $lib (no /sys/module/nvidia: a VM or container that passes the GPU through)"
    fi
    # What the host runs, by exact version (the component's `installed` output).
    dpkg-query -W -f='${db:Status-Abbrev} ${Package}=${Version}\n' nvidia-driver nvidia-kernel-dkms nvidia-smi 'cuda-drivers-*' 'nvidia-open-*' 2>/dev/null |
      awk '$1 == "ii" { print "installed_package=" $2 }' || true
    if [ "$PERSISTENCE" = true ]; then
      off="$(printf '%s\n' "$out" | awk -F', ' '$5 != "Enabled" { print $1 }' | tr '\n' ' ')"
      [ -z "$off" ] || aihpc_warn "persistence mode is off on GPU(s) ${off% } (nvidia-persistenced not running?)"
    fi
    ;;
  delete) ;;
esac
aihpc_done
