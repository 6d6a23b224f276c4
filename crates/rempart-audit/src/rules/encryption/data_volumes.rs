//! ENC-DATA-VOLUMES: database data directories sit on an encrypted (dm-crypt/LUKS) volume.

use super::tables::{mount_of, parse_mountinfo, Volumes, FSTAB};
use crate::host::Host;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::database::Databases;

pub const RULE: Rule = Rule {
    id: "ENC-DATA-VOLUMES",
    name: "database-data-unencrypted-at-rest",
    family: Family::Encryption,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "Database data directories are on encrypted volumes",
    doc: RuleDoc {
        what: "For every database server found (its data directory, links resolved): on a live \
               host, the filesystem holding it (`/proc/self/mountinfo`) is a device-mapper \
               crypt device or stacked on one (`/sys/dev/block/MAJ:MIN/dm/uuid` starting with \
               `CRYPT-`, following `slaves/`, so LVM on LUKS counts). Under --root: the \
               `/etc/fstab` entry covering the directory mounts `/dev/mapper/NAME` for a NAME \
               of `/etc/crypttab`; a plain disk (`/dev/sdX`, `/dev/vdX`, `/dev/nvme...`) or a \
               host without crypttab fails; a UUID/LABEL/LVM device that files cannot resolve \
               is a skip. Device-less filesystems (overlay, tmpfs, btrfs subvolumes) are a \
               skip.",
        why: "A disk that leaves the host (a stolen server, a returned or resold drive, a \
              provider's snapshot) gives every row of the database to whoever holds it unless \
              the volume is encrypted.",
        remediation: "Move the data directory to a LUKS volume: cryptsetup luksFormat \
                      /dev/vdb; add `postgres_encrypted /dev/vdb /root/.koprogo-luks-key luks` \
                      to /etc/crypttab and `/dev/mapper/postgres_encrypted \
                      /var/lib/postgresql ext4 defaults 0 2` to /etc/fstab; stop the server, \
                      copy the data, mount, restart.",
        verify: "findmnt -T /var/lib/postgresql; lsblk -o NAME,TYPE,MOUNTPOINT; cryptsetup status postgres_encrypted",
        references: &[
            "seed 001 §1 Encryption at Rest (LUKS): postgres_encrypted and uploads_encrypted volumes",
            "seed 000 §4 Chiffrement au repos (« Données en base PostgreSQL NON chiffrées »)",
            "seed 000 Recommandations: Entreprise (données sensibles)",
        ],
    },
    check,
};

enum Verdict {
    Encrypted,
    Plain(Evidence),
    Unknown(String),
}

fn check(ctx: &Ctx) -> Outcome {
    let dbs = ctx.fact::<Databases>();
    let dirs: Vec<(String, String)> = dbs
        .servers
        .iter()
        .filter_map(|s| s.data_dir.clone().map(|d| (s.label(), d)))
        .collect();
    if dirs.is_empty() {
        return Outcome::not_applicable("no database server found");
    }
    let vols = ctx.fact::<Volumes>();
    if !ctx.host.is_live() {
        if let Some(e) = vols.crypttab_error.as_ref().or(vols.fstab_error.as_ref()) {
            return Outcome::from(e.clone());
        }
    }
    let mut plain = Vec::new();
    let mut unknown = Vec::new();
    let mut ok = Vec::new();
    for (label, dir) in dirs {
        let real = match ctx.host.canonical(&dir) {
            Ok(r) => r,
            Err(e) => return Outcome::from(e),
        };
        let verdict = if ctx.host.is_live() {
            judge_live(ctx.host, &real)
        } else {
            judge_files(&vols, &real)
        };
        match verdict {
            Verdict::Encrypted => ok.push(label),
            Verdict::Plain(ev) => plain.push(ev.note(format!("{label} data in {real}"))),
            Verdict::Unknown(why) => unknown.push(format!("{label}: {why}")),
        }
    }
    if !plain.is_empty() {
        return Outcome::fail("database data sits on an unencrypted volume").with_all(plain);
    }
    if !unknown.is_empty() {
        return Outcome::skip(unknown.join("; "));
    }
    Outcome::pass(format!("data of {} is on encrypted volumes", ok.join(", ")))
}

