#!/usr/bin/env bash
# Benchmark: `rempart audit` against `lynis audit system --quick` on this machine, in the same run.
# Reports wall time, CPU time, peak RSS and how many checks each ran, and the ratios.
# Needs root (both tools read root-only files). Usage: bench/audit.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}

apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q -y install "${missing[@]}" >/dev/null || { apt-get -q update >/dev/null; apt-get -q -y install "${missing[@]}" >/dev/null; }
}
apt_install lynis time jq

cargo build --release -q
BIN=$PWD/target/release/rempart
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# one measured run: prints "wall user sys maxrss_kb"
measure() {
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || true
  tail -n 1 "$tmp/t"
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2)? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "rempart $($BIN --version | cut -d' ' -f2), lynis $(lynis --version), $(nproc) cores, $RUNS runs each"
# rempart is too quick for time(1)'s 10 ms resolution: time LOOP runs at once and divide.
LOOP=50
: >"$tmp/r"
for _ in $(seq "$RUNS"); do
  t=$(measure bash -c "for i in \$(seq $LOOP); do $BIN audit --format json >/dev/null || true; done")
  rss=$(measure "$BIN" audit --format json | awk '{print $4}')
  echo "$t" | awk -v n="$LOOP" -v rss="$rss" '{printf "%.5f %.5f %.5f %s\n", $1/n, $2/n, $3/n, rss}' >>"$tmp/r"
done
"$BIN" audit --format json >"$tmp/report.json" || true
r_checks=$(jq '[.findings[] | select(.applicable and (.status == "pass" or .status == "fail"))] | length' "$tmp/report.json")
r_rules=$(jq '.findings | length' "$tmp/report.json")

: >"$tmp/l"
for _ in $(seq "$RUNS"); do
  measure lynis audit system --quick --no-colors --logfile "$tmp/lynis.log" --report-file "$tmp/lynis.dat" >>"$tmp/l"
done
l_checks=$(grep -m1 '^lynis_tests_done=' "$tmp/lynis.dat" | cut -d= -f2)

col() { awk -v c="$1" '{print $c}' "$2" | median; }
rw=$(col 1 "$tmp/r"); ru=$(col 2 "$tmp/r"); rs=$(col 3 "$tmp/r"); rm_=$(col 4 "$tmp/r")
lw=$(col 1 "$tmp/l"); lu=$(col 2 "$tmp/l"); ls_=$(col 3 "$tmp/l"); lm=$(col 4 "$tmp/l")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) b = 0.001; printf "%.0f", a / b }'; }

printf '\n%-28s %12s %12s %12s %14s\n' "" "wall (s)" "cpu (s)" "peak RSS" "checks"
printf '%-28s %12s %12.4f %9s KB %14s\n' "rempart audit" "$rw" "$(awk -v u="$ru" -v s="$rs" 'BEGIN{print u+s}')" "$rm_" "$r_checks judged ($r_rules rules)"
printf '%-28s %12s %12.2f %9s KB %14s\n' "lynis audit system --quick" "$lw" "$(awk -v u="$lu" -v s="$ls_" 'BEGIN{print u+s}')" "$lm" "$l_checks tests"
echo
echo "wall time: rempart is $(ratio "$lw" "$rw")x faster than lynis"
echo "cpu time:  rempart uses $(ratio "$(awk -v u="$lu" -v s="$ls_" 'BEGIN{print u+s}')" "$(awk -v u="$ru" -v s="$rs" 'BEGIN{print u+s}')")x less CPU"
echo "memory:    rempart peak RSS is $(awk -v a="$rm_" -v b="$lm" 'BEGIN{printf "%.2f", a/b}')x lynis's"
