#!/bin/bash
# bench_pod.sh - the pod supervisor against podman, side by side in one run.
# Not a test (ctest never runs it).  Needs root, podman with runc and
# catatonit (the infra container's init), python3 and jq: `contrib/deps.sh
# bench` installs them all.
#
#   tests/bench/bench_pod.sh [PODVISOR_BINARY]     env: RUNS (default 10), GAP_SECS (default 5),
#                                                   PODS (default 5), PM_DIR (podman's storage,
#                                                   default a directory under the run's temp dir),
#                                                   PM_RUNTIME (podman's OCI runtime, default runc)
#   tests/bench/vm.sh pod runs it again in a QEMU guest with pure cgroup v2.
#
# Nothing is pulled: podman's image is imported from a tarball of the same
# busybox rootfs podvisor imports, and its pods' infra image is the one
# podman builds locally around catatonit.  runc and podvisor take the cgroup
# layout as they find it (hybrid, v1 or v2); no systemd is needed.
#
#  1. a 3-container pod (each a shell that exits on SIGTERM around `sleep 3600`):
#     apply → all Running, and delete → all gone;
#       podvisor: start `podvisor-shim` (as `up` does) for the pod, poll status.json until the
#                 three containers run; SIGTERM the shim, wait until it exits
#                 (it exits only when every container, cgroup and mount is gone);
#       podman:   `podman kube play --network none` / `podman kube down` of the
#                 same YAML (cgroupfs manager, file events, runc, nofile 20000).
#  2. the restart gap of a container that exits at once, zero backoff:
#       podvisor: podvisor.restartGapNs in status.json (reaped exit → next start,
#                 measured by the shim) with backoff-initial "0" (restart at
#                 once; backoff-max must stay positive);
#       podman:   --restart=always /bin/false, "died" → "start" events.
#  3. shim memory, PSS from /proc/<pid>/smaps_rollup, two ways:
#       - 1 pod alone: the shim of the 3-container pod, the only shim running
#         (its text and libc pages are shared with no other shim, so this is
#         the cost of the first pod);
#       - PODS pods at once (default 5 × 3 containers): the shims' PSS summed
#         and divided by PODS.  This is the figure to set against conmon's:
#         the anchor measured conmon with 7 conmons running at once, so their
#         shared pages were already split between them the same way.
#     Both with the Private_Clean / Private_Dirty / Shared split, and for one
#     shim of the PODS the per-mapping breakdown from /proc/<pid>/smaps (text,
#     data+relro, heap, stack, anon), against conmon's PSS per container.
set -euo pipefail
PV=${1:-${PODVISOR_BINARY:-$(dirname "$0")/../../build/podvisor}}
PV=$(readlink -f "$PV")
SRC=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${RUNS:-10}
GAP_SECS=${GAP_SECS:-5}
PODS=${PODS:-5}
[ "$(id -u)" = 0 ] || { echo "bench_pod.sh: needs root" >&2; exit 1; }
for t in podman runc catatonit python3 jq; do
  command -v $t >/dev/null || { echo "bench_pod.sh: needs $t (contrib/deps.sh bench installs it)" >&2; exit 1; }
done
T=$(mktemp -d /tmp/pv-bench-XXXXXX)
R=$T/root; RR=$T/run
PM_DIR=${PM_DIR:-$T/podman}
PM_RUNTIME=${PM_RUNTIME:-runc}
command -v "$PM_RUNTIME" >/dev/null || { echo "bench_pod.sh: needs $PM_RUNTIME (PM_RUNTIME)" >&2; exit 1; }
mkdir -p "$PM_DIR"
trap 'pm pod rm -f -t0 bench3 >/dev/null 2>&1 || true; pm rm -f -t0 bench-crash >/dev/null 2>&1 || true; rm -rf "$T"' EXIT

# --- podman with the settings that work on this kind of host -------------------
cat > "$T/containers.conf" <<'C'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=1000:1000"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
C
export CONTAINERS_CONF=$T/containers.conf
pm() {
  podman --root "$PM_DIR/root" --runroot "$PM_DIR/runroot" --tmpdir "$PM_DIR/tmp" \
         --storage-driver overlay --cgroup-manager cgroupfs --events-backend file \
         --runtime "$PM_RUNTIME" "$@"
}

