#!/bin/sh
# mkrootfs-busybox.sh DEST - build a minimal busybox root file system in DEST
# from Debian's busybox-static (installed if missing).  No network access is
# needed beyond the Debian package.  DEST must not exist or be empty.
set -eu
dest=${1:?usage: mkrootfs-busybox.sh DEST}
# The dynamic "busybox" package also installs /bin/busybox: insist on the static one.
if ! dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi
mkdir -p "$dest"
cd "$dest"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev tmp root var/tmp home
chmod 1777 tmp var/tmp
cp /bin/busybox bin/busybox
# One relative symlink per applet, made by one process (perl-base is
# essential on Debian): 400 runs of ln cost seconds on a slow machine.
bin/busybox --list | perl -ne 'chomp; next if $_ eq "busybox" || -e "bin/$_";
  symlink("busybox", "bin/$_") or die "symlink bin/$_: $!\n"'

cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat > etc/group <<'G'
root:x:0:
nogroup:x:65534:
G
printf 'hosts: files dns\n' > etc/nsswitch.conf
: > etc/hosts
: > etc/resolv.conf
