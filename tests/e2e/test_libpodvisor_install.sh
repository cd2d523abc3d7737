#!/bin/bash
# test_libpodvisor_install.sh - the core API as an installed C library:
# `cmake --install` of the build tree into a temporary prefix gives
# libpodvisor.so with the SONAME of the project version, exports exactly the
# functions its installed headers declare, every header compiles on its own
# (-pedantic -Werror), podvisor.pc builds examples/c/lifecycle.c (with cc and
# with its Makefile), and the program, run as root against a private image
# store holding busybox, walks a container through run, create, start,
# stats, stop, start again, list and destroy, leaving no cgroup, mount or
# state directory behind.  The podvisor binaries do not link the library.
# Needs root (skipped with 77 otherwise).
set -u
# up_lib.sh: the root check (77), $T (removed on exit), $R with busybox imported.
. "$(dirname "$0")/up_lib.sh"
BUILD=$(dirname "$PV")
[ -f "$BUILD/cmake_install.cmake" ] || fail "$BUILD (the directory of $PV) is not a CMake build tree"
P=$T/prefix
export PKG_CONFIG_PATH=$P/lib/pkgconfig
CC=${CC:-cc}

cmake --install "$BUILD" --prefix "$P" >"$T/install.log" 2>&1 || { cat "$T/install.log" >&2; fail "cmake --install"; }
ok "cmake --install into a temporary prefix"

# ---- the shared object: SONAME and file names from the project version
version=$(sed -n 's/^project(podvisor VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$version" ] || fail "no project version in CMakeLists.txt"
[ "$(pkg-config --modversion podvisor)" = "$version" ] || fail "podvisor.pc version is not $version"
lib=$P/lib/libpodvisor.so.$version
so=libpodvisor.so.${version%%.*}
[ -f "$lib" ] && [ ! -L "$lib" ] || fail "$lib is not installed"
[ "$(readlink "$P/lib/$so")" = "libpodvisor.so.$version" ] || fail "$so does not point to libpodvisor.so.$version"
[ "$(readlink "$P/lib/libpodvisor.so")" = "$so" ] || fail "libpodvisor.so does not point to $so"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "$so" ] || fail "SONAME is '$soname', not $so"
ok "SONAME $so, file libpodvisor.so.$version"

