#!/usr/bin/env python3
"""Fridge's swarm visualizer: one column per node, one card per task, read from the Docker Engine API on
a manager's socket. The seed used alexellis2/visualizer-arm; this one is built from Debian's python3 so
the virtual fridge (no Docker Hub) has it too. Read-only: it only ever sends GET requests."""

import html
import http.client
import http.server
import json
import os
import socket

SOCKET = os.environ.get("DOCKER_SOCKET", "/var/run/docker.sock")
PORT = int(os.environ.get("PORT", "8080"))
LIVE = {"new", "pending", "assigned", "accepted", "preparing", "ready", "starting", "running"}


class ApiError(Exception):
    pass


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=5)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(5)
        sock.connect(self.unix_path)
        self.sock = sock


def api(path):
    conn = UnixConnection(SOCKET)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
    except OSError as e:
        raise ApiError(f"cannot reach the docker socket {SOCKET}: {e}") from e
    finally:
        conn.close()
    try:
        data = json.loads(body or b"null")
    except ValueError as e:
        raise ApiError(f"GET {path}: HTTP {resp.status}, not JSON") from e
    if resp.status >= 400:
        msg = data.get("message") if isinstance(data, dict) else None
        raise ApiError(msg or f"GET {path}: HTTP {resp.status}")
    return data


def swarm_state():
    nodes = api("/nodes")
    services = {s["ID"]: s["Spec"]["Name"] for s in api("/services")}
    tasks = [t for t in api("/tasks") if t.get("DesiredState") == "running" or t["Status"]["State"] in LIVE]

    def card(t):
        image = t.get("Spec", {}).get("ContainerSpec", {}).get("Image", "").split("@")[0]
        return {
            "service": services.get(t.get("ServiceID"), t.get("ServiceID", "?")[:12]),
            "slot": t.get("Slot"),
            "state": t["Status"]["State"],
            "message": t["Status"].get("Err") or t["Status"].get("Message", ""),
            "image": image,
        }

    columns = []
    for n in sorted(nodes, key=lambda n: n["Description"]["Hostname"]):
        mine = sorted((card(t) for t in tasks if t.get("NodeID") == n["ID"]), key=lambda c: (c["service"], c["slot"] or 0))
        columns.append({
            "hostname": n["Description"]["Hostname"],
            "role": n["Spec"].get("Role", ""),
            "state": n["Status"]["State"],
            "availability": n["Spec"].get("Availability", ""),
            "address": n["Status"].get("Addr", ""),
            "memoryMiB": n["Description"].get("Resources", {}).get("MemoryBytes", 0) // 1048576,
            "architecture": n["Description"].get("Platform", {}).get("Architecture", ""),
            "tasks": mine,
        })
    unassigned = sorted((card(t) for t in tasks if not t.get("NodeID")), key=lambda c: (c["service"], c["slot"] or 0))
    return {"nodes": columns, "unassigned": unassigned}


STYLE = """
body{font-family:sans-serif;background:#f4f5f7;margin:1em}
.grid{display:flex;gap:1em;align-items:flex-start;flex-wrap:wrap}
.node{background:#fff;border-radius:6px;padding:.6em;min-width:13em;box-shadow:0 1px 3px #0003}
.node h2{font-size:1.05em;margin:0}.meta{color:#666;font-size:.8em;margin-bottom:.5em}
.task{border-left:4px solid #2a7;background:#eef8f2;margin:.3em 0;padding:.3em .5em;font-size:.9em}
.task.other{border-color:#d90;background:#fdf6e3}.task small{display:block;color:#555}
.down{opacity:.5}
"""


def render(state):
    def task_html(t):
        cls = "task" if t["state"] == "running" else "task other"
        slot = f".{t['slot']}" if t["slot"] else ""
        msg = f"<small>{html.escape(t['message'])}</small>" if t["state"] != "running" and t["message"] else ""
        return (f'<div class="{cls}"><b>{html.escape(t["service"])}{slot}</b> {html.escape(t["state"])}'
                f'<small>{html.escape(t["image"])}</small>{msg}</div>')

    cols = []
    for n in state["nodes"]:
        down = "" if n["state"] == "ready" else " down"
        cols.append(
            f'<div class="node{down}"><h2>{html.escape(n["hostname"])}</h2>'
            f'<div class="meta">{html.escape(n["role"])} · {html.escape(n["state"])} · {html.escape(n["availability"])}'
            f' · {html.escape(n["address"])} · {n["memoryMiB"]} MiB · {html.escape(n["architecture"])}</div>'
            + "".join(task_html(t) for t in n["tasks"]) + "</div>")
    if state["unassigned"]:
        cols.append('<div class="node"><h2>not placed</h2><div class="meta">no node can take these tasks yet</div>'
                    + "".join(task_html(t) for t in state["unassigned"]) + "</div>")
    return page("".join(cols))


def page(body):
    return (f'<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">'
            f'<title>Fridge swarm</title><style>{STYLE}</style></head><body><h1>Fridge swarm</h1>'
            f'<div class="grid">{body}</div></body></html>')


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, status, ctype, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/-/healthy":
            return self.reply(200, "text/plain", "ok\n")
        want_json = self.path.startswith("/api/state")
        if self.path not in ("/", "/index.html") and not want_json:
            return self.reply(404, "text/plain", "not found\n")
        try:
            state = swarm_state()
        except ApiError as e:
            if want_json:
                return self.reply(503, "application/json", json.dumps({"error": str(e)}))
            return self.reply(503, "text/html; charset=utf-8", page(f'<div class="node"><h2>no swarm</h2>{html.escape(str(e))}</div>'))
        if want_json:
            return self.reply(200, "application/json", json.dumps(state))
        return self.reply(200, "text/html; charset=utf-8", render(state))

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("0.0.0.0", PORT), Handler).serve_forever()
