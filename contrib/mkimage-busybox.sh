#!/bin/sh
# mkimage-busybox.sh [ROOT] - build podvisor's default image, busybox:latest,
# from Debian's busybox-static and import it into the image store under ROOT
# (default /var/lib/podvisor): ROOT/images/busybox/latest/{rootfs,config.json}.
# The image's default command is ["sh"].  No network access is needed beyond
# the Debian package (installed by mkrootfs-busybox.sh when missing).
#
# The import goes through `podvisor image import` when a binary is found
# ($PODVISOR, else build/podvisor in this source tree, else podvisor on PATH);
# without one (or with PODVISOR=none) the same layout is written directly.
#
# Idempotent: when the stored image already holds the installed busybox
# binary it is left alone; FORCE=1 rebuilds it anyway.
set -eu
root=${1:-/var/lib/podvisor}
here=$(cd "$(dirname "$0")" && pwd)
final="$root/images/busybox/latest"

if [ "${FORCE:-0}" != 1 ] && [ -f "$final/config.json" ] && [ -x /bin/busybox ] &&
   cmp -s /bin/busybox "$final/rootfs/bin/busybox"; then
  echo "busybox:latest is up to date in $root"
  exit 0
fi

pv=${PODVISOR:-}
if [ -z "$pv" ]; then
  if [ -x "$here/../build/podvisor" ]; then
    pv="$here/../build/podvisor"
  else
    pv=$(command -v podvisor 2>/dev/null || true)
  fi
fi
[ "$pv" != none ] || pv=""

# The store is private to root, as `podvisor image import` makes it: images
# keep set-user-ID programs that host users must not reach through it.
mkdir -p "$root/images/busybox"
chmod 700 "$root/images"
# Build inside the store's name directory: the direct path below renames the
# result into place, which needs the same file system.  Names starting with
# '.' are ignored by `podvisor images`.
tmp=$(mktemp -d "$root/images/busybox/.mkimage-XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
sh "$here/mkrootfs-busybox.sh" "$tmp/rootfs" >/dev/null

if [ -n "$pv" ]; then
  "$pv" --root "$root" image import --cmd sh busybox:latest "$tmp/rootfs" >/dev/null
else
  # The store's layout, written by hand: rootfs + config.json, then a rename.
  chmod 755 "$tmp"
  size=$(du -s --apparent-size -B1 "$tmp/rootfs" | cut -f1)
  cat > "$tmp/config.json" <<EOF
{
  "cmd": ["sh"],
  "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  "workingDir": "/",
  "created": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "size": $size
}
EOF
  old=""
  if [ -e "$final" ]; then
    old="$root/images/busybox/.old-latest-$$"
    mv "$final" "$old"
  fi
  mv "$tmp" "$final"
  [ -z "$old" ] || rm -rf "$old"
fi
echo "imported busybox:latest into $root"
