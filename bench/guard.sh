#!/usr/bin/env bash
# Benchmarks of `rempart guard` against its peers, in one run:
#  1. matching: a realistic Debian sshd log of 1,000,000 lines through fail2ban-regex (Debian's
#     fail2ban), fail2ban-rs (`cargo install fail2ban-rs`) and `rempart guard test`: lines per
#     second (wall clock), CPU seconds, peak memory, and matched-line counts that must agree;
#  2. latency: a failure line appended to a followed log until the address is in the nftables
#     set (the daemon in a network namespace, `nft monitor` timing the kernel event);
#  3. restore: 100,000 saved bans put back at start;
#  4. memory: the idle daemon with the guides' jails, and under a flood of 1,000,000 distinct
#     attacking addresses.
# Needs root (namespaces, nftables), python3, and network access to Debian and crates.io for the
# peers. Prints a table and the ratios. Usage: bench/guard.sh [LINES]   (default 1000000)
# BENCH_ONLY=matching or BENCH_ONLY=daemon runs one half.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
LINES=${1:-1000000}
WORK=${BENCH_DIR:-/tmp/rempart-bench}
mkdir -p "$WORK"
export DEBIAN_FRONTEND=noninteractive

log() { printf '\n== %s\n' "$*" >&2; }

# --- peers -------------------------------------------------------------------------------
if ! command -v fail2ban-regex >/dev/null; then
  log "installing fail2ban (Debian)"
  apt-get -q -y update >/dev/null || true
  apt-get -q -y install --no-install-recommends fail2ban >/dev/null \
    || apt-get -q -y install --no-install-recommends fail2ban >/dev/null
fi
F2BRS="$WORK/peers/bin/fail2ban-rs"
if [ ! -x "$F2BRS" ]; then
  log "installing fail2ban-rs from crates.io"
  CARGO_TARGET_DIR="$WORK/peers-target" cargo install --quiet fail2ban-rs --root "$WORK/peers" \
    || { echo "fail2ban-rs did not build; see the cargo output above" >&2; F2BRS=""; }
fi
log "building rempart (release)"
cargo build --quiet --release -p rempart
REMPART="$ROOT/target/release/rempart"

# --- 1. matching ---------------------------------------------------------------------------
# BENCH_ONLY=daemon skips this part (BENCH_ONLY=matching skips the daemon part).
if [ "${BENCH_ONLY:-}" != daemon ]; then
LOG="$WORK/auth-$LINES.log"
[ -s "$LOG" ] || { log "generating $LINES lines"; python3 bench/gen-sshd-log.py "$LINES" > "$LOG"; }

# run NAME RUNS CMD...: best wall time of RUNS runs; prints "wall cpu maxrss_kb" and keeps the
# last run's output in $WORK/NAME.out
run() {
  local name=$1 runs=$2; shift 2
  local best=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %U %S %M' -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2>&1
    read -r wall user sys rss < "$WORK/$name.time"
    cpu=$(python3 -c "print(round($user+$sys,3))")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $wall < ${best%% *} else 1)"; then
      best="$wall $cpu $rss"
    fi
  done
  echo "$best"
}

cat > "$WORK/f2brs.toml" <<EOF
[global]
state_file = "$WORK/f2brs-state.bin"
socket_path = "$WORK/f2brs.sock"
log_level = "warn"

[jail.sshd]
enabled = true
log_path = "$LOG"
date_format = "syslog"
filter = [
    'sshd\[\d+\]: Failed password for .* from <HOST> port \d+',
    'sshd\[\d+\]: Invalid user .* from <HOST> port \d+',
    'sshd\[\d+\]: Connection closed by authenticating user .* <HOST> port \d+',
    'sshd\[\d+\]: Disconnected from authenticating user .* <HOST> port \d+',
]
max_retry = 5
find_time = "10m"
ban_time = "1h"
ignoreip = []
ignoreself = false
[jail.sshd.backend.script]
ban_cmd = "true"
unban_cmd = "true"
EOF

log "rempart guard test (best of 5)"
R=$(run rempart 5 "$REMPART" guard test sshd "$LOG" --show none)
R_M=$(grep -o 'matched: [0-9]*' "$WORK/rempart.out" | grep -o '[0-9]*')
if [ -n "$F2BRS" ]; then
  log "fail2ban-rs dry-run (best of 5)"
  S=$(run f2brs 5 "$F2BRS" -c "$WORK/f2brs.toml" dry-run "$LOG")
  S_M=$(grep -o 'Matches: *[0-9]*' "$WORK/f2brs.out" | grep -o '[0-9]*' | head -1)
