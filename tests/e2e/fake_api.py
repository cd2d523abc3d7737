#!/usr/bin/env python3
"""fake_api.py RUN_ROOT LOG - a stand-in for the daemon's API, for the CLI's tests.

Serves canned Kubernetes JSON on RUN_ROOT/podvisor.sock (HTTP/1.1, the paths
and shapes of supervisor/daemon/API.md: Tables, lists, a watch stream, logs,
apply results, Status errors) and the exec protocol on RUN_ROOT/exec.sock
(ctlproto JSON lines with SCM_RIGHTS).  Every request it gets is appended to
LOG as one JSON line (method, path, query, Accept, Content-Type, body; for
exec the request line and the number of descriptors that came with it), so
that the test can check what the CLI asked.  It answers from fixed data, so
that what the CLI prints can be compared byte for byte.  Runs until killed.
"""
import json
import os
import re
import socket
import socketserver
import struct
import sys
import termios
import fcntl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

RUN_ROOT, LOG = sys.argv[1], sys.argv[2]
LOG_LOCK = threading.Lock()


def log(entry):
    with LOG_LOCK, open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")


# Times are "ago" seconds before the request being answered (not before the
# fake started): what the client prints as an age ("30m") must not depend
# on how long the test ran before it asked (minutes in a slow guest).
def ts(ago):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(time.time()) - ago))


COLUMNS = [
    {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
    {"name": "Ready", "type": "string", "format": "", "description": "", "priority": 0},
    {"name": "Status", "type": "string", "format": "", "description": "", "priority": 0},
    {"name": "Restarts", "type": "string", "format": "", "description": "", "priority": 0},
    {"name": "Age", "type": "string", "format": "", "description": "", "priority": 0},
    {"name": "IP", "type": "string", "format": "", "description": "", "priority": 1},
    {"name": "Node", "type": "string", "format": "", "description": "", "priority": 1},
    {"name": "Nominated Node", "type": "string", "format": "", "description": "", "priority": 1},
    {"name": "Readiness Gates", "type": "string", "format": "", "description": "", "priority": 1},
]

CELLS = {
    ("default", "web"): ["web", "2/2", "Running", "2 (5s ago)", "3m", "10.88.0.5", "host1", "<none>", "<none>"],
    ("default", "db"): ["db", "0/1", "CrashLoopBackOff", "5 (20s ago)", "10m", "<none>", "host1", "<none>",
                        "<none>"],
    ("other", "cache"): ["cache", "1/1", "Running", "0", "2d", "10.88.0.9", "host1", "<none>", "<none>"],
}


def pod(ns, name):
    containers = [{"name": "app", "image": "busybox"}]
    if name == "web":
        containers.append({"name": "log", "image": "busybox"})
    return {
        "kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": name, "namespace": ns, "uid": "uid-" + name, "resourceVersion": "7",
                     "creationTimestamp": ts(180), "labels": {"app": name},
                     "annotations": {"podvisor.io/source": "api"}},
        "spec": {"containers": containers, "restartPolicy": "Always", "nodeName": "host1"},
        "status": {"phase": "Running", "podIP": "10.88.0.5", "startTime": ts(180),
                   "containerStatuses": [{"name": c["name"], "image": "busybox", "ready": True,
                                          "restartCount": 2, "state": {"running": {"startedAt": ts(60)}}}
                                         for c in containers]},
    }


def row(ns, name):
    return {"cells": CELLS[(ns, name)],
            "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                       "metadata": {"name": name, "namespace": ns}}}


def table(keys, columns=True):
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": "41"},
            "columnDefinitions": COLUMNS if columns else None, "rows": [row(*k) for k in keys]}


def event(name, pod_name, reason, message, first_ago, last_ago, count, typ="Normal", ns="default"):
    return {"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": ns},
            "involvedObject": {"kind": "Pod", "namespace": ns, "name": pod_name, "uid": "uid-" + pod_name,
                               "apiVersion": "v1"},
            "reason": reason, "message": message, "source": {"component": "podvisor"},
            "firstTimestamp": ts(first_ago), "lastTimestamp": ts(last_ago), "count": count, "type": typ,
            "eventTime": None}


