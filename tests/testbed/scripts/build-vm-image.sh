#!/usr/bin/env bash
# Builds the Debian 12 disk image for VM test hosts once, into a cache outside
# the repo: a copy of the container rootfs (build-rootfs.sh) plus a kernel, an
# initramfs, systemd-networkd and a first-boot unit that applies the per-VM
# seed (vm.ts) and a boot loader. Output: disk.img (raw, one partition from
# 1 MiB, ext4; each VM boots a qcow2 overlay of it) and vmlinuz (for vm.ts's
# KVM probe only). The disk boots like a workstation's: the BIOS (qemu's
# SeaBIOS) runs GRUB from the MBR, GRUB loads /vmlinuz and /initrd.img from the
# root file system, the links Debian keeps on the newest kernel and its
# initramfs; so an initramfs rebuilt in the guest (the NVIDIA component's
# nouveau blacklist) is the one its next boot uses. Rebuilt only when the
# stamp (rootfs stamp + config revision) changes; built in a temp dir and
# renamed, so a crash leaves no half cache.
set -euo pipefail

# Bump when the image configuration below changes.
CONFIG_REV=3
# grub-pc-bin: GRUB's BIOS image and modules, without grub-pc's install-on-upgrade hooks.
PACKAGES=(linux-image-amd64 initramfs-tools grub-pc-bin)
SIZE=12G

ROOTFS="${AIHPC_TESTBED_CACHE:-/var/cache/aihpc-testbed/rootfs-bookworm}"
CACHE="${AIHPC_TESTBED_VM_CACHE:-/var/cache/aihpc-testbed/vm-bookworm}"
STAMP_NAME=".aihpc-testbed-stamp"

if [[ "$(id -u)" -ne 0 ]]; then
  echo "build-vm-image: must run as root" >&2
  exit 1
fi
[[ -f "$ROOTFS/$STAMP_NAME" ]] || {
  echo "build-vm-image: no rootfs at $ROOTFS (run build-rootfs.sh first)" >&2
  exit 1
}
STAMP="rootfs=($(cat "$ROOTFS/$STAMP_NAME")) packages=${PACKAGES[*]} size=$SIZE config=$CONFIG_REV"

mkdir -p "$(dirname "$CACHE")"
exec 9>"$CACHE.lock"
flock 9