fi
log "fail2ban-regex (one run: it is slow)"
F=$(run f2b 1 fail2ban-regex "$LOG" /etc/fail2ban/filter.d/sshd.conf)
F_M=$(grep -o '[0-9]* matched' "$WORK/f2b.out" | grep -o '[0-9]*' | head -1)

python3 - "$LINES" "$R" "$R_M" "${S:-}" "${S_M:-}" "$F" "$F_M" <<'EOF'
import sys
lines = int(sys.argv[1])
def row(name, t, m):
    if not t:
        return None
    wall, cpu, rss = (float(x) for x in t.split())
    return dict(name=name, wall=wall, cpu=cpu, rss=rss / 1024, m=int(m or -1),
                lps=lines / wall, lpc=lines / max(cpu, 1e-9))
rows = [r for r in (row("rempart guard test", sys.argv[2], sys.argv[3]),
                    row("fail2ban-rs dry-run", sys.argv[4], sys.argv[5]),
                    row("fail2ban-regex", sys.argv[6], sys.argv[7])) if r]
print(f"\n{'tool':<22}{'lines/s (wall)':>16}{'lines/CPU-s':>14}{'CPU s':>8}{'peak MB':>9}{'matched':>10}")
for r in rows:
    print(f"{r['name']:<22}{r['lps']:>16,.0f}{r['lpc']:>14,.0f}{r['cpu']:>8.2f}{r['rss']:>9.1f}{r['m']:>10}")
ours = rows[0]
for r in rows[1:]:
    print(f"rempart vs {r['name']}: {ours['lps']/r['lps']:.1f}x throughput (wall), "
          f"{ours['lpc']/r['lpc']:.1f}x per CPU second, {r['rss']/ours['rss']:.1f}x less memory")
counts = {r['m'] for r in rows}
print("matched-line counts agree" if len(counts) == 1 else f"MATCHED COUNTS DIFFER: {counts}")
EOF

fi
[ "${BENCH_ONLY:-}" = matching ] && exit 0

# --- daemon benchmarks (root, nftables, a namespace) ---------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null; then
  echo "skipping daemon benchmarks: they need root and nftables" >&2
  exit 0
fi
NS=rgbench$$
cleanup() { ip netns del "$NS" 2>/dev/null || true; [ -n "${DPID:-}" ] && kill "$DPID" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$NS"
ip -n "$NS" link set lo up

D="$WORK/daemon"
rm -rf "$D"; mkdir -p "$D"
daemon_config() { # $1 = extra jail lines
  cat > "$D/guard.toml" <<EOF
[global]
state_dir = "$D/state"
socket = "$D/guard.sock"
allow_self = false
max_tracked = 50000
[jail.sshd]
filter = "sshd"
logpath = ["$D/auth.log"]
$1
EOF
}
start_daemon() {
  : > "$D/daemon.log"
  ip netns exec "$NS" "$REMPART" guard run --config "$D/guard.toml" --log-format json 2>"$D/daemon.log" &
  DPID=$!
  for _ in $(seq 500); do [ -S "$D/guard.sock" ] && return 0; sleep 0.01; done
  echo "daemon did not start: $(cat "$D/daemon.log")" >&2; exit 1
}
stop_daemon() { kill "$DPID"; wait "$DPID" 2>/dev/null || true; DPID=""; }

log "latency: appended line -> address in the nftables set (maxretry 1, 300 bans)"
daemon_config 'maxretry = 1
bantime = "1h"'
: > "$D/auth.log"
start_daemon
python3 - "$NS" "$D/auth.log" <<'EOF'
import subprocess, sys, time, threading, re
ns, path = sys.argv[1], sys.argv[2]
mon = subprocess.Popen(["ip", "netns", "exec", ns, "nft", "monitor", "new", "elements"],
                       stdout=subprocess.PIPE, text=True, bufsize=1)
seen = {}
def reader():
    for line in mon.stdout:
        t = time.perf_counter()
        for ip in re.findall(r"(10\.9\.\d+\.\d+)", line):
            seen.setdefault(ip, t)
threading.Thread(target=reader, daemon=True).start()
time.sleep(0.5)
sent = {}
with open(path, "a", buffering=1) as f:
    for i in range(300):
        ip = "10.9.%d.%d" % (i // 250, i % 250 + 1)
        stamp = time.strftime("%b %e %H:%M:%S")
        sent[ip] = time.perf_counter()
        f.write(f"{stamp} bench sshd[{1000+i}]: Failed password for invalid user x from {ip} port 22 ssh2\n")
        f.flush()
        time.sleep(0.02)
deadline = time.time() + 5
while len(seen) < len(sent) and time.time() < deadline:
    time.sleep(0.05)
mon.terminate()
lat = sorted((seen[ip] - t0) * 1000 for ip, t0 in sent.items() if ip in seen)
if not lat:
    print("latency: no ban observed"); sys.exit(0)
def pct(p): return lat[min(len(lat) - 1, int(p / 100 * len(lat)))]
print(f"latency over {len(lat)}/{len(sent)} bans: p50 {pct(50):.1f} ms, p99 {pct(99):.1f} ms, max {lat[-1]:.1f} ms")
EOF
stop_daemon

log "restore: 100,000 saved bans at start"
python3 - "$D/state/bans.json" <<'EOF'
import json, sys, time
now = time.time()
at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 7200))
bans = []
for i in range(90000):
    bans.append({"jail": "sshd", "target": "11.%d.%d.%d" % (i >> 16, (i >> 8) & 255, i & 255),
                 "at": at, "until": until, "count": 1, "ports": []})