echo "== setup: busybox rootfs in podvisor and podman" >&2
rootfs=${TMPDIR:-/tmp}/podvisor-test-rootfs
[ -x "$rootfs/bin/sh" ] || sh "$SRC/contrib/mkrootfs-busybox.sh" "$rootfs" >/dev/null
"$PV" --root "$R" image import busybox "$rootfs" >/dev/null
tar -C "$rootfs" -cf "$T/rootfs.tar" .
pm import -q --change 'CMD ["/bin/sh"]' "$T/rootfs.tar" localhost/busybox:latest >/dev/null

cat > "$T/pod3.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: bench3
spec:
  restartPolicy: Always
  containers:
  - name: c1
    image: localhost/busybox:latest
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
  - name: c2
    image: localhost/busybox:latest
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
  - name: c3
    image: localhost/busybox:latest
    imagePullPolicy: Never
    command: ["/bin/sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"]
Y
cat > "$T/crash.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: crash
  annotations:
    podvisor.io/backoff-initial: "0"
    podvisor.io/backoff-max: "1ms"
spec:
  restartPolicy: Always
  containers:
  - name: c
    image: localhost/busybox:latest
    command: ["/bin/false"]
Y

python3 - "$PV" "$R" "$RR" "$T" "$RUNS" "$GAP_SECS" "$PODS" "$PM_DIR" "$PM_RUNTIME" <<'PY'
import json, os, signal, statistics, subprocess, sys, time
pv, R, RR, T, runs, gap_secs, npods = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), float(sys.argv[6]), int(sys.argv[7])
PM, PM_RUNTIME = sys.argv[8], sys.argv[9]
def pm(*a, **kw):
    r = subprocess.run(["podman", "--root", f"{PM}/root", "--runroot", f"{PM}/runroot",
        "--tmpdir", f"{PM}/tmp", "--storage-driver", "overlay", "--cgroup-manager", "cgroupfs",
        "--events-backend", "file", "--runtime", PM_RUNTIME, *a], check=False,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0 and kw.get("check", True):
        sys.exit(f"podman {' '.join(a)}: exit status {r.returncode}: {r.stderr.strip()}")
    return r
status_paths = {}
def status_path(name):
    """The pod's status.json, as `podvisor shim paths` names it (never recomputed here)."""
    if name not in status_paths:
        out = subprocess.run([pv, "--root", R, "--run-root", RR, "shim", "paths", "--pod", name],
                             stdout=subprocess.PIPE, text=True, check=True).stdout
        status_paths[name] = dict(l.split("=", 1) for l in out.splitlines())["POD_STATUS"].strip("'")
    return status_paths[name]
def status(name):
    try:
        with open(status_path(name)) as f: return json.load(f)
    except (OSError, ValueError): return None
# The keeper `podvisor up` runs: podvisor-shim beside podvisor, else `podvisor shim`.
lean = os.path.join(os.path.dirname(pv), "podvisor-shim")
shim_cmd = [lean, "--root", R, "--run-root", RR] if os.access(lean, os.X_OK) else [pv, "--root", R, "--run-root", RR, "shim"]
def shim(name, yaml):
    return subprocess.Popen(shim_cmd + ["--pod-file", yaml, "--pod", name],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
def all_running(st, n):
    return st is not None and sum(1 for c in st.get("containerStatuses", []) if "running" in c.get("state", {})) == n
def stats(xs): return statistics.median(xs), min(xs), max(xs)
def line(label, xs, unit="ms"):
    m, lo, hi = stats(xs); print(f"  {label:<44} median {m:9.2f} {unit}   min–max {lo:.2f}–{hi:.2f}   (n={len(xs)})")
    return m

def rollup(pid):
    d = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for l in f:
            p = l.split()
            if len(p) == 3 and p[2] == "kB": d[p[0].rstrip(":")] = int(p[1])
    d["Shared"] = d.get("Shared_Clean", 0) + d.get("Shared_Dirty", 0)
    return d
def breakdown(pid):
    """Pss and Private_Dirty (kB) per kind of mapping, from smaps."""
    out, kind, exe = {}, None, os.path.realpath(f"/proc/{pid}/exe")
    with open(f"/proc/{pid}/smaps") as f:
        for l in f:
            p = l.split()
            if "-" in p[0] and not p[0].endswith(":"):
                name, perms = (p[5] if len(p) > 5 else ""), p[1]
                if name == "[heap]": kind = "heap"
                elif name == "[stack]": kind = "stack"
                elif name == "": kind = "anon (mmap, thread stacks, bss tail)"
                elif name.startswith("["): kind = "vdso/vvar"
                else:
                    who = "shim" if name == exe else "libc/ld.so"
                    kind = f"{who} " + ("text" if "x" in perms else "data" if "w" in perms else "rodata+relro")
                out.setdefault(kind, [0, 0])
            elif p[0] == "Pss:": out[kind][0] += int(p[1])
            elif p[0] == "Private_Dirty:": out[kind][1] += int(p[1])
    return out
def mem_line(label, tot, n):
    print(f"  {label:<44} PSS/pod {tot['Pss'] / n:6.0f} kB   Private_Clean {tot['Private_Clean'] / n:4.0f}  "
          f"Private_Dirty {tot['Private_Dirty'] / n:4.0f}  Shared(RSS) {tot['Shared'] / n:5.0f}  RSS {tot['Rss'] / n:5.0f}")

# A shim hands back what a burst of work left resident once its pod has been
# quiet for 1 s (supervisor/shim/shim_mem.c); memory is read after that, in
# the steady state a long-running pod spends its life in.
IDLE = 1.5
up, down, pss = [], [], []
for i in range(runs):
    t0 = time.perf_counter(); p = shim("bench3", f"{T}/pod3.yaml")
    while not all_running(status("bench3"), 3):
        if p.poll() is not None: sys.exit("shim exited early")
        time.sleep(0.0005)
    t1 = time.perf_counter()
    time.sleep(IDLE)  # the steady state: after the shim's idle trim
    pss.append(rollup(p.pid))
    t2 = time.perf_counter(); p.send_signal(signal.SIGTERM); p.wait(); t3 = time.perf_counter()
    up.append((t1 - t0) * 1000); down.append((t3 - t2) * 1000)

# PODS pods at once, each 3 containers: the shims share their text and libc.
names = [f"benchm{i}" for i in range(npods)]
for n in names:
    with open(f"{T}/pod3.yaml") as f: y = f.read().replace("name: bench3", f"name: {n}")
    with open(f"{T}/{n}.yaml", "w") as f: f.write(y)
many = [shim(n, f"{T}/{n}.yaml") for n in names]
for n, p in zip(names, many):
    while not all_running(status(n), 3):
        if p.poll() is not None: sys.exit("shim exited early")
        time.sleep(0.005)
time.sleep(IDLE)
many_tot = {}
for p in many:
    for k, v in rollup(p.pid).items(): many_tot[k] = many_tot.get(k, 0) + v
many_map = breakdown(many[0].pid)
for p in many: p.send_signal(signal.SIGTERM)
for p in many: p.wait()

# podman's pods.  Where podman cannot start them (it says why), podvisor's
# figures are still printed, without ratios, and the script fails at the end.
pup, pdown, conmon, pm_failed = [], [], [], None
try:
    for i in range(runs):
        pm("kube", "down", f"{T}/pod3.yaml", check=False)
        t0 = time.perf_counter(); pm("kube", "play", "--network", "none", f"{T}/pod3.yaml"); t1 = time.perf_counter()
        if i == 0:
            for c in pm("ps", "--pod", "--filter", "pod=bench3", "--format", "{{.Names}}").stdout.split():
                cp = pm("inspect", c, "--format", "{{.State.ConmonPid}}").stdout.strip()
                with open(f"/proc/{cp}/smaps_rollup") as f:
                    conmon.append(next(int(l.split()[1]) for l in f if l.startswith("Pss:")))
        t2 = time.perf_counter(); pm("kube", "down", f"{T}/pod3.yaml"); t3 = time.perf_counter()
        pup.append((t1 - t0) * 1000); pdown.append((t3 - t2) * 1000)
except SystemExit as e:
    pm_failed = str(e).splitlines()[0]
    pm("kube", "down", f"{T}/pod3.yaml", check=False)

# restart gap, podvisor
p = shim("crash", f"{T}/crash.yaml"); gaps = {}; t_end = time.time() + gap_secs
while time.time() < t_end:
    st = status("crash")
    if st:
        c = st["containerStatuses"][0]; g = c.get("podvisor", {}).get("restartGapNs")
        if g: gaps[c["restartCount"]] = g / 1e6
    time.sleep(0.001)
p.send_signal(signal.SIGTERM); p.wait()
# restart gap, podman (died -> start events)
pgaps, died, ev = [], None, []
pm("rm", "-f", "-t0", "bench-crash", check=False)
since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1))
try:
    pm("run", "-d", "--name", "bench-crash", "--network", "none", "--restart=always", "localhost/busybox:latest", "/bin/false")
    time.sleep(gap_secs)
    pm("rm", "-f", "-t0", "bench-crash", check=False)
    ev = [json.loads(l) for l in pm("events", "--stream=false", "--since", since, "--filter", "container=bench-crash",
          "--format", "json").stdout.splitlines() if l.strip()]
