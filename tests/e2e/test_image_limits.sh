#!/bin/bash
# `podvisor image import` limits and what it leaves out, through the real
# binary: a tiny tar.gz holding a 100 MiB sparse file is refused under
# --max-size 10Mi (the message names the image and the limit; no image and
# no staging directory is left), imports under a larger limit (its holes
# kept), and a 17 GiB one is refused by the default limit (16Gi); the entry
# limit; device nodes and sockets are skipped and named on stderr.
set -u
PV=${PODVISOR_BINARY:?PODVISOR_BINARY is not set}
T=$(mktemp -d "${TMPDIR:-/tmp}/pv-image-limits.$$.XXXXXX")
trap 'rm -rf "$T"' EXIT
ROOT="$T/store"
pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "ok   - $1"; }
ko() { fail=$((fail + 1)); echo "FAIL - $1"; }
skip() { skipped=$((skipped + 1)); echo "skipped: $1 ($2)"; }
check() { local what=$1; shift; if "$@" >"$T/out" 2>&1; then ok "$what"; else ko "$what"; sed 's/^/     /' "$T/out"; fi; }
refuse() { local what=$1; shift; if "$@" >"$T/out" 2>&1; then ko "$what (accepted)"; sed 's/^/     /' "$T/out"; else ok "$what"; fi; }
pv() { "$PV" --root "$ROOT" "$@"; }
# said WHAT GREP-ARGS...: the last check's output matches (it is kept).
said() { local what=$1; shift; if grep -q "$@" "$T/out"; then ok "$what"; else ko "$what"; sed 's/^/     /' "$T/out"; fi; }
# nothing_left NAME: no image NAME and no staging directory in the store.
nothing_left() {
  [ ! -e "$ROOT/images/$1" ] || { echo "left: $(find "$ROOT/images/$1")"; return 1; }
  [ -z "$(find "$ROOT" -name '.import-*' 2>/dev/null)" ] || { echo "staging left: $(find "$ROOT" -name '.import-*')"; return 1; }
}

mkdir -p "$T/sparse"
truncate -s 100M "$T/sparse/big"
echo hi > "$T/sparse/small"
tar --sparse -C "$T/sparse" -czf "$T/sparse.tar.gz" big small
check "the archive is small" test "$(stat -c %s "$T/sparse.tar.gz")" -lt 100000

refuse "a 100 MiB sparse file is refused under --max-size 10Mi" pv image import --max-size 10Mi bomb "$T/sparse.tar.gz"
said "the message names the image and the limit" 'import bomb:latest: .*size limit of 10Mi'
said "the message says nothing was imported" 'nothing was imported'
check "no image and no staging directory left" nothing_left bomb
refuse "the refused image is not listed" sh -c "'$PV' --root '$ROOT' images | grep -q '^bomb '"

check "it imports under --max-size 200Mi" pv image import --max-size 200Mi bomb "$T/sparse.tar.gz"
check "the file has its apparent size" test "$(stat -c %s "$ROOT/images/bomb/latest/rootfs/big")" = 104857600
check "its holes are kept (under 1 MiB on disk)" test "$(du -k "$ROOT/images/bomb/latest/rootfs/big" | cut -f1)" -lt 1024
check "its size counts the sparse file whole" sh -c "'$PV' --root '$ROOT' image inspect bomb | grep -q '\"size\": 104857603'"

truncate -s 17G "$T/sparse/big"
tar --sparse -C "$T/sparse" -czf "$T/huge.tar.gz" big small
refuse "a 17 GiB sparse file is refused by the default limit" pv image import huge "$T/huge.tar.gz"
said "... whose message names the default limit" 'import huge:latest: .*size limit of 16Gi'
check "... and leaves nothing" nothing_left huge
check "--max-size 0 lifts the limit" pv image import --max-size 0 huge "$T/huge.tar.gz"
pv image rm huge >/dev/null 2>&1
refuse "--max-size refuses a bad quantity" pv image import --max-size 10Q x "$T/sparse.tar.gz"
said "... and says what a size looks like" "invalid --max-size '10Q'"
refuse "--max-entries 1 refuses two files" pv image import --max-entries 1 few "$T/sparse.tar.gz"
said "... naming the limit" 'import few:latest: .*more than 1 entries'
check "... and leaves nothing" nothing_left few

# Device nodes in an archive (python's tarfile writes them without root).
python3 - "$T/dev.tar.gz" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    for name in ("bin", "dev"):
        d = tarfile.TarInfo(name); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    data = b"#!/bin/sh\necho hi\n"
    f = tarfile.TarInfo("bin/hello"); f.size = len(data); f.mode = 0o755; t.addfile(f, io.BytesIO(data))
    nodes = [("null", tarfile.CHRTYPE, 1, 3), ("zero", tarfile.CHRTYPE, 1, 5), ("sda", tarfile.BLKTYPE, 8, 0),
             ("random", tarfile.CHRTYPE, 1, 8), ("tty", tarfile.CHRTYPE, 5, 0), ("sdb", tarfile.BLKTYPE, 8, 16)]
    for name, kind, major, minor in nodes:
        n = tarfile.TarInfo("dev/" + name); n.type = kind; n.devmajor = major; n.devminor = minor; n.mode = 0o666
        t.addfile(n)
EOF
check "an archive with device nodes imports" pv image import devs "$T/dev.tar.gz"
said "the skipped device nodes are counted and the first five named" \
  '^podvisor image import: skipped 6 device nodes (a container gets its own /dev): /dev/null, /dev/zero, /dev/sda, /dev/random, /dev/tty, \.\.\.$'
check "stdout is only the image's name" test "$(pv image import devs "$T/dev.tar.gz" 2>/dev/null)" = devs:latest
check "no device node is in the image" test -z "$(find "$ROOT/images/devs/latest/rootfs/dev" -mindepth 1)"
check "the rest is" test -x "$ROOT/images/devs/latest/rootfs/bin/hello"

# A directory with a socket (and, as root, a device node).
mkdir -p "$T/dir/run" "$T/dir/etc"
echo x > "$T/dir/etc/x"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/dir/run/app.sock"
want="skipped 1 socket (a container gets its own /dev): /run/app.sock"
if [ "$(id -u)" = 0 ]; then
  mknod "$T/dir/run/null" c 1 3
  want="skipped 1 device node and 1 socket (a container gets its own /dev): /run/"
else
  skip "a device node in a directory" "mknod needs root"
fi
check "a directory with a socket imports" pv image import sockdir "$T/dir"
said "the skipped socket is named" -F "podvisor image import: $want"
check "no socket is in the image" test -z "$(find "$ROOT/images/sockdir/latest/rootfs" -type s)"
check "a plain import says nothing of skipped entries" sh -c "! '$PV' --root '$ROOT' image import plain '$T/sparse.tar.gz' 2>&1 | grep -q skipped"

echo "image limits e2e: $pass passed, $fail failed, $skipped skipped"
[ "$fail" -eq 0 ]
