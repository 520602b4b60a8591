#!/usr/bin/env bash
# aihpc GPU metrics from nvidia-smi for the node exporter's textfile collector
# (RTX and other cards where NVIDIA's dcgm-exporter is not used). Metric names
# and the labels gpu/UUID/modelName/Hostname follow dcgm-exporter's, so alert
# rules and the Grafana dashboard work with either. Writes atomically.
set -uo pipefail
dir="${TEXTFILE_DIR:-/var/lib/prometheus/node-exporter}"
out="$dir/aihpc_gpu.prom"
tmp="$(mktemp "$dir/.aihpc_gpu.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
host="$(hostname -s)"
fields=index,uuid,name,temperature.gpu,temperature.memory,utilization.gpu,utilization.memory,memory.used,memory.free,memory.total,power.draw,clocks.sm,clocks.mem,ecc.errors.corrected.volatile.total,ecc.errors.uncorrected.volatile.total,pcie.link.gen.current,pcie.link.width.current,clocks_event_reasons.active
metric() { printf '# HELP %s %s\n# TYPE %s gauge\n' "$1" "$2" "$1" >>"$tmp"; }
if rows="$(nvidia-smi --query-gpu="$fields" --format=csv,noheader,nounits 2>/dev/null)" && [ -n "$rows" ]; then
  ok=1
else
  ok=0
  rows=""
fi
# name|help|column (1-based in the query above)
defs="DCGM_FI_DEV_GPU_TEMP|GPU temperature (C)|4
DCGM_FI_DEV_MEMORY_TEMP|Memory temperature (C)|5
DCGM_FI_DEV_GPU_UTIL|GPU utilization (%)|6
DCGM_FI_DEV_MEM_COPY_UTIL|Memory utilization (%)|7
DCGM_FI_DEV_FB_USED|Framebuffer memory used (MiB)|8
DCGM_FI_DEV_FB_FREE|Framebuffer memory free (MiB)|9
aihpc_gpu_memory_total_mib|Framebuffer memory total (MiB)|10
DCGM_FI_DEV_POWER_USAGE|Power draw (W)|11
DCGM_FI_DEV_SM_CLOCK|SM clock (MHz)|12
DCGM_FI_DEV_MEM_CLOCK|Memory clock (MHz)|13
DCGM_FI_DEV_ECC_SBE_VOL_TOTAL|Single-bit (corrected) volatile ECC errors|14
DCGM_FI_DEV_ECC_DBE_VOL_TOTAL|Double-bit (uncorrected) volatile ECC errors|15
DCGM_FI_DEV_PCIE_LINK_GEN|PCIe link generation|16
DCGM_FI_DEV_PCIE_LINK_WIDTH|PCIe link width|17
DCGM_FI_DEV_CLOCK_THROTTLE_REASONS|Clock event reasons bitmask|18"
if [ "$ok" = 1 ]; then
  while IFS='|' read -r name help col; do
    metric "$name" "$help"
    printf '%s\n' "$rows" | awk -F', ' -v m="$name" -v c="$col" -v h="$host" '{
      v = $c
      if (v ~ /^0x[0-9a-fA-F]+$/) { n = 0; for (i = 3; i <= length(v); i++) n = n * 16 + index("0123456789abcdef", tolower(substr(v, i, 1))) - 1; v = n }
      if (v ~ /N\/A|Not Supported|^$/ && v !~ /^[0-9.]+$/) next
      printf "%s{gpu=\"%s\",UUID=\"%s\",modelName=\"%s\",Hostname=\"%s\"} %s\n", m, $1, $2, $3, h, v
    }' >>"$tmp"
  done <<<"$defs"
  # XID events since boot, per GPU bus id and XID (the kernel log names the bus).
  metric DCGM_FI_DEV_XID_ERRORS "Last XID seen on the GPU since boot (0: none)"
  xids="$( { journalctl -k -b -q --no-pager 2>/dev/null || dmesg 2>/dev/null; } | sed -n 's/.*NVRM: Xid (PCI:\([^)]*\)): \([0-9]*\).*/\1 \2/p' | tail -n 200)"
  busmap="$(nvidia-smi --query-gpu=index,pci.bus_id,uuid,name --format=csv,noheader 2>/dev/null)"
  printf '%s\n' "$busmap" | while IFS=', ' read -r idx bus uuid name; do
    [ -n "$idx" ] || continue
    short="$(printf '%s' "$bus" | sed 's/^0000//; s/^\(....\):/\1:/' | tr 'A-F' 'a-f')"
    last="$(printf '%s\n' "$xids" | awk -v b="$short" 'tolower($1) ~ b || index(b, tolower($1)) { x = $2 } END { print x + 0 }')"
    printf 'DCGM_FI_DEV_XID_ERRORS{gpu="%s",UUID="%s",modelName="%s",Hostname="%s"} %s\n' "$idx" "$uuid" "$name" "$host" "$last" >>"$tmp"
  done
fi
metric aihpc_gpu_smi_success "1 when nvidia-smi answered"
echo "aihpc_gpu_smi_success $ok" >>"$tmp"
metric aihpc_gpu_devices "GPUs nvidia-smi lists"
echo "aihpc_gpu_devices $(printf '%s' "$rows" | grep -c . || true)" >>"$tmp"
metric aihpc_gpu_metrics_last_run_timestamp_seconds "When this collector last ran"
echo "aihpc_gpu_metrics_last_run_timestamp_seconds $(date +%s)" >>"$tmp"
chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
