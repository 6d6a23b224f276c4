#!/usr/bin/env bash
# Benchmark: `rempart probe --ports` against `nmap -sT -p-` on the same target, in the same run.
# The target is a network namespace behind a veth pair whose nftables input chain drops every
# port but 22, 80, 443 and 8080 (listeners on 22, 80, 8080 and 5432): 65531 ports never answer,
# the slow case for a connect scan. Both tools scan all 65535 ports from a second namespace;
# the open ports they find are compared, then the wall times and their ratio are printed.
# Needs root (namespaces). Usage: bench/probe-ports.sh [RUNS] [NMAP_TIMING]
# (NMAP_TIMING: 3 = nmap's default, 4 = -T4 "aggressive"; default: both).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-3}
TIMINGS=${2:-"3 4"}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q -y install "${missing[@]}" >/dev/null || { apt-get -q update >/dev/null; apt-get -q -y install "${missing[@]}" >/dev/null; }
}
apt_install nmap nftables iproute2 time jq python3

cargo build --release -q -p rempart
BIN=$PWD/target/release/rempart
T=bp$$
TGT=${T}t SCN=${T}s
tmp=$(mktemp -d)
cleanup() {
  [ -n "${LPID:-}" ] && kill "$LPID" 2>/dev/null || true
  ip netns del "$TGT" 2>/dev/null || true
  ip netns del "$SCN" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

ip netns add "$TGT"; ip netns add "$SCN"
ip link add "${T}a" netns "$SCN" type veth peer name "${T}b" netns "$TGT"
ip -n "$SCN" addr add 10.213.7.1/30 dev "${T}a"; ip -n "$TGT" addr add 10.213.7.2/30 dev "${T}b"
for ns in "$SCN" "$TGT"; do ip -n "$ns" link set lo up; done
ip -n "$SCN" link set "${T}a" up; ip -n "$TGT" link set "${T}b" up
ip netns exec "$TGT" nft -f - <<'NFT'
table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    ct state established,related accept
    iif lo accept
    tcp dport { 22, 80, 443, 8080 } accept
  }
}
NFT
ip netns exec "$TGT" /usr/bin/python3 -c '
import socket, time
s = []
for p in (22, 80, 8080, 5432):
    x = socket.socket(); x.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    x.bind(("0.0.0.0", p)); x.listen(1024); s.append(x)
print("ready", flush=True)
time.sleep(86400)' >"$tmp/listen" &
LPID=$!
for _ in $(seq 50); do grep -q ready "$tmp/listen" 2>/dev/null && break; sleep 0.1; done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
wall() { /usr/bin/time -f "%e" -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || true; tail -n1 "$tmp/t"; }

echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs each; target: 4 listeners behind an nftables drop policy"
: >"$tmp/r"
for _ in $(seq "$RUNS"); do
  wall ip netns exec "$SCN" "$BIN" probe --ports 10.213.7.2 --format json >>"$tmp/r"
done
r_open=$(jq -r '.findings[0].evidence[] | select(.key == "open ports") | .actual' "$tmp/out")
r_msg=$(jq -r '.findings[0].message' "$tmp/out")
rw=$(median <"$tmp/r")
printf '%-34s %8.2f s   open: %s\n' "rempart probe --ports (all)" "$rw" "$r_open"
echo "  $r_msg"

for t in $TIMINGS; do
  : >"$tmp/n"
  for _ in $(seq "$RUNS"); do
    wall ip netns exec "$SCN" nmap -sT -p- -Pn -n -T"$t" -oG - 10.213.7.2 >>"$tmp/n"
  done
  n_open=$(grep -o '[0-9]*/open' "$tmp/out" | cut -d/ -f1 | paste -sd, | sed 's/,/, /g')
  nw=$(median <"$tmp/n")
  printf '%-34s %8.2f s   open: %s\n' "nmap -sT -p- -Pn -T$t" "$nw" "$n_open"
  if [ "$n_open" != "$r_open" ]; then echo "  DISAGREEMENT: rempart found [$r_open], nmap [$n_open]"; fi
  echo "  ratio: rempart is $(awk -v a="$nw" -v b="$rw" 'BEGIN { printf "%.1f", a / b }')x faster than nmap -T$t"
done
