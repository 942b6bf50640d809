# pyinfra's take on `npx zx tasks/pi-setup.mjs` then `npx zx tasks/swarm.mjs`, for test/bench/side-by-side.ts:
# the same state as Fridge writes it, so that on a fridge Fridge has converged it changes nothing (the bench
# checks the results' grand total has no "Success" (changed) operation).
#
#   pyinfra -y test/bench/side-by-side/inventory.py test/bench/side-by-side/deploy.py
#
# Tuned for speed: one probe (a Command fact) per host for what pyinfra has no fact for, pyinfra's own
# operations where they fit (files.put, server.user_authorized_keys, server.user, apt.packages), shell
# commands planned from the probe elsewhere. Not pyinfra's operations for:
# - /etc/hosts and /etc/hostname: files.line and files.put replace the file (sed -i, mv); on the virtual fridge
#   both are bind mounts, which only take in-place writes (tee), as Fridge writes them;
# - the flink state directory: files.directory compares owner names, and uid 9999 has no name on the node
#   (stat says UNKNOWN), so it would "change" on every run;
# - the swarm: pyinfra has no swarm operation. Joins run at execution time (python.call), when the leader's
#   tokens exist; nothing is scheduled for a node already in the swarm.
import io
import json
import shlex

from pyinfra import config, host, inventory
from pyinfra.facts.deb import DebPackages
from pyinfra.facts.server import Command
from pyinfra.operations import apt, files, python, server

config.SUDO = True

d = host.data
user = d.get("ansible_user") or "pi"
net = d.get("fridge_network") or {}
iface = net.get("interface", "eth0")
prefix = net.get("prefix", 24)
router = net.get("router")
dns = net.get("dns") or []
static_ip = d.get("fridge_static_ip") or ""
state_dir = d.get("fridge_flink_state_dir") or "/mnt/fridge-state"
key_file = d.get("fridge_authorized_key_file") or f"{d.get('ansible_ssh_private_key_file')}.pub"
CGROUP_FLAGS = ["cgroup_enable=cpuset", "cgroup_memory=1", "cgroup_enable=memory"]
MEMORY_MIB = {"3B": 1024, "3B+": 1024, "4-1GB": 1024, "4-2GB": 2048, "4-4GB": 4096, "4-8GB": 8192,
              "5-2GB": 2048, "5-4GB": 4096, "5-8GB": 8192, "5-16GB": 16384, "virtual": 1024}
q = shlex.quote

PROBE = f"""
if [ -d /run/systemd/system ]; then echo init=systemd; else echo init=sysv; fi
echo "hostname=$(hostname)"
echo "etc_hostname=$(cat /etc/hostname 2>/dev/null)"
echo "etc_hosts=$(base64 -w0 < /etc/hosts)"
if command -v nmcli >/dev/null 2>&1 && nmcli -t -f RUNNING general 2>/dev/null | grep -q running; then echo style=networkmanager
elif command -v dhcpcd >/dev/null 2>&1; then echo style=dhcpcd; else echo style=none; fi
if [ -e /sys/class/net/{q(iface)} ]; then echo iface=1; else echo iface=0; fi
echo "addrs=$(ip -4 -o addr show dev {q(iface)} 2>/dev/null | awk '{{split($4,a,"/"); printf "%s ", a[1]}}')"
echo "state_dir=$(stat -c '%u:%g %a' {q(state_dir)} 2>/dev/null)"
echo "pwstatus=$(passwd -S {q(user)} 2>/dev/null | awk '{{print $2}}')"
c=; for f in /boot/firmware/cmdline.txt /boot/cmdline.txt; do if [ -f "$f" ]; then c=$f; break; fi; done
echo "cmdline_path=$c"
echo "cmdline=$(if [ -n "$c" ]; then head -n1 "$c"; fi)"
echo "proc_cmdline=$(cat /proc/cmdline)"
if [ -e /etc/docker/daemon.json ]; then echo "daemon_json=$(base64 -w0 < /etc/docker/daemon.json)"; else echo daemon_json=-; fi
if docker info >/dev/null 2>&1; then echo docker=1; else echo docker=0; fi
set -- $(docker info --format '{{{{.Swarm.LocalNodeState}}}} {{{{.Swarm.ControlAvailable}}}} {{{{.Swarm.NodeID}}}}' 2>/dev/null)
echo "swarm=${{1:-absent}}"
echo "control=${{2:-false}}"
echo "node_id=${{3:-}}"
"""