# ---- exported symbols = the functions declared in the installed headers
nm -D --defined-only "$lib" | awk '$2 != "A" {print $3}' >"$T/nm"
grep -v '@@PODVISOR_0$' "$T/nm" && fail "symbols above are exported outside the PODVISOR_0 version"
sed 's/@@PODVISOR_0$//' "$T/nm" | sort -u >"$T/exported"
for h in "$P"/include/podvisor/*.h; do echo "#include <podvisor/$(basename "$h")>"; done >"$T/all.c"
gcc -std=gnu11 $(pkg-config --cflags podvisor) -aux-info "$T/aux" -c "$T/all.c" -o "$T/all.o" ||
  fail "the installed headers do not compile together"
grep -F "$P/include/podvisor/" "$T/aux" | sed -E 's|^/\*[^*]*\*/ extern ([^(]*)\(.*|\1|' |
  awk '{print $NF}' | tr -d '*' | sort -u >"$T/declared"
[ "$(wc -l <"$T/declared")" -ge 80 ] || fail "only $(wc -l <"$T/declared") functions found in the headers"
if ! diff "$T/declared" "$T/exported" >"$T/diff"; then
  sed 's/^</declared, not exported:/; s/^>/exported, not declared:/' "$T/diff" >&2
  fail "the exported symbols differ from the installed headers' functions"
fi
for s in container_manager_init container_manager_run container_manager_set_stdio namespace_config_init \
  resource_limits_init resource_manager_get_stats fs_config_init image_lookup pv_err_str; do
  grep -qx "$s" "$T/exported" || fail "$s is not exported"
done
for s in pv_write_file_atomic pv_rm_rf cgroup_write caps_apply container_free fs_plan_add image_unpack_archive; do
  grep -qx "$s" "$T/exported" && fail "internal function $s is exported"
done
ok "$(wc -l <"$T/exported") symbols exported, exactly the installed headers' functions"

# ---- every installed header compiles on its own, strictly
grep -l '#include "supervisor/' "$P"/include/podvisor/*.h && fail "installed headers above include by source-tree path"
for h in "$P"/include/podvisor/*.h; do
  n=$(basename "$h" .h)
  printf '#include <podvisor/%s.h>\n' "$n" >"$T/h_$n.c"
  for std in c11 gnu11; do
    $CC -std=$std -Wall -Wextra -Werror -pedantic $(pkg-config --cflags podvisor) -c "$T/h_$n.c" -o "$T/h_$n.o" ||
      fail "podvisor/$n.h does not compile on its own (-std=$std)"
  done
done
$CC -std=c11 -Wall -Wextra -Werror -pedantic $(pkg-config --cflags podvisor) -c "$T/all.c" -o "$T/all.o" ||
  fail "the installed headers do not compile together (-pedantic)"
ok "$(ls "$P"/include/podvisor/*.h | wc -l) headers under include/podvisor/, each compiles alone with -pedantic -Werror"

# ---- the example, built against the installed library only
# A sanitizer build's library needs the sanitizer runtimes loaded first:
# the program is built with the same options then.
SAN=""
readelf -d "$lib" | grep -q 'NEEDED.*libasan' && SAN="-fsanitize=address,undefined"
ex=$T/lifecycle
$CC $SAN -Wall -Wextra -Werror -o "$ex" "$SRC/examples/c/lifecycle.c" $(pkg-config --cflags --libs podvisor) \
  -Wl,-rpath,"$P/lib" || fail "examples/c/lifecycle.c does not build with pkg-config"
readelf -d "$ex" | grep -q "NEEDED.*\[$so\]" || fail "the example does not link $so"
cp -r "$SRC/examples/c" "$T/mk"
rm -f "$T/mk/lifecycle"
make -s -C "$T/mk" CFLAGS="$SAN -Wall -Wextra -Werror" >"$T/make.log" 2>&1 || { cat "$T/make.log" >&2; fail "examples/c/Makefile"; }
env -u LD_LIBRARY_PATH ldd "$T/mk/lifecycle" | grep -q "$so => $P/lib/$so" || fail "the Makefile's program does not find $P/lib/$so"
for b in "$PV" "$BUILD/podvisor-shim"; do
  readelf -d "$b" | grep -q 'NEEDED.*libpodvisor' && fail "$b links libpodvisor"
done
ok "the example builds with cc and pkg-config, and with its Makefile; the podvisor binaries do not link libpodvisor"

# ---- the example, run as root against the private store
"$ex" --root "$R" busybox >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out"
[ "$rc" = 0 ] || { cat "$T/err" >&2; fail "the example exited $rc"; }
[ ! -s "$T/err" ] || { cat "$T/err" >&2; fail "the example wrote to stderr"; }
pid=$(sed -n 's/^run lifecycle-run-\([0-9]*\): .*/\1/p' "$T/out")
[ -n "$pid" ] || fail "no run line"
run=lifecycle-run-$pid
svc=lifecycle-svc-$pid
line() { grep -qxF -- "$1" "$T/out" || fail "no line '$1'"; }
line "hello from lifecycle, pid 1"
line "run $run: exit code 3"
[ "$(grep -cx 134217728 "$T/out")" = 1 ] || fail "the first container did not see a 128 MiB limit"
grep -q "^memory limit: 134217728 " "$T/out" || fail "the memory limit read back is not 134217728"
line "created $svc: state created"
grep -Eq "^started $svc: state running, pid [0-9]+, cgroup podvisor/$svc, started " "$T/out" || fail "no started line"
grep -Eq '^stats: memory [1-9][0-9]* bytes, [1-9][0-9]* pids, cpu [0-9]+ ns$' "$T/out" || fail "no stats"
line "stopped $svc: state stopped, exit code 0"
grep -Eq "^started again $svc: state running, pid [0-9]+, cgroup podvisor/$svc, " "$T/out" || fail "no started again line"
p1=$(sed -n "s/^started $svc: state running, pid \([0-9]*\),.*/\1/p" "$T/out")
p2=$(sed -n "s/^started again $svc: state running, pid \([0-9]*\),.*/\1/p" "$T/out")
[ "$p1" != "$p2" ] || fail "the second start has the first one's pid $p1"
line "list: 1 container"
line "  $svc running"
line "destroyed $svc"
ok "run exit code 3, limit 134217728 inside and read back, stopped, running again (pid $p1 -> $p2), listed, destroyed"

# ---- nothing left behind
for id in "$run" "$svc"; do
  left=$(ls -d /sys/fs/cgroup/podvisor/"$id" /sys/fs/cgroup/*/podvisor/"$id" 2>/dev/null)
  [ -z "$left" ] || fail "cgroup left behind: $left"
done
grep -F "$T" /proc/self/mountinfo && fail "mounts left behind (above)"
[ -d "$R/containers" ] || fail "no state directory $R/containers"
[ -z "$(ls -A "$R/containers")" ] || fail "left in $R/containers: $(ls -A "$R/containers")"
ok "no cgroup, mount or state directory left"
