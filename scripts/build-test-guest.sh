#!/usr/bin/env bash
# Builds the small guest the QEMU driver's integration tests boot under TCG: Debian's stock kernel
# (the package linux-image-amd64 points at, fetched with `apt-get download`, nothing installed) and a
# busybox-static initramfs with the virtio, SCSI, SATA/IDE, USB and ACPI-button modules.
#
# The guest's init talks over the serial console:
#   VIRTKIT_GUEST_START <uptime>              init started
#   VIRTKIT_GUEST + net <ifname> <mac> <link> a NIC appeared (also printed for the NICs present at boot);
#                                             link is up/down (carrier); a link change prints - then +
#   VIRTKIT_GUEST - net <ifname> <mac> <link> a NIC disappeared
#   VIRTKIT_GUEST + blk <name> <sectors>      a block device appeared (or changed size, e.g. CD-ROM media)
#   VIRTKIT_GUEST - blk <name> <sectors>      a block device disappeared
#   VIRTKIT_GUEST_READY <uptime>              modules loaded, devices present at boot listed above
#   VIRTKIT_GUEST_POWEROFF                    the ACPI power button was pressed; the guest powers off
#
# Output (idempotent; rebuilt only when the kernel package or this script changes):
#   ${VIRTKIT_GUEST_DIR:-${XDG_CACHE_HOME:-~/.cache}/virtkit-guest}/{vmlinuz,initrd.gz,guest.env}
# The last line printed is the folder. Needs: apt-get (with package lists), dpkg-deb, tar, cpio, gzip,
# busybox-static (for /bin/busybox); `scripts/test.sh` installs them.
set -euo pipefail

out=${VIRTKIT_GUEST_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/virtkit-guest}
mkdir -p "$out"
exec 9>"$out/.lock"
flock 9

busybox_bin=/bin/busybox
[ -x "$busybox_bin" ] || { echo "error: $busybox_bin missing (apt-get install busybox-static)" >&2; exit 1; }
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || {
  echo "error: the initramfs needs a static busybox (apt-get install busybox-static)" >&2
  exit 1
}

# The versioned kernel package linux-image-amd64 depends on (e.g. linux-image-6.1.0-57-amd64).
kernel_pkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
pkg=$(kernel_pkg)
if [ -z "$pkg" ]; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq >/dev/null; pkg=$(kernel_pkg); fi
  [ -n "$pkg" ] || { echo "error: cannot resolve linux-image-amd64 (no apt package lists; run apt-get update)" >&2; exit 1; }
fi
version=$(apt-cache policy "$pkg" | awk '/Candidate:/ { print $2; exit }')
script_sum=$(sha256sum "$0" | cut -c1-16)
stamp="$pkg $version $script_sum"

if [ -f "$out/guest.env" ] && [ -f "$out/vmlinuz" ] && [ -f "$out/initrd.gz" ] \
  && grep -qxF "VIRTKIT_GUEST_STAMP='$stamp'" "$out/guest.env"; then
  echo "$out"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "building the test guest from $pkg $version" >&2