def kv(text):
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


p = kv(host.get_fact(Command, PROBE))
systemd = p["init"] == "systemd"


def b64(s):
    import base64

    return base64.b64decode(s).decode() if s else ""


def restart_docker():
    start = "systemctl restart docker" if systemd else "service docker restart"
    return f"{start}\ni=0; until docker info >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 60 ] || exit 1; sleep 1; done"


# --- system: hostname, static address, flink state directory ----------------------------------------------
name = host.name
hosts_lines = b64(p["etc_hosts"]).split("\n")
if hosts_lines and hosts_lines[-1] == "":
    hosts_lines.pop()
i = next((k for k, line in enumerate(hosts_lines) if (line.split() or [""])[0] == "127.0.1.1"), None)
if i is None:
    hosts_lines.append(f"127.0.1.1\t{name}")
elif hosts_lines[i].split()[1:] != [name]:
    hosts_lines[i] = f"127.0.1.1\t{name}"
hosts_wanted = "\n".join(hosts_lines) + "\n"
hostname_cmds = []
if hosts_wanted != b64(p["etc_hosts"]):
    hostname_cmds.append(f"printf %s {q(hosts_wanted)} > /etc/hosts")
if p["etc_hostname"].strip() != name:
    hostname_cmds.append(f"echo {q(name)} > /etc/hostname")
if p["hostname"] != name:
    hostname_cmds.append(f"hostnamectl set-hostname {q(name)}" if systemd else f"hostname {q(name)}")
    if p["docker"] == "1":
        hostname_cmds.append(restart_docker())
if hostname_cmds:
    server.shell(name="hostname", commands=hostname_cmds)

if static_ip:
    if p["iface"] != "1":
        python.raise_exception(RuntimeError, f"interface {iface} not found", name="static address")
    has = static_ip in p["addrs"].split()
    if p["style"] == "dhcpcd":
        block = [f"interface {iface}", f"static ip_address={static_ip}/{prefix}"]
        if router:
            block.append(f"static routers={router}")
        if dns:
            block.append(f"static domain_name_servers={' '.join(dns)}")
        files.block(name="static address (dhcpcd)", path="/etc/dhcpcd.conf", content="\n".join(block), marker="# {mark}",
                    begin="BEGIN fridge static address (managed by pi-setup)", end="END fridge static address")
    elif p["style"] == "networkmanager":
        keyfile = "\n".join([
            "# Managed by Fridge pi-setup: static address from the inventory.", "[connection]", f"id=fridge-{iface}",
            "type=ethernet", f"interface-name={iface}", "autoconnect=true", "autoconnect-priority=100", "", "[ipv4]",
            "method=manual", f"address1={static_ip}/{prefix}{f',{router}' if router else ''}",
            *([f"dns={';'.join(dns)};"] if dns else []), "", "[ipv6]", "method=auto",
        ]) + "\n"
        nm = files.put(name="static address (NetworkManager)", src=io.StringIO(keyfile), mode="600",
                       dest=f"/etc/NetworkManager/system-connections/fridge-{iface}.nmconnection")
        server.shell(name="reload NetworkManager", commands=["nmcli connection reload"], _if=nm.did_change)
    if p["style"] != "none" and not has:
        server.shell(name="static address live", commands=[f"ip addr add {q(f'{static_ip}/{prefix}')} dev {q(iface)}"])

if p["state_dir"] != "9999:9999 775":
    server.shell(name="flink state directory",
                 commands=[f"mkdir -p {q(state_dir)} && chown 9999:9999 {q(state_dir)} && chmod 775 {q(state_dir)}"])