fn judge_files(vols: &Volumes, dir: &str) -> Verdict {
    let Some(m) = mount_of(dir, &vols.fstab, |e| &e.mount_point) else {
        return Verdict::Unknown(format!("no {FSTAB} entry covers {dir}"));
    };
    let names: Vec<&str> = vols
        .crypttab
        .iter()
        .flatten()
        .map(|e| e.name.as_str())
        .collect();
    let mapped = m
        .spec
        .strip_prefix("/dev/mapper/")
        .or_else(|| m.spec.strip_prefix("/dev/disk/by-id/dm-name-"));
    if mapped.is_some_and(|n| names.contains(&n)) {
        return Verdict::Encrypted;
    }
    let ev = Evidence::file(FSTAB)
        .line(m.line)
        .snippet(&m.text)
        .key(m.mount_point.clone())
        .actual(m.spec.clone())
        .expected("/dev/mapper/<crypttab name>");
    let raw_disk = [
        "/dev/sd",
        "/dev/vd",
        "/dev/xvd",
        "/dev/hd",
        "/dev/nvme",
        "/dev/mmcblk",
    ]
    .iter()
    .any(|p| m.spec.starts_with(p));
    let is_crypt_source = vols.crypttab.iter().flatten().any(|e| e.device == m.spec);
    if names.is_empty() || raw_disk || is_crypt_source {
        return Verdict::Plain(ev);
    }
    Verdict::Unknown(format!(
        "{FSTAB}:{} mounts {} on {}; whether it is stacked on a crypttab volume shows only on the live host",
        m.line, m.spec, m.mount_point
    ))
}

/// True when the block device at `sys` (a sysfs directory) is a dm-crypt device or stacked on
/// one; `None` when sysfs does not say.
fn is_crypt(host: &Host, sys: &str, depth: u32) -> Option<bool> {
    if depth > 8 {
        return Some(false);
    }
    if let Ok(Some(uuid)) = host.read_text(&format!("{sys}/dm/uuid")) {
        if uuid.text.trim().starts_with("CRYPT-") {
            return Some(true);
        }
    }
    let slaves = match host.read_dir(&format!("{sys}/slaves")) {
        Ok(Some(s)) => s,
        Ok(None) => return host.exists(sys).then_some(false),
        Err(_) => return None,
    };
    for s in slaves {
        if is_crypt(host, &format!("/sys/class/block/{s}"), depth + 1) == Some(true) {
            return Some(true);
        }
    }
    Some(false)
}

fn judge_live(host: &Host, dir: &str) -> Verdict {
    let text = match host.read_text("/proc/self/mountinfo") {
        Ok(Some(f)) => f.text,
        Ok(None) => return Verdict::Unknown("no /proc/self/mountinfo".into()),
        Err(e) => return Verdict::Unknown(e.to_string()),
    };
    let mounts = parse_mountinfo(&text);
    let Some(m) = mount_of(dir, &mounts, |m| &m.mount_point) else {
        return Verdict::Unknown(format!("no mount covers {dir}"));
    };
    if m.major == 0 {
        return Verdict::Unknown(format!(
            "{} is on a {} filesystem without a block device ({}); cannot tell",
            dir, m.fstype, m.source
        ));
    }
    let sys = format!("/sys/dev/block/{}:{}", m.major, m.minor);
    match is_crypt(host, &sys, 0) {
        Some(true) => Verdict::Encrypted,
        Some(false) => Verdict::Plain(
            Evidence::source("mountinfo")
                .key(m.mount_point.clone())
                .actual(format!("{} ({}:{})", m.source, m.major, m.minor))
                .expected("a dm-crypt device"),
        ),
        None => Verdict::Unknown(format!("{sys} is not readable")),
    }
}
