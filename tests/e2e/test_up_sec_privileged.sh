#!/bin/bash
# privileged: true means what it means in Kubernetes: every capability
# (CapEff all ones up to the kernel's last capability, or what the caller has), no masked /proc or
# /sys paths, no read-only /proc paths, a writable /sys; a default
# container has the masks, a read-only /sys and the default set.
. "$(dirname "$0")/up_lib.sh"
. "$(dirname "$0")/sec_lib.sh"
SH='echo capeff=$(sed -n "s/^CapEff:\t//p" /proc/self/status); echo masks=$(awk "\$5 ~ /^\/(proc\/(kcore|keys|timer_list|acpi|scsi)|sys\/firmware)\$/" /proc/self/mountinfo | wc -l); echo procsys=$(awk "\$5 == \"/proc/sys\" {print substr(\$6, 1, 2)}" /proc/self/mountinfo); echo sys=$(awk "\$5 == \"/sys\" {print substr(\$6, 1, 2)}" /proc/self/mountinfo); echo done; exec sleep 3600'
cat > "$T/pod.yaml" <<Y
apiVersion: v1
kind: Pod
metadata:
  name: priv
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: privileged
    image: busybox
    command: ["sh", "-c", '$SH']
    securityContext: {privileged: true}
  - name: default
    image: busybox
    command: ["sh", "-c", '$SH']
Y
start_shim "$T/pod.yaml" priv
log_wait priv privileged || fail privileged
log_wait priv default || fail default
# Every capability the caller has (a host may lack some in its bounding
# set, CAP_SYS_RESOURCE on some): the kernel's whole set where it has all.
all=$(sed -n 's/^CapEff:\t//p' /proc/self/status)
last=$(cat /proc/sys/kernel/cap_last_cap)
[ "$all" = "$(printf '%016x' $(((1 << (last + 1)) - 1)))" ] || echo "note: this host runs the test without every capability ($all)"
expect priv privileged capeff "$all"
expect priv privileged masks 0
expect priv privileged procsys ""
expect priv privileged sys rw
ok "privileged: all capabilities ($all), nothing masked, /proc/sys not read-only, /sys writable"
expect priv default capeff 00000000a80425fb
# Paths the host does not have (/proc/acpi, /proc/scsi) are not masked.
[ "$(log_line priv default masks)" -ge 3 ] || fail "default: masks $(log_line priv default masks)"
expect priv default procsys ro
expect priv default sys ro
ok "default: the default capabilities, masked paths, read-only /proc/sys and /sys"
stop_shim "$LAST_SHIM" || fail stop
