# pyinfra inventory for test/bench/side-by-side.ts: the virtual fridge's Ansible-shaped inventory
# (.fridge/sim/inventory.yaml, or $FRIDGE_BENCH_INVENTORY), read as Ansible reads it (all.vars, then the
# groups' vars, then the host's), one pyinfra group per Ansible group (managers, workers), every variable
# passed on as host data (host.data.fridge_static_ip, ...) plus pyinfra's SSH settings.
# Host keys: accepted on first use into $FRIDGE_BENCH_KNOWN_HOSTS (the bench's own file, emptied per bench run).
import os

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
SOURCE = os.environ.get("FRIDGE_BENCH_INVENTORY") or os.path.join(ROOT, ".fridge", "sim", "inventory.yaml")
KNOWN_HOSTS = os.environ.get("FRIDGE_BENCH_KNOWN_HOSTS") or os.path.join(ROOT, ".fridge", "bench", "known_hosts")

with open(SOURCE) as f:
    _doc = yaml.safe_load(f)

_hosts = {}  # name -> merged vars, in inventory order
_groups = {}  # group name -> [host names]


def _walk(name, group, inherited):
    group = group or {}
    merged = {**inherited, **(group.get("vars") or {})}
    members = _groups.setdefault(name, [])
    for host, hvars in (group.get("hosts") or {}).items():
        _hosts[host] = {**_hosts.get(host, {}), **merged, **(hvars or {})}
        members.append(host)
    for child, sub in (group.get("children") or {}).items():
        _walk(child, sub, merged)
        members.extend(h for h in _groups[child] if h not in members)


_walk("all", _doc.get("all"), {})


def _data(name):
    v = _hosts[name]
    return (
        name,
        {
            **v,
            "ssh_hostname": v.get("ansible_host", name),
            "ssh_port": int(v.get("ansible_port", 22)),
            "ssh_user": v.get("ansible_user", "pi"),
            "ssh_key": v.get("ansible_ssh_private_key_file"),
            "ssh_allow_agent": False,
            "ssh_look_for_keys": False,
            "ssh_known_hosts_file": KNOWN_HOSTS,
            "ssh_strict_host_key_checking": "accept-new",
            "fridge_role": "manager" if name in _groups.get("managers", []) else "worker",
            "fridge_leader": (_groups.get("managers") or list(_hosts))[0],
        },
    )


managers = [_data(h) for h in _groups.get("managers", [])]
workers = [_data(h) for h in _hosts if h not in _groups.get("managers", [])]
