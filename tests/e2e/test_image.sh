#!/bin/bash
# End-to-end test of the image store through the real binary: import a
# directory and tarballs, list, inspect, replace, remove, refuse bad
# references and hostile tarballs; as root, also build the default image with
# contrib/mkimage-busybox.sh (twice: it is idempotent).
set -u
PV=${PODVISOR_BINARY:?PODVISOR_BINARY is not set}
SRC=${PODVISOR_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-image-e2e.$$.XXXXXX")
trap 'rm -rf "$T"' EXIT
ROOT="$T/store"
pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
ko() { fail=$((fail + 1)); echo "FAIL - $1"; }
skip() { skipped=$((skipped + 1)); echo "skipped: $1 ($2)"; }
check() { local what=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$what"; else ko "$what"; sed 's/^/     /' "$T/out"; fi; }
refuse() { local what=$1; shift; if "$@" >"$T/out" 2>&1; then ko "$what (accepted)"; else ok "$what"; fi; }
pv() { "$PV" --root "$ROOT" "$@"; }

# A small root file system: a file, a directory, a symlink out of the tree.
mkdir -p "$T/src/bin" "$T/src/etc" "$T/canary"
echo original > "$T/canary/secret"
printf 'v1\n' > "$T/src/etc/version"
printf '#!/bin/sh\n' > "$T/src/bin/tool"; chmod 755 "$T/src/bin/tool"
ln -s /etc "$T/src/hostetc"

check "import a directory" pv image import mini "$T/src"
check "the rootfs holds the files" test "$(cat "$ROOT/images/mini/latest/rootfs/etc/version")" = v1
check "symlinks stay symlinks" test "$(readlink "$ROOT/images/mini/latest/rootfs/hostetc")" = /etc
check "modes are kept" test "$(stat -c %a "$ROOT/images/mini/latest/rootfs/bin/tool")" = 755
check "default config" sh -c "'$PV' --root '$ROOT' image inspect mini | grep -q '\"/bin/sh\"'"

tar -C "$T/src" -czf "$T/mini.tar.gz" .
tar -C "$T/src" -cJf "$T/mini.tar.xz" .
check "import a tar.gz with --cmd and --env" \
  pv image import --cmd 'sh -c true' --env FOO=bar docker.io/library/zipped:v1 "$T/mini.tar.gz"
check "import a tar.xz" pv image import localhost/team/app:2.0 "$T/mini.tar.xz"
check "config carries --cmd and --env" sh -c "'$PV' --root '$ROOT' image inspect zipped:v1 | tr -d ' \n' | grep -q '\"cmd\":\\[\"sh\",\"-c\",\"true\"\\].*FOO=bar'"

pv images > "$T/list"
check "images has a header" grep -qE '^REPOSITORY +TAG +SIZE +CREATED' "$T/list"
check "images lists all three" test "$(grep -cE '^(mini +latest|zipped +v1|team/app +2\.0) ' "$T/list")" = 3
check "images -q" test "$(pv images -q | tr '\n' ' ')" = "mini:latest team/app:2.0 zipped:v1 "

printf 'v2\n' > "$T/src/etc/version"
check "re-import replaces the tag" pv image import mini:latest "$T/src"
check "the new content is in place" test "$(cat "$ROOT/images/mini/latest/rootfs/etc/version")" = v2
check "no temporary leftovers" test "$(ls -A "$ROOT/images/mini")" = latest

refuse "a reference with .. is refused" pv image import '../../escape' "$T/src"
refuse "an uppercase name is refused" pv image import 'Mini' "$T/src"
refuse "a digest is refused" pv image import 'mini@sha256:00' "$T/src"
refuse "a missing source fails" pv image import gone "$T/nothing"
check "nothing escaped the store" test ! -e "$T/escape" -a ! -e "$ROOT/escape"

# Hostile tarballs, written with python's tarfile (tar(1) refuses to build
# some); python3 comes with contrib/deps.sh.
if ! command -v python3 >/dev/null; then
  ko "python3 is missing (contrib/deps.sh installs it): the hostile tarballs are not tried"
else
  python3 - "$T" <<'PY'
import io, sys, tarfile
t = sys.argv[1]
def mk(name, members):
    with tarfile.open(f"{t}/{name}", "w") as tf:
        for m, data in members:
            tf.addfile(m, io.BytesIO(data) if data is not None else None)
def f(name, data=b"pwned"):
    i = tarfile.TarInfo(name); i.size = len(data); return (i, data)
def l(name, target, kind=tarfile.SYMTYPE):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; return (i, None)
mk("abs.tar", [f(f"{t}/canary/pwned")])
mk("dotdot.tar", [f(f"../../../../../../../../..{t}/canary/pwned")])
mk("symlink.tar", [l("a", f"{t}/canary"), f("a/pwned")])
mk("hardlink.tar", [l("passwd", "/etc/passwd", tarfile.LNKTYPE)])
PY
  for evil in abs dotdot symlink hardlink; do
    refuse "hostile tarball '$evil' is refused" pv image import evil "$T/$evil.tar"
  done
  check "the canary is untouched" test "$(ls "$T/canary")" = secret -a "$(cat "$T/canary/secret")" = original
  check "no hostile image was stored" test ! -e "$ROOT/images/evil"
fi

# 999,600 bytes is 999.6 kB, which rounds to 1 MB, never to "1e+03 kB".
mkdir -p "$T/kb"
head -c 999600 /dev/zero > "$T/kb/blob"
check "import a 999.6 kB tree" pv image import kb "$T/kb"
check "sizes near a unit boundary print as 1 MB" sh -c "'$PV' --root '$ROOT' images | grep -qE '^kb +latest +1 MB '"
check "image rm of the 999.6 kB tree" pv image rm kb

check "image rm" pv image rm zipped:v1
refuse "image rm of a missing image fails" pv image rm zipped:v1
check "rm leaves the others" test "$(pv images -q | tr '\n' ' ')" = "mini:latest team/app:2.0 "
check "image rm of several" pv image rm mini team/app:2.0
check "the store is empty" test -z "$(ls -A "$ROOT/images")"

if [ "$(id -u)" != 0 ]; then
  skip "contrib/mkimage-busybox.sh" "needs root"
elif [ ! -x /bin/busybox ]; then
  ko "/bin/busybox is missing (contrib/deps.sh installs busybox-static): mkimage-busybox.sh is not tried"
else
  check "mkimage-busybox.sh imports busybox:latest" env PODVISOR="$PV" sh "$SRC/contrib/mkimage-busybox.sh" "$ROOT"
  check "mkimage-busybox.sh is idempotent" env PODVISOR="$PV" sh "$SRC/contrib/mkimage-busybox.sh" "$ROOT"
  check "busybox:latest is listed" sh -c "'$PV' --root '$ROOT' images | grep -qE '^busybox +latest '"
  check "its command is sh" sh -c "'$PV' --root '$ROOT' image inspect busybox | tr -d ' \n' | grep -q '\"cmd\":\\[\"sh\"\\]'"
  check "its rootfs has a static busybox" test -x "$ROOT/images/busybox/latest/rootfs/bin/sh"
fi

echo "image e2e: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