remove_tree() {
  local dir="$1" m
  [[ -e "$dir" ]] || return 0
  while read -r m; do
    umount -l "$m" || true
  done < <(awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$dir"
}

for d in "$CACHE".tmp.* "$CACHE".old.*; do
  remove_tree "$d"
done

if [[ -f "$CACHE/stamp" && "$(cat "$CACHE/stamp")" == "$STAMP" ]]; then
  echo "build-vm-image: cache up to date at $CACHE"
  exit 0
fi

tmp="$CACHE.tmp.$$"
trap 'remove_tree "$tmp"' EXIT
mkdir -p "$tmp"
root="$tmp/root"
echo "build-vm-image: copying $ROOTFS"
cp -a "$ROOTFS" "$root"
rm -f "$root/$STAMP_NAME"

# The chroot reaches Debian directly (this machine's network and DNS), not
# through the testbed proxy the hosts use.
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
cp "$root/etc/resolv.conf" "$tmp/resolv.conf.image"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
apt_opts=(-o Acquire::http::Proxy=false -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
echo "build-vm-image: installing ${PACKAGES[*]}"
if ! in_root apt-get "${apt_opts[@]}" update -qq >"$tmp/apt.log" 2>&1 ||
  ! in_root apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${PACKAGES[@]}" >>"$tmp/apt.log" 2>&1; then
  tail -n 40 "$tmp/apt.log" >&2
  exit 1
fi
in_root apt-get clean
cp "$tmp/resolv.conf.image" "$root/etc/resolv.conf"
umount "$root/dev/pts" "$root/dev" "$root/sys" "$root/proc"
rm -rf "$root"/var/lib/apt/lists/*_Packages "$root"/var/lib/apt/lists/*_Translation-*

cp -L "$root/vmlinuz" "$tmp/vmlinuz"

# Initramfs rebuilds in the guest (the NVIDIA component's nouveau step, the
# driver's firmware) with Debian's MODULES=most take many minutes of emulated
# CPU (every storage driver, nouveau and its firmware): the guest builds one
# with the modules of its own (virtio) hardware. The image's first initramfs
# above was built with Debian's default.
printf '# Testbed VM image: only the modules this VM needs (fast rebuilds under emulation)\nMODULES=dep\n' >"$root/etc/initramfs-tools/conf.d/testbed.conf"

# Root on the disk's first partition; the network and identity come from the seed.
printf 'LABEL=aihpc-root / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
ln -sf /lib/systemd/system/systemd-networkd.service "$root/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"
mkdir -p "$root/etc/systemd/system/sockets.target.wants"
ln -sf /lib/systemd/system/systemd-networkd.socket "$root/etc/systemd/system/sockets.target.wants/systemd-networkd.socket"
# One static address, set from the seed; waiting for "online" would only slow boots.
ln -sf /dev/null "$root/etc/systemd/system/systemd-networkd-wait-online.service"
# Seconds of emulated boot each, for nothing here: ifupdown (networkd owns the
# network) and the ext4 metadata check reaper (no LVM).
ln -sf /dev/null "$root/etc/systemd/system/networking.service"
ln -sf /dev/null "$root/etc/systemd/system/e2scrub_reap.service"

# The seed: a tar archive written raw to a second virtio disk (/dev/vdb) by
# vm.ts (hostname, SSH host keys, root's authorized_keys, network, /etc/hosts).
# Applied once, on the first boot, before sshd and networkd start.
cat >"$root/usr/local/sbin/testbed-seed" <<'SH'
#!/bin/sh
# Testbed only: per-VM identity from the seed disk, on the first boot.
set -eu
tar -xf /dev/vdb -C / --no-overwrite-dir
touch /var/lib/testbed-seed.done
# Units from the seed (testbed-fakegpu) start on later boots by themselves.
if [ -e /etc/systemd/system/testbed-fakegpu.service ]; then
  systemctl daemon-reload
  systemctl start --no-block testbed-fakegpu.service
fi
SH
chmod 0755 "$root/usr/local/sbin/testbed-seed"
cat >"$root/etc/systemd/system/testbed-seed.service" <<'UNIT'
[Unit]
Description=Testbed only: per-VM identity from the seed disk
DefaultDependencies=no
After=local-fs.target
Before=sysinit.target ssh.service systemd-networkd.service systemd-hostnamed.service
ConditionPathExists=!/var/lib/testbed-seed.done

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/testbed-seed
# The hostname is read by systemd before this runs: set it now.
ExecStart=/bin/sh -c 'hostname "$(cat /etc/hostname)"'

[Install]
WantedBy=sysinit.target
UNIT
mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
ln -sf /etc/systemd/system/testbed-seed.service "$root/etc/systemd/system/sysinit.target.wants/testbed-seed.service"

# GRUB: a fixed menu (no update-grub: /vmlinuz and /initrd.img always name the
# newest kernel and its initramfs), on the serial console, no wait. Its core
# image (with the modules to read ext4 on an MBR partition) goes into the gap
# before the partition and boot.img into the MBR: what grub-install does on a
# BIOS disk, done on the image file (no loop device, no device probing).
mkdir -p "$root/boot/grub"
cat >"$root/boot/grub/grub.cfg" <<'CFG'
# Testbed VM image (build-vm-image.sh): boot the newest kernel and its initramfs.
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
menuentry "Debian 12 (aihpc testbed)" {
  linux /vmlinuz root=LABEL=aihpc-root rw console=ttyS0
  initrd /initrd.img
}
CFG
grub="$root/usr/lib/grub/i386-pc"
in_root grub-mkimage -O i386-pc -o /tmp/core.img -p '(hd0,msdos1)/boot/grub' \
  biosdisk part_msdos ext2 normal configfile linux serial terminal echo test
mv "$root/tmp/core.img" "$tmp/core.img"

echo "build-vm-image: making the $SIZE disk image (MBR, ext4 partition from 1 MiB, GRUB)"
truncate -s "$SIZE" "$tmp/disk.img"
echo 'start=2048, type=83, bootable' | sfdisk -q "$tmp/disk.img"
# The file system in the partition: sectors 2048 to the end.
part_kib=$(($(stat -c %s "$tmp/disk.img") / 1024 - 1024))
mkfs.ext4 -q -F -L aihpc-root -E offset=1048576 -d "$root" "$tmp/disk.img" "${part_kib}k"
(($(stat -c %s "$tmp/core.img") <= 1047552)) || {
  echo "build-vm-image: GRUB's core image does not fit before the partition" >&2
  exit 1
}
dd if="$grub/boot.img" of="$tmp/disk.img" bs=440 count=1 conv=notrunc status=none
dd if="$tmp/core.img" of="$tmp/disk.img" bs=512 seek=1 conv=notrunc status=none
rm -f "$tmp/core.img"
remove_tree "$root"
rm -f "$tmp/apt.log" "$tmp/resolv.conf.image"
echo "$STAMP" >"$tmp/stamp"

if [[ -e "$CACHE" ]]; then
  mv "$CACHE" "$CACHE.old.$$"
fi
mv "$tmp" "$CACHE"
trap - EXIT
remove_tree "$CACHE.old.$$"
echo "build-vm-image: built $CACHE"