except SystemExit as e:
    pm_failed = (pm_failed + "; " if pm_failed else "") + str(e)
def ts(e):
    t = e["Time"]; base, frac = t.rstrip("Z").split(".") if "." in t else (t.rstrip("Z"), "0")
    return time.mktime(time.strptime(base[:19], "%Y-%m-%dT%H:%M:%S")) + float("0." + frac[:9])
for e in sorted(ev, key=ts):
    if e["Status"] == "died": died = ts(e)
    elif e["Status"] == "start" and died is not None: pgaps.append((ts(e) - died) * 1000); died = None

print(f"\n== podvisor against podman {pm('--version').stdout.split()[-1]} ({PM_RUNTIME}); {len(up)} runs; cgroup {'v2' if os.path.exists('/sys/fs/cgroup/cgroup.controllers') else 'v1/hybrid'}")
if pm_failed: print(f"== podman FAILED, no ratios: {pm_failed.splitlines()[0]}")
print("== 3-container pod: apply → all Running")
a = line("podvisor (shim, status.json polled)", up)
if pup: b = line("podman kube play", pup); print(f"  ratio podvisor/podman: 1/{b / a:.1f}  (target ≤ 1/20)")
print("== 3-container pod: delete → all gone")
a = line("podvisor (SIGTERM → shim exit, all cleaned)", down)
if pdown: b = line("podman kube down", pdown); print(f"  ratio podvisor/podman: 1/{b / a:.1f}  (target ≤ 1/20)")
print("== restart gap: exit → next start, no backoff")
if len(gaps) > 0: a = line(f"podvisor ({len(gaps)} restarts sampled)", list(gaps.values()))
if len(pgaps) > 0: b = line("podman --restart=always (died → start)", pgaps)
if gaps and pgaps: print(f"  ratio podvisor/podman: 1/{b / a:.1f}  (target ≤ 10 ms)")
print("== memory (smaps_rollup, kB)")
line("podvisor shim PSS, 1 pod alone (3 containers)", [d["Pss"] for d in pss], "kB")
one = {k: statistics.median(d.get(k, 0) for d in pss) for k in pss[0]}
mem_line("  split, 1 pod alone (medians)", one, 1)
mem_line(f"podvisor shim, {npods} pods at once", many_tot, npods)
a = many_tot["Pss"] / npods
print(f"  one shim of the {npods}, per mapping (Pss / Private_Dirty kB):")
for k in sorted(many_map): print(f"    {k:<40} {many_map[k][0]:5} / {many_map[k][1]:5}")
if conmon:
    b = line(f"podman conmon PSS per container ({len(conmon)} at once)", conmon, "kB")
    print(f"  per pod: podvisor {a:.0f} kB ({npods} pods at once, comparable to the anchor's 7 conmons at once) "
          f"vs podman conmon ×{len(conmon)} = {sum(conmon):.0f} kB (target ≤ 300 kB)")
if pm_failed: sys.exit(f"bench_pod.sh: podman failed: {pm_failed}")
PY
