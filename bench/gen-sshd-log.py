#!/usr/bin/env python3
"""Generates a realistic Debian sshd log (rsyslog's traditional format, /var/log/auth.log) for
bench/guard.sh: brute-force sessions from a few thousand IPv4 and IPv6 hosts (invalid users,
wrong passwords, PAM lines, preauth disconnects), scanners, legitimate logins, and other
daemons' lines. Deterministic (fixed seed). Usage: gen-sshd-log.py LINES > auth.log

Attack lines are only the kinds fail2ban's sshd filter (normal mode), fail2ban-rs's sshd filter
and rempart's sshd filter all count, so the three matched-line counts must agree."""
import random
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
rng = random.Random(20250614)
HOST = "web1"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

def v4():
    return "%d.%d.%d.%d" % (rng.choice([45, 61, 80, 103, 141, 159, 185, 193, 203, 218]),
                            rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))

def v6():
    return "2001:db8:%x:%x::%x" % (rng.randrange(65536), rng.randrange(65536), rng.randrange(1, 65536))

attackers = [v4() for _ in range(3000)] + [v6() for _ in range(600)]
users_ok = ["deploy", "alice", "backup"]
clients_ok = ["192.0.2.10", "192.0.2.11", "2001:db8:ffff::10"]
bad_users = ["admin", "test", "oracle", "ubuntu", "user", "postgres", "git", "ftpuser", "pi", "guest",
             "support", "hadoop", "tomcat", "jenkins", "minecraft", "steam", "nagios", ""]

t = int(time.mktime((2025, 6, 1, 0, 0, 0, 0, 0, -1)))
pid = 20000
out = []
write = out.append

def stamp():
    lt = time.localtime(t)
    return "%s %2d %02d:%02d:%02d" % (MONTHS[lt.tm_mon - 1], lt.tm_mday, lt.tm_hour, lt.tm_min, lt.tm_sec)

def sshd(p, msg):
    write("%s %s sshd[%d]: %s" % (stamp(), HOST, p, msg))

count = 0
while len(out) < N:
    t += rng.choice([0, 0, 0, 1, 1, 2])
    pid += 1
    r = rng.random()
    port = rng.randrange(1024, 65535)
    if r < 0.55:
        ip = rng.choice(attackers)
        user = rng.choice(bad_users)
        if rng.random() < 0.6:
            sshd(pid, "Invalid user %s from %s port %d" % (user, ip, port))
            for _ in range(rng.randrange(1, 4)):
                sshd(pid, "pam_unix(sshd:auth): check pass; user unknown")
                sshd(pid, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s" % ip)
                sshd(pid, "Failed password for invalid user %s from %s port %d ssh2" % (user, ip, port))
            if rng.random() < 0.5:
                sshd(pid, "Received disconnect from %s port %d:11: Bye Bye [preauth]" % (ip, port))
                sshd(pid, "Disconnected from invalid user %s %s port %d [preauth]" % (user, ip, port))
            else:
                sshd(pid, "Connection closed by invalid user %s %s port %d [preauth]" % (user, ip, port))
        else:
            for _ in range(rng.randrange(1, 4)):
                sshd(pid, "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=root" % ip)
                sshd(pid, "Failed password for root from %s port %d ssh2" % (ip, port))
            sshd(pid, "Connection closed by %s port %d [preauth]" % (ip, port))
    elif r < 0.75:
        ip = rng.choice(attackers)
        k = rng.randrange(4)
        if k == 0:
            sshd(pid, "error: kex_exchange_identification: Connection closed by remote host")
            sshd(pid, "Connection closed by %s port %d" % (ip, port))
        elif k == 1:
            sshd(pid, "banner exchange: Connection from %s port %d: invalid format" % (ip, port))
        elif k == 2:
            sshd(pid, "Unable to negotiate with %s port %d: no matching key exchange method found. Their offer: diffie-hellman-group1-sha1 [preauth]" % (ip, port))
        else:
            sshd(pid, "Connection reset by %s port %d [preauth]" % (ip, port))
    elif r < 0.9:
        ip = rng.choice(clients_ok)
        u = rng.choice(users_ok)
        sshd(pid, "Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:Qm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXg" % (u, ip, port))
        sshd(pid, "pam_unix(sshd:session): session opened for user %s(uid=1000) by (uid=0)" % u)
        write("%s %s systemd-logind[612]: New session %d of user %s." % (stamp(), HOST, pid, u))
        sshd(pid, "Received disconnect from %s port %d:11: disconnected by user" % (ip, port))
        sshd(pid, "Disconnected from user %s %s port %d" % (u, ip, port))
        sshd(pid, "pam_unix(sshd:session): session closed for user %s" % u)
    else:
        k = rng.randrange(3)
        if k == 0:
            write("%s %s CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)" % (stamp(), HOST, pid))
        elif k == 1:
            write("%s %s sudo[%d]:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update" % (stamp(), HOST, pid))
        else:
            write("%s %s systemd-logind[612]: Removed session %d." % (stamp(), HOST, pid))
    if len(out) >= 65536:
        sys.stdout.write("\n".join(out[:N - count]) + "\n")
        count += min(len(out), N - count)
        N_left = N - count
        out = []
        write = out.append
        if N_left <= 0:
            break
        N = N  # noqa
    if count >= N:
        break
if out and count < N:
    sys.stdout.write("\n".join(out[:N - count]) + "\n")
