#!/usr/bin/env bash
# rempart integrity vs Debian's AIDE, same file set, same run, warm page cache.
#
#   bench/integrity.sh                  # /usr, AIDE with its default single worker
#   FILESET=/usr/lib bench/integrity.sh
#   AIDE_ALL_CORES=1 bench/integrity.sh # also AIDE with num_workers=100%
#
# AIDE records p+i+l+n+u+g+s+m+c+acl+xattrs+ftype+sha256 (permissions, inode, link target,
# link count, owner, group, size, mtime, ctime, ACLs, xattrs, file type, SHA-256): what
# rempart's `content` preset records. rempart runs twice: with SHA-256 (the same hash) and with
# BLAKE3 (its default). Reported: wall time, CPU time (user + system), peak RSS (GNU time), and
# the ratios against AIDE. Run as root (both tools read every file).
set -euo pipefail

FILESET=${FILESET:-/usr}
WORK=${WORK:-/tmp/rempart-integrity-bench}
RUNS=${RUNS:-3}              # rempart runs per measurement (median reported)
AIDE_RUNS=${AIDE_RUNS:-1}    # AIDE takes minutes per run
REPO=$(cd "$(dirname "$0")/.." && pwd)
REMPART=${REMPART:-$REPO/target/release/rempart}

apt_install() {
    # apt-get can fail once on this image (a hook removes downloaded .debs): retry once.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}
command -v aide >/dev/null || apt_install aide
[ -x /usr/bin/time ] || apt_install time
if [ ! -x "$REMPART" ]; then
    (cd "$REPO" && cargo build --release -p rempart)
fi

rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"

aide_conf() { # $1 = workers
    cat <<CONF
database_in=file:$WORK/aide.db
database_out=file:$WORK/aide.db.new
gzip_dbout=yes
report_url=file:$WORK/aide-report.txt
num_workers=$1
Comparable = p+i+l+n+u+g+s+m+c+acl+xattrs+ftype+sha256
$FILESET Comparable
CONF
}
aide_conf 1 >aide-1.conf
aide_conf 100% >aide-all.conf
for h in sha256 blake3; do
    cat >"rempart-$h.toml" <<CONF
defaults = false
hash = "$h"
[[rule]]
path = "$FILESET"
attrs = ["content"]
CONF
done

# measure NAME RUNS CMD... -> appends "NAME wall cpu rss_kib" (median wall over RUNS)
measure() {
    local name=$1 runs=$2
    shift 2
    local results=()
    for _ in $(seq "$runs"); do
        # Exit status 1 (changes found) is fine; GNU time then writes a note before its line.
        /usr/bin/time -f '%e %U %S %M' -o "$WORK/$name.time" "$@" >/dev/null 2>"$WORK/$name.stderr" || true
        results+=("$(tail -n 1 "$WORK/$name.time")")
    done
    printf '%s\n' "${results[@]}" | sort -n -k1,1 | awk -v n="$name" -v r="$runs" \
        'NR == int((r + 1) / 2) { printf "%s %.2f %.2f %d\n", n, $1, $2 + $3, $4 }' >>results.txt
}

echo "file set: $FILESET ($(find "$FILESET" -xdev 2>/dev/null | wc -l) entries, $(du -sh "$FILESET" 2>/dev/null | cut -f1))"
echo "cpus: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "aide: $(aide --version 2>&1 | head -1); rempart: $("$REMPART" --version)"
echo "warming the page cache..."
find "$FILESET" -xdev -type f -print0 2>/dev/null | xargs -0 cat >/dev/null 2>&1 || true
: >results.txt

run_rempart() { # $1 = hash
    local h=$1
    rm -f "$WORK/rempart-$h.baseline"*
    local common=(--config "$WORK/rempart-$h.toml" --baseline "$WORK/rempart-$h.baseline" --key "$WORK/rempart.key" --color never)
    "$REMPART" integrity init "${common[@]}" --force >/dev/null # warm-up, creates the key
    measure "rempart-$h-init" "$RUNS" "$REMPART" integrity init "${common[@]}" --force
    measure "rempart-$h-check" "$RUNS" "$REMPART" integrity check "${common[@]}"
}

run_aide() { # $1 = conf suffix
    local c=$1
    rm -f aide.db aide.db.new
    measure "aide-$c-init" "$AIDE_RUNS" aide --init -c "aide-$c.conf"
    mv aide.db.new aide.db
    measure "aide-$c-check" "$AIDE_RUNS" aide --check -c "aide-$c.conf"
}

run_rempart sha256
run_rempart blake3
run_aide 1
if [ "${AIDE_ALL_CORES:-0}" = 1 ]; then run_aide all; fi
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
ls -l "$WORK"/aide.db "$WORK"/rempart-*.baseline | awk '{print "database size:", $5, $9}'

echo
echo "| run | wall s | CPU s | peak RSS MiB | AIDE wall / this | AIDE CPU / this | RSS vs AIDE |"
echo "|---|---:|---:|---:|---:|---:|---:|"
awk '
    { name[NR] = $1; wall[$1] = $2; cpu[$1] = $3; rss[$1] = $4; order[NR] = $1 }
    END {
        for (i = 1; i <= NR; i++) {
            n = order[i]; phase = (n ~ /init$/) ? "init" : "check"
            ref = "aide-1-" phase
            printf "| %s | %.2f | %.2f | %.0f | %.1fx | %.1fx | %.2f |\n", n, wall[n], cpu[n], rss[n] / 1024,
                wall[ref] / (wall[n] > 0 ? wall[n] : 0.01), cpu[ref] / (cpu[n] > 0 ? cpu[n] : 0.01), rss[n] / rss[ref]
        }
    }' results.txt
