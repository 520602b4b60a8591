#!/usr/bin/env bash
# The GPU metrics exporter fit for the card (MODE):
#   nvidia-smi: the aihpc-gpu-metrics collector (COLLECTOR) on a timer, writing
#     to the node exporter's textfile directory (RTX and other cards);
#   dcgm: NVIDIA's dcgm-exporter container (IMAGE, pinned by digest) under systemd
#     (DCGM_UNIT, rendered by Pulumi: published on the host's cluster address),
#     through Docker's nvidia runtime (data-centre GPUs).
# Switching mode removes the other one.
dcgm=/etc/systemd/system/aihpc-dcgm-exporter.service
prom=/var/lib/prometheus/node-exporter/aihpc_gpu.prom
remove_smi() { aihpc_timer_collector_remove aihpc-gpu-metrics "$prom"; }
remove_dcgm() {
  aihpc_service_off aihpc-dcgm-exporter.service
  aihpc_rm "$dcgm"
}
case "$AIHPC_ACTION" in
  apply)
    : "${MODE:?}" "${INTERVAL:?}"
    aihpc_require_systemd
    case "$MODE" in
      nvidia-smi)
        : "${COLLECTOR:?}"
        remove_dcgm
        aihpc_timer_collector aihpc-gpu-metrics "GPU metrics from nvidia-smi for the node exporter textfile collector" "$INTERVAL" 20s "$COLLECTOR"
        grep -q '^aihpc_gpu_smi_success 1' "$prom" 2>/dev/null || aihpc_warn "nvidia-smi did not answer: $prom reports aihpc_gpu_smi_success 0"
        ;;
      dcgm)
        : "${IMAGE:?}"
        # By digest only (Docker checks the pulled content against it); a tag can be moved.
        [[ "$IMAGE" =~ @sha256:[0-9a-f]{64}$ ]] || aihpc_die "dcgm-exporter image '$IMAGE' is not pinned by digest: set workstation.monitoring.dcgmExporter.image to NAME:TAG@sha256:DIGEST"
        : "${DCGM_UNIT:?}"
        remove_smi
        command -v docker >/dev/null || aihpc_die "dcgm-exporter runs as a container: workstation.containers must be on"
        aihpc_put "$dcgm" 0644 root:root "$DCGM_UNIT"
        restart="$AIHPC_WROTE"
        [ "$restart" = 1 ] && systemctl daemon-reload
        docker image inspect "$IMAGE" >/dev/null 2>&1 || docker pull "$IMAGE" >&2 ||
          aihpc_die "could not pull $IMAGE: the host needs access to nvcr.io (or a mirror in workstation.monitoring.dcgmExporter.image)"
        aihpc_service aihpc-dcgm-exporter.service "$restart"
        ;;
      *) aihpc_die "unknown MODE '$MODE'" ;;
    esac
    ;;
  delete)
    remove_smi
    remove_dcgm
    if aihpc_have_systemd; then systemctl daemon-reload; fi
    ;;
esac
aihpc_done