for i in range(10000):
    bans.append({"jail": "sshd", "target": "2001:db8:%x:%x::/64" % (i >> 8, i & 255),
                 "at": at, "until": until, "count": 1, "ports": []})
json.dump(bans, open(sys.argv[1], "w"))
EOF
T0=$(date +%s.%N)
start_daemon
T1=$(date +%s.%N)
N4=$(ip netns exec "$NS" nft list set inet rempart ban4 | grep -o '11\.[0-9.]*' | wc -l)
N6=$(ip netns exec "$NS" nft list set inet rempart ban6net | grep -o '2001:db8:[0-9a-f:]*/64' | wc -l)
python3 -c "print(f'restore: {$N4 + $N6} bans in the sets, daemon ready {($T1 - $T0):.2f} s after exec')"
stop_daemon
rm -f "$D/state/bans.json"

log "idle memory with the guides' jails"
sed -e "s#/var/lib/rempart/guard#$D/state#; s#/run/rempart/guard.sock#$D/guard.sock#" \
    -e "s#/var/log/#$D/logs/#g" -e 's#^metrics_listen.*##' \
    -e 's#^journal = .*#logpath = ["'"$D"'/logs/auth.log"]#' dist/guard.toml > "$D/guard.toml"
mkdir -p "$D/logs/apache2" "$D/logs/traefik" "$D/logs/postgresql"
: > "$D/logs/auth.log"; : > "$D/logs/apache2/error.log"; : > "$D/logs/traefik/access.log"
: > "$D/logs/postgresql/postgresql-15-main.log"
start_daemon
sleep 3
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$DPID/status")
echo "idle daemon (8 jails): VmRSS $((RSS / 1024)).$(( (RSS % 1024) * 10 / 1024 )) MB"
stop_daemon

log "flood: 1,000,000 distinct attacking addresses (maxretry 5: counted, none banned)"
daemon_config 'maxretry = 5
findtime = "1h"'
: > "$D/auth.log"
start_daemon
python3 - "$D/auth.log" "$DPID" <<'EOF'
import sys, time
path, pid = sys.argv[1], sys.argv[2]
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1]) / 1024
peak = 0
stamp = time.strftime("%b %e %H:%M:%S")
with open(path, "a") as f:
    for chunk in range(20):
        lines = []
        for i in range(chunk * 50000, (chunk + 1) * 50000):
            ip = "%d.%d.%d.%d" % (20 + (i >> 24), (i >> 16) & 255, (i >> 8) & 255, i & 255 or 1)
            lines.append(f"{stamp} bench sshd[{i}]: Failed password for invalid user x from {ip} port 22 ssh2\n")
        f.write("".join(lines)); f.flush()
        time.sleep(0.3)
        peak = max(peak, rss())
time.sleep(2)
peak = max(peak, rss())
print(f"flood: peak VmRSS {peak:.1f} MB while 1,000,000 addresses failed once each; {rss():.1f} MB after")
EOF
ip netns exec "$NS" "$REMPART" guard status --config "$D/guard.toml" | sed -n '3,5p'
stop_daemon