def all_events():
    return [
        event("web.1", "web", "BackOff", "Back-off restarting failed container app", 2700, 1800, 3, "Warning"),
        event("web.0", "web", "Started", "Started container app", 3600, 3600, 1),
        event("db.0", "db", "Created", "Created container db", 1200, 1200, 1),
    ]


def status(code, reason, message, details=None):
    s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
         "reason": reason, "code": code}
    if details is not None:
        s["details"] = details
    return s


def not_found(name):
    return 404, status(404, "NotFound", 'pods "%s" not found' % name, {"name": name, "kind": "pods"})


DELETING = {}  # name -> GETs that still find the pod after its DELETE
DELETING_LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def address_string(self):
        return "unix"

    def reply(self, code, obj, ctype="application/json"):
        body = (json.dumps(obj) if not isinstance(obj, (bytes, str)) else obj)
        body = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def stream(self, chunks, ctype="application/json", pause=0.05):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for c in chunks:
            data = c.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
            time.sleep(pause)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def handle_any(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        log({"method": method, "path": u.path, "query": u.query, "accept": self.headers.get("Accept"),
             "contentType": self.headers.get("Content-Type"), "body": body})
        self.route(method, u.path, q, body)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_DELETE(self):
        self.handle_any("DELETE")

    def route(self, method, path, q, body):
        as_table = "as=Table" in (self.headers.get("Accept") or "")
        watch = q.get("watch") == ["true"]
        m = re.fullmatch(r"/api/v1(?:/namespaces/([^/]+))?/pods(?:/([^/]+))?(?:/(log))?", path)
        if path == "/api/v1/namespaces/broken/pods":
            return self.reply(500, "database on fire\n", "text/plain")
        if path == "/version" and method == "GET":
            return self.reply(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-podvisor.0.1.0",
                                    "platform": "linux/amd64"})
        if m and method == "GET" and m.group(2) is None:
            return self.list_pods(m.group(1), q, as_table, watch)
        if m and method == "GET" and m.group(3) == "log":
            return self.logs(m.group(2), q)
        if m and method == "GET":
            return self.get_pod(m.group(1), m.group(2), as_table)
        if m and method == "POST" and m.group(2) is None:
            return self.create(m.group(1), body)
        if m and method == "DELETE" and m.group(2) is not None:
            return self.delete(m.group(1), m.group(2))
        m = re.fullmatch(r"/apis/podvisor.io/v1(?:/namespaces/([^/]+))?/apply", path)
        if m and method == "POST":
            return self.apply(body, q)
        m = re.fullmatch(r"/apis/podvisor.io/v1/namespaces/([^/]+)/pods/([^/]+)/restart", path)
        if m and method == "POST":
            if (m.group(1), m.group(2)) not in CELLS:
                return self.reply(*not_found(m.group(2)))
            return self.reply(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})
        m = re.fullmatch(r"/api/v1(?:/namespaces/([^/]+))?/events", path)
        if m and method == "GET":
            return self.events(m.group(1), q, watch)
        return self.reply(404, status(404, "NotFound", "the server could not find the requested resource"))

    def list_pods(self, ns, q, as_table, watch):
        keys = [k for k in CELLS if ns is None or k[0] == ns]
        sel = q.get("labelSelector", [""])[0]
        if sel.startswith("app="):
            keys = [k for k in keys if k[1] == sel[4:]]
        if watch:
            if as_table:
                t1 = table([("default", "web")])
                t1["rows"][0]["cells"][3] = "3 (1s ago)"
                CELLS[("default", "fresh")] = ["fresh", "0/1", "Pending", "0", "0s", "<none>", "host1", "<none>",
                                               "<none>"]
                t2 = table([("default", "fresh")], columns=False)
                t3 = table([("default", "db")], columns=False)
                del CELLS[("default", "fresh")]
                evs = [("MODIFIED", t1), ("ADDED", t2), ("DELETED", t3)]
            else:
                evs = [("MODIFIED", pod("default", "web")), ("DELETED", pod("default", "db"))]
            return self.stream(json.dumps({"type": t, "object": o}) + "\n" for t, o in evs)
        if as_table:
            return self.reply(200, table(keys))
        return self.reply(200, {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "41"},
                                "items": [dict((k, v) for k, v in pod(*key).items() if k not in ("kind",
                                                                                                 "apiVersion"))
                                          for key in keys]})

    def get_pod(self, ns, name, as_table):
        with DELETING_LOCK:
            if name in DELETING:
                DELETING[name] -= 1
                if DELETING[name] < 0:  # gone once, then back for the next command
                    del DELETING[name]
                    return self.reply(*not_found(name))
        if (ns, name) not in CELLS:
            return self.reply(*not_found(name))
        return self.reply(200, table([(ns, name)]) if as_table else pod(ns, name))

    def logs(self, name, q):
        if name not in ("web", "db"):
            return self.reply(*not_found(name))
        prefix = "2024-05-01T10:00:00Z " if q.get("timestamps") == ["true"] else ""
        if q.get("follow") == ["true"]:
            return self.stream(self.follow(prefix), "text/plain", 0)
        lines = ["%sline %d from %s\n" % (prefix, i, q.get("container", ["?"])[0]) for i in range(1, 4)]
        if "tailLines" in q:
            lines = lines[-int(q["tailLines"][0]):]
        return self.reply(200, "".join(lines), "text/plain")

    # logs -f: "tick 1", then the rest only once the test has seen it
    # printed and made RUN_ROOT/follow.more (at most 60 s later), so that a
    # client printing the stream only at its end cannot pass however slow
    # the machine.
    def follow(self, prefix):
        yield prefix + "tick 1\n"
        more = os.path.join(RUN_ROOT, "follow.more")
        for _ in range(1200):
            if os.path.exists(more):
                break
            time.sleep(0.05)
        yield prefix + "tick 2\n"
        yield prefix + "tick 3\n"

    def create(self, ns, body):
        obj = json.loads(body)
        name = obj["metadata"]["name"]
        if name == "web":
            return self.reply(409, status(409, "AlreadyExists", 'pods "web" already exists',
                                          {"name": "web", "kind": "pods"}))
        obj["metadata"]["uid"] = "uid-" + name
        return self.reply(201, obj)

    def delete(self, ns, name):
        if (ns, name) not in CELLS:
            return self.reply(*not_found(name))
        if name == "db":
            return self.reply(409, status(409, "Conflict", "pod default/db is declared by the manifest file "
                                                           "/etc/podvisor/pods/db.yaml: it cannot be deleted "
                                                           "through the API (remove it from the file)"))
        with DELETING_LOCK:
            DELETING[name] = 2
        p = pod(ns, name)
        p["metadata"]["deletionTimestamp"] = ts(0)
        return self.reply(200, p)

    def apply(self, body, q):
        dry = q.get("dryRun") == ["All"]
        bad = [(i + 1, line.index("BAD") + 1) for i, line in enumerate(body.split("\n")) if "BAD" in line]
        if bad:
            causes = [{"reason": "FieldValueInvalid", "field": "spec.containers[0].image",
                       "message": "<request>:%d:%d: error: spec.containers[0].image: image \"BAD\" is not "
                                  "imported (podvisor image import)" % b} for b in bad]
            return self.reply(422, status(422, "Invalid", "the request is invalid: %d errors" % len(bad),
                                          {"causes": causes}))
        items = []
        for name in re.findall(r'metadata"?:\s*\{\s*"?name"?:\s*"?([a-z0-9-]+)', body):
            if name == "web":
                items.append({"namespace": "default", "name": name, "action": "configure",
                              "detail": "restart container app", "text": "pod/web configured: restart container app"})
            elif name == "same":
                items.append({"namespace": "default", "name": name, "action": "unchanged", "detail": "",
                              "text": "pod/same unchanged"})
            elif name == "notext":
                items.append({"namespace": "default", "name": name, "action": "recreate",
                              "detail": "recreate (hostNetwork changed)"})
            else:
                items.append({"namespace": "default", "name": name, "action": "create", "detail": "",
                              "text": "pod/%s created" % name})
        if q.get("prune") == ["true"]:
            items.append({"namespace": "default", "name": "old", "action": "delete", "detail": "",
                          "text": "pod/old pruned"})
        return self.reply(200, {"kind": "ApplyResult", "apiVersion": "podvisor.io/v1", "dryRun": dry,
                                "items": items})

    def events(self, ns, q, watch):
        evs = [e for e in all_events() if ns is None or e["metadata"]["namespace"] == ns]
        sel = q.get("fieldSelector", [""])[0]
        for term in filter(None, sel.split(",")):
            k, v = term.split("=", 1)
            evs = [e for e in evs if e["involvedObject"][k.split(".", 1)[1]] == v]
        if watch:
            return self.stream(json.dumps({"type": t, "object": e}) + "\n"
                               for t, e in [("ADDED", evs[0]), ("DELETED", evs[1]), ("ADDED", evs[2])])
        return self.reply(200, {"kind": "EventList", "apiVersion": "v1", "metadata": {"resourceVersion": "9"},
                                "items": evs})


class HTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def exec_line(line, fds=()):
    return (json.dumps(line) + "\n").encode(), list(fds)


class ExecHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        data, fds = b"", []
        while not data.endswith(b"\n"):
            chunk, got, _, _ = socket.recv_fds(sock, 65536, 8)
            if not chunk:
                return
            data += chunk
            fds += got
        req = json.loads(data)
        log({"exec": req, "nfds": len(fds)})
        if req.get("pod") != "web" or req.get("container") not in ("app", "log"):
            socket.send_fds(sock, [json.dumps({"v": 1, "ok": False, "error": {
                "reason": "NotFound", "message": "container %s of pod %s/%s not found" % (
                    req.get("container"), req.get("namespace"), req.get("pod"))}}).encode() + b"\n"], [])
            return
        argv = req["argv"]
        code = 7 if "fail" in argv else 0
        if req.get("tty"):
            master, slave = os.openpty()
            if req.get("rows"):
                fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", req["rows"], req["cols"], 0, 0))
            socket.send_fds(sock, [b'{"v":1,"ok":true,"pid":4242}\n'], [master])
            os.close(master)
            time.sleep(0.3)  # the client's own TIOCSWINSZ comes first
            rows, cols = struct.unpack("HHHH", fcntl.ioctl(slave, termios.TIOCGWINSZ, b"\0" * 8))[:2]
            os.write(slave, b"tty-size %d %d\r\nran %s\r\n" % (rows, cols, " ".join(argv).encode()))
            time.sleep(0.1)
            os.close(slave)
            sock.sendall(b'{"v":1,"event":"exit","exitCode":5}\n')
            return
        out, err = fds[-2], fds[-1]
        os.write(out, ("out: %s\n" % " ".join(argv)).encode())
        os.write(err, b"err: on stderr\n")
        if req.get("stdin"):
            got = b""
            while True:
                b = os.read(fds[0], 4096)
                if not b:
                    break
                got += b
            os.write(out, b"in: " + got)
        for fd in fds:
            os.close(fd)
        sock.sendall(b'{"v":1,"ok":true,"pid":4242}\n')
        sock.sendall(b'{"v":1,"event":"exit","exitCode":%d}\n' % code)


class ExecServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    for name in ("podvisor.sock", "exec.sock"):
        try:
            os.unlink(os.path.join(RUN_ROOT, name))
        except FileNotFoundError:
            pass
    api = HTTPServer(os.path.join(RUN_ROOT, "podvisor.sock"), Handler)
    ex = ExecServer(os.path.join(RUN_ROOT, "exec.sock"), ExecHandler)
    threading.Thread(target=ex.serve_forever, daemon=True).start()
    open(os.path.join(RUN_ROOT, "fake.ready"), "w").close()
    api.serve_forever()


main()
