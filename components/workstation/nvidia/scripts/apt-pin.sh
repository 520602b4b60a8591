#!/usr/bin/env bash
# Pin the NVIDIA driver family to the configured version (source `debian`) or
# branch (source `cuda-repo`) with an apt preference (priority 1001), so that
# no other source (NVIDIA's CUDA repository carries newer drivers under the
# same package names) and no `apt upgrade` moves it. A version change rewrites
# the pin; the driver step then moves the packages in place.
pin=/etc/apt/preferences.d/aihpc-nvidia-pin
case "$AIHPC_ACTION" in
  apply)
    : "${DRIVER_SOURCE:?}" "${DRIVER_PIN:?}"
    aihpc_put "$pin" 0644 root:root "# Managed by aihpc (workstation.nvidia.driver): source $DRIVER_SOURCE
Explanation: the NVIDIA driver stays at $DRIVER_PIN whatever else apt sees
Package: nvidia-* libnvidia-* libcuda1 libcudadebugger1 libnvcuvid1 libnvoptix1 libgles-nvidia* libegl-nvidia* libglx-nvidia* libgl1-nvidia* firmware-nvidia-* xserver-xorg-video-nvidia* cuda-drivers-*
Pin: version $DRIVER_PIN
Pin-Priority: 1001"
    ;;
  delete) aihpc_rm "$pin" ;;
esac
aihpc_done