# --- ssh hardening ------------------------------------------------------------------------------------------
with open(key_file) as f:
    public_key = f.read().strip()
server.user_authorized_keys(name="ssh authorized key", user=user, group=user, public_keys=[public_key])
dropin = files.put(
    name="ssh password login off",
    src=io.StringIO("# Managed by Fridge pi-setup: key login only.\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"),
    dest="/etc/ssh/sshd_config.d/00-fridge.conf", mode="644", user="root", group="root",
)
server.shell(name="reload sshd", commands=[f"sshd -t && {'systemctl reload ssh' if systemd else 'service ssh reload'}"],
             _if=dropin.did_change)
if p["pwstatus"] not in ("L", "NP"):
    server.shell(name="lock default password", commands=[f"usermod -L {q(user)}"])

# --- docker engine ------------------------------------------------------------------------------------------
packages = host.get_fact(DebPackages)
if not any(pkg in packages for pkg in ("docker.io", "docker-ce", "moby-engine")):
    apt.update(name="apt update")
apt.packages(name="docker engine installed", packages=["docker.io", "ca-certificates"], no_recommends=True)
server.user(name="docker group", user=user, groups=["docker"], append=True)

current = {} if p["daemon_json"] in ("-", "") or not b64(p["daemon_json"]).strip() else json.loads(b64(p["daemon_json"]))
wanted = dict(current)
pull = d.get("fridge_registry_pull") or d.get("fridge_registry") or "docker.io"
insecure = bool(d.get("fridge_registry_insecure"))


def union(key, values):
    have = [v for v in wanted.get(key, []) if isinstance(v, str)] if isinstance(wanted.get(key), list) else []
    merged = have + [v for v in values if v not in have]
    if merged:
        wanted[key] = merged


if insecure:
    union("insecure-registries", [pull])
if pull != "docker.io":
    union("registry-mirrors", [f"{'http' if insecure else 'https'}://{pull}"])
if wanted != current or (p["daemon_json"] == "-" and wanted):
    files.put(name="docker daemon.json", src=io.StringIO(json.dumps(wanted, indent=2) + "\n"), dest="/etc/docker/daemon.json")
    if p["docker"] == "1":
        server.shell(name="restart docker", commands=[restart_docker()])

if p["docker"] != "1":
    start = "systemctl enable --now docker" if systemd else "service docker start"
    server.shell(name="docker running",
                 commands=[f"{start}\ni=0; until docker info >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 60 ] || exit 1; sleep 1; done"])

if p["cmdline_path"]:
    tokens = p["cmdline"].split()
    missing = [f for f in CGROUP_FLAGS if f not in tokens]
    if missing:
        files.put(name="cgroup memory flags", src=io.StringIO(" ".join(tokens + missing) + "\n"), dest=p["cmdline_path"])
    if not d.get("fridge_virtual") and not all(f in p["proc_cmdline"].split() for f in CGROUP_FLAGS):
        server.reboot(name="reboot for cgroup flags")

# --- swarm --------------------------------------------------------------------------------------------------
leader = inventory.get_host(d.get("fridge_leader"))
addr = static_ip or d.get("ssh_hostname")

if host is leader or host.name == leader.name:
    if p["swarm"] == "inactive":
        server.shell(name="swarm init", commands=[f"docker swarm init --advertise-addr {q(addr)}"])
    elif p["swarm"] != "active" or p["control"] != "true":
        python.raise_exception(RuntimeError, f"swarm state on {host.name} is {p['swarm']} (control {p['control']})", name="swarm init")