(cd "$work" && apt-get download -o APT::Sandbox::User=root -qq "$pkg" >/dev/null)
deb=$(ls "$work"/*.deb)
mkdir "$work/k"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/k" --wildcards './boot/vmlinuz-*' './lib/modules/*'
rm -f "$deb"
kver=$(ls "$work/k/lib/modules")
# The package has no modules.dep (its postinst makes it); busybox computes it for the whole tree.
"$busybox_bin" depmod -b "$work/k" "$kver"

# Drivers the tests' devices need; their dependencies come from modules.dep.
# crc64_rocksoft_generic and crct10dif_generic are soft dependencies (crypto back ends of sd_mod's CRCs).
wanted="virtio_pci virtio_net virtio_blk virtio_scsi sd_mod sr_mod crc64_rocksoft_generic crct10dif_generic
  xhci_pci usb_storage ata_piix ahci button evdev"
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc} "$root/lib/modules/$kver"
dep="$work/k/lib/modules/$kver/modules.dep"
for m in $wanted; do
  # modules.dep names files with either '-' or '_'; the module name uses '_'.
  line=$(awk -v m="$m" -F: '{ n = $1; sub(/.*\//, "", n); sub(/\.ko$/, "", n); gsub(/-/, "_", n); if (n == m) { print; exit } }' "$dep")
  [ -n "$line" ] || { echo "error: module $m not in $pkg" >&2; exit 1; }
  for f in ${line%%:*} ${line#*:}; do
    mkdir -p "$root/lib/modules/$kver/$(dirname "$f")"
    cp "$work/k/lib/modules/$kver/$f" "$root/lib/modules/$kver/$f"
  done
done
"$busybox_bin" depmod -b "$root" "$kver"
echo $wanted > "$root/etc/virtkit-modules"
cp "$busybox_bin" "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

cat > "$root/init" <<'INIT'
#!/bin/sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "VIRTKIT_GUEST_START $(cut -d' ' -f1 /proc/uptime)"
modprobe -a $(cat /etc/virtkit-modules) 2>/dev/null
# Media changes in a CD-ROM drive are noticed without anyone opening it.
echo 500 > /sys/module/block/parameters/events_dfl_poll_msecs 2>/dev/null

# ACPI power button (virsh shutdown): any event on its input device powers the guest off.
for d in /sys/class/input/input*; do
  [ "$(cat "$d/name" 2>/dev/null)" = "Power Button" ] || continue
  for e in "$d"/event*; do
    [ -e "$e" ] || continue
    n=${e##*/}
    (i=0; while [ ! -e "/dev/input/$n" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done
     head -c 1 "/dev/input/$n" >/dev/null && echo "VIRTKIT_GUEST_POWEROFF" && sync && poweroff -f) &
  done
done

snapshot() {
  # A first line in every snapshot: busybox's grep -f with an empty pattern file would hide every line.
  echo "snapshot"
  for n in /sys/class/net/*; do
    [ -e "$n" ] || continue
    b=${n##*/}
    [ "$b" = lo ] && continue
    # Brought up so its carrier (the host's link state) can be read.
    f=$(cat "$n/flags" 2>/dev/null) || continue
    [ $((f & 1)) = 0 ] && ip link set "$b" up 2>/dev/null
    a=$(cat "$n/address" 2>/dev/null) || continue
    c=$(cat "$n/carrier" 2>/dev/null)
    [ -n "$a" ] && echo "net $b $a $([ "$c" = 1 ] && echo up || echo down)"
  done
  for b in /sys/block/*; do
    [ -e "$b" ] || continue
    n=${b##*/}
    case $n in loop*|ram*) ;; *) echo "blk $n $(cat "$b/size")" ;; esac
  done
}
report() {
  grep -vxF -f /tmp/cur /tmp/prev | sed 's/^/VIRTKIT_GUEST - /'
  grep -vxF -f /tmp/prev /tmp/cur | sed 's/^/VIRTKIT_GUEST + /'
  mv /tmp/cur /tmp/prev
}
sleep 0.3
snapshot > /tmp/prev
grep -vxF snapshot /tmp/prev | sed 's/^/VIRTKIT_GUEST + /'
echo "VIRTKIT_GUEST_READY $(cut -d' ' -f1 /proc/uptime)"
while true; do
  sleep 0.2
  snapshot > /tmp/cur
  report
done
INIT
chmod 755 "$root/init"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6) > "$work/initrd.gz"
cp "$work/k/boot/vmlinuz-$kver" "$work/vmlinuz"
# Replace the outputs atomically, the stamp last: an interrupted build is simply redone.
rm -f "$out/guest.env"
mv "$work/vmlinuz" "$out/vmlinuz"
mv "$work/initrd.gz" "$out/initrd.gz"
printf "VIRTKIT_GUEST_KERNEL_VERSION='%s'\nVIRTKIT_GUEST_STAMP='%s'\n" "$kver" "$stamp" > "$out/guest.env.tmp"
mv "$out/guest.env.tmp" "$out/guest.env"
ls -l "$out/vmlinuz" "$out/initrd.gz" >&2
echo "$out"