else:
    leader_ids = leader.get_fact(Command, "docker node ls -q 2>/dev/null || true").split()
    if p["swarm"] == "active" and p["node_id"] not in leader_ids:
        python.raise_exception(RuntimeError, f"{host.name} is in another swarm: reset it", name="swarm join")
    elif p["swarm"] not in ("active", "inactive"):
        python.raise_exception(RuntimeError, f"swarm state on {host.name} is {p['swarm']}", name="swarm join")
    elif p["swarm"] == "inactive":
        role = d.get("fridge_role")
        lead_addr = f"{leader.data.get('fridge_static_ip') or leader.data.get('ssh_hostname')}:2377"

        # pyinfra passes (state, host) to a function that names them: the host it runs for.
        def join(state, host, role=role, lead_addr=lead_addr, addr=addr):
            ok, out = leader.run_shell_command(f"docker swarm join-token -q {role}", _sudo=True)
            if not ok:
                raise RuntimeError(f"cannot read the {role} join token from {leader.name}")
            token = out.stdout_lines[0].strip()
            ok, out = host.run_shell_command(
                f"docker swarm join --advertise-addr {q(addr)} --token \"$(cat)\" {q(lead_addr)}", _sudo=True, _stdin=token + "\n"
            )
            if not ok:
                raise RuntimeError(f"swarm join failed on {host.name}: {out.output}")

        python.call(name="swarm join", function=join)

# Roles and labels, from the leader: planned from its node list at prepare time; on a run that joins nodes, the
# list is read again at execution time (after the joins: this operation comes after them in every host's order).
if host.name == leader.name:
    FORMAT = "{{.ID}}|{{.Description.Hostname}}|{{.Spec.Role}}|{{json .Spec.Labels}}|{{.Status.State}}|{{.Spec.Availability}}"
    NODES = f"docker node ls -q 2>/dev/null | xargs -r docker node inspect --format {q(FORMAT)}"

    def wanted_labels(h):
        hd = inventory.get_host(h).data
        model = str(hd.get("fridge_model") or ("virtual" if hd.get("fridge_virtual") else "3B"))
        extra = {k: str(v) for k, v in (hd.get("fridge_labels") or {}).items()}
        return {**extra, "model": model, "memory": str(MEMORY_MIB[model]), "role": hd.get("fridge_role")}

    def node_commands(lines):
        nodes = [line.split("|") for line in lines if line.count("|") == 5]
        cmds, missing = [], []
        for h in [x.name for x in inventory]:
            mine = [n for n in nodes if n[1] == h]
            node = next((n for n in mine if n[4] == "ready"), mine[0] if mine else None)
            if not node:
                missing.append(h)
                continue
            want = wanted_labels(h)
            if node[2] != want["role"]:
                cmds.append(f"docker node {'promote' if want['role'] == 'manager' else 'demote'} {q(node[0])}")
            have = json.loads(node[3]) or {}
            args = [f"--label-add {q(f'{k}={v}')}" for k, v in want.items() if have.get(k) != v]
            if args:
                cmds.append(f"docker node update {' '.join(args)} {q(node[0])}")
            cmds += [f"docker node rm --force {q(n[0])}" for n in mine if n is not node and n[4] != "ready"]
        return cmds, missing

    def apply_nodes(state, host):
        ok, out = host.run_shell_command(NODES, _sudo=True)
        cmds, missing = node_commands(out.stdout_lines if ok else [])
        if missing:
            raise RuntimeError(f"not in the swarm: {', '.join(missing)}")
        for c in cmds:
            ok, out = host.run_shell_command(c, _sudo=True)
            if not ok:
                raise RuntimeError(f"{c}: {out.output}")

    now = host.get_fact(Command, NODES).splitlines() if p["swarm"] == "active" else []
    cmds, missing = node_commands(now)
    if cmds or missing:
        python.call(name="swarm nodes", function=apply_nodes)
    # swarm nodes ready: read-only. On a converged fridge it is checked here, at prepare time (an operation would
    # count as a change); after joins the nodes settle while the leader works on.
    if not missing:
        ready = host.get_fact(Command, "docker node ls --format '{{.Hostname}} {{.Status}} {{.Availability}}'").splitlines()
        bad = [h.name for h in inventory if f"{h.name} Ready Active" not in ready]
        if bad:
            python.raise_exception(RuntimeError, f"not Ready/Active: {', '.join(bad)}", name="swarm nodes ready")
