//! Fixes of the kernel family: one sysctl.d drop-in, `/etc/sysctl.d/90-rempart-hardening.conf`,
//! for every sysctl rule, and pam_limits / systemd-coredump drop-ins for core dumps.
//!
//! The drop-in must win at boot. Before proposing it, the fix merges the host's sysctl files
//! with the drop-in in place, with the audit's own precedence model ([`SysctlConfig`]: sysctl.d
//! directories, name order, the `99-sysctl.conf` link to `/etc/sysctl.conf`, procps applying
//! `/etc/sysctl.conf` last); a key that a later file would set back is fixed by editing that
//! file's line instead (its layout kept). KRN-SYSCTL-DRIFT is not fixed here: which of the file
//! and the running value is right is the admin's call.

use crate::change::{Fix, Intent, LineFormat, Safety};
use crate::edit::{self, FieldSep, ValueStyle};
use crate::plan::set_line;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::kernel::coredump_conf;
use rempart_audit::rules::kernel::docker::docker;
use rempart_audit::rules::kernel::judge::{boot_value, ipv6_off, live_value, parse_int, Boot};
use rempart_audit::rules::kernel::limits::{self, LIMITS_D};
use rempart_audit::rules::kernel::sysctl::{Applier, Configured, SysctlConfig, SYSCTL_CONF};
use rempart_audit::rules::kernel::sysctl_d::normalize;

/// The drop-in every sysctl fix writes.
pub const SYSCTL_DROPIN: &str = "/etc/sysctl.d/90-rempart-hardening.conf";

/// A key a rule wants, the values it accepts and the value the fix writes.
struct Want {
    key: &'static str,
    ok: fn(i64) -> bool,
    value: &'static str,
}

const fn want(key: &'static str, ok: fn(i64) -> bool, value: &'static str) -> Want {
    Want { key, ok, value }
}

fn zero(v: i64) -> bool {
    v == 0
}
fn one(v: i64) -> bool {
    v == 1
}
fn one_or_two(v: i64) -> bool {
    v == 1 || v == 2
}
fn two(v: i64) -> bool {
    v == 2
}

/// The keys of each sysctl rule (the rule files hold the same list; the convergence test checks
/// that fixing them makes each rule pass).
const SYSCTL_RULES: &[(&str, &[Want])] = &[
    (
        "KRN-SYNCOOKIES",
        &[want("net.ipv4.tcp_syncookies", one_or_two, "1")],
    ),
    (
        "KRN-IP-FORWARD",
        &[
            want("net.ipv4.ip_forward", zero, "0"),
            want("net.ipv6.conf.all.forwarding", zero, "0"),
        ],
    ),
    (
        // Loose mode (2): strict mode drops the replies of asymmetric routes on multi-homed
        // hosts, which can cut the admin's own session.
        "KRN-RP-FILTER",
        &[
            want("net.ipv4.conf.all.rp_filter", one_or_two, "2"),
            want("net.ipv4.conf.default.rp_filter", one_or_two, "2"),
        ],
    ),
    (
        "KRN-LOG-MARTIANS",
        &[
            want("net.ipv4.conf.all.log_martians", one, "1"),
            want("net.ipv4.conf.default.log_martians", one, "1"),
        ],
    ),
    (
        "KRN-SOURCE-ROUTE",
        &[
            want("net.ipv4.conf.all.accept_source_route", zero, "0"),
            want("net.ipv4.conf.default.accept_source_route", zero, "0"),
            want("net.ipv6.conf.all.accept_source_route", zero, "0"),
            want("net.ipv6.conf.default.accept_source_route", zero, "0"),
        ],
    ),
    (
        "KRN-ACCEPT-REDIRECTS",
        &[
            want("net.ipv4.conf.all.accept_redirects", zero, "0"),
            want("net.ipv4.conf.default.accept_redirects", zero, "0"),
            want("net.ipv4.conf.all.secure_redirects", zero, "0"),
            want("net.ipv4.conf.default.secure_redirects", zero, "0"),
            want("net.ipv6.conf.all.accept_redirects", zero, "0"),
            want("net.ipv6.conf.default.accept_redirects", zero, "0"),
        ],
    ),
    (
        "KRN-SEND-REDIRECTS",
        &[
            want("net.ipv4.conf.all.send_redirects", zero, "0"),
            want("net.ipv4.conf.default.send_redirects", zero, "0"),
        ],
    ),
    ("KRN-ASLR", &[want("kernel.randomize_va_space", two, "2")]),
    (
        "KRN-KPTR-RESTRICT",
        &[want("kernel.kptr_restrict", one_or_two, "1")],
    ),
    (
        "KRN-DMESG-RESTRICT",
        &[want("kernel.dmesg_restrict", one, "1")],
    ),
    ("KRN-SUID-DUMPABLE", &[want("fs.suid_dumpable", zero, "0")]),
];

/// The sysctl rules' fix: set each bad key in the drop-in (and edit a later file's line where
/// it would override the drop-in).
pub fn sysctl(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let wants = SYSCTL_RULES
        .iter()
        .find(|(id, _)| *id == f.id)
        .map(|(_, w)| *w)
        .ok_or_else(|| format!("{}: not a sysctl rule", f.id))?;
    if f.id == "KRN-IP-FORWARD" && docker(ctx).is_some() {
        return Err("Docker needs forwarding: filter the FORWARD chain instead".into());
    }
    let cfg = ctx.fact::<SysctlConfig>();
    let v6_off = ipv6_off(ctx, &cfg);
    let mut set: Vec<(&str, String)> = Vec::new();
    for w in wants {
        let key = normalize(w.key);
        if key.starts_with("net/ipv6/") && v6_off.is_some() {
            continue;
        }
        let ok = |v: &str| parse_int(v).is_some_and(w.ok);
        let boot_good = match boot_value(ctx.host, &cfg, &key) {
            Boot::Known { value, .. } => ok(&value).then_some(value),
            Boot::Unknown(errs) => {
                let why = errs.first().map(|e| e.to_string()).unwrap_or_default();
                return Err(format!("the sysctl files cannot all be read: {why}"));
            }
            // Not judged by the rule.
            Boot::NoDefault => continue,
        };
        let live_bad = matches!(live_value(ctx.host, &key), Some(Ok(Some(v))) if !ok(&v));
        match boot_good {
            // The running value is bad but the files are right: writing the configured value
            // in the drop-in makes the reload apply it.
            Some(v) if live_bad => set.push((w.key, v)),
            Some(_) => {}
            None => set.push((w.key, w.value.to_string())),
        }
    }
    if set.is_empty() {
        return Err(
            "only interfaces that were up before the setting keep a bad value: \
             `sysctl -w net.ipv4.conf.IFACE.KEY=0` for each, or reboot"
                .into(),
        );
    }
    let (edits, edited) = overriding_edits(ctx, &cfg, &set, wants)?;
    let header = super::header("#", "kernel hardening");
    let mut intents: Vec<Intent> = set
        .iter()
        .filter(|(k, _)| !edited.contains(k))
        .map(|(k, v)| Intent::SetLine {
            path: SYSCTL_DROPIN.into(),
            format: LineFormat::KeyEquals,
            key: (*k).to_string(),
            value: v.clone(),
            header: header.clone(),
            mode: 0o644,
        })
        .collect();
    let mut summary: Vec<String> = Vec::new();
    if !intents.is_empty() {
        let keys: Vec<String> = set
            .iter()
            .filter(|(k, _)| !edited.contains(k))
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        summary.push(format!("{} in {SYSCTL_DROPIN}", keys.join(", ")));
    }
    for e in &edits {
        if let Intent::EditLine {
            path, line, new, ..
        } = e
        {
            summary.push(format!("`{new}` at {path}:{line} (a later file)"));
        }
    }
    intents.extend(edits);
    let safety = if f.id == "KRN-IP-FORWARD" {
        Safety::Unsafe(
            "turns routing off: hosts and containers reached through this one (VPN, NAT \
             gateway, libvirt or LXC guests) lose their network"
                .into(),
        )
    } else {
        Safety::Safe
    };
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: summary.join("; "),
        safety,
        intents,
    }))
}

/// One sysctl file in application order, for the merge with the drop-in in place.
struct SimFile {
    path: String,
    shown: String,
    text: String,
}

/// Edits of the lines, in files applied after the drop-in, that would set a key back (those keys
/// are then left out of the drop-in), checked by merging again. Returns the edits and the keys
/// they fix.
fn overriding_edits<'a>(
    ctx: &Ctx,
    cfg: &SysctlConfig,
    set: &[(&'a str, String)],
    wants: &[Want],
) -> Result<(Vec<Intent>, Vec<&'a str>), String> {
    let mut files = Vec::new();
    for f in &cfg.files {
        let text = match ctx.host.read_text(&f.path) {
            Ok(Some(t)) => t.text,
            Ok(None) => String::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", f.path)),
        };
        files.push(SimFile {
            path: f.path.clone(),
            shown: f.shown.clone(),
            text,
        });
    }
    let name = SYSCTL_DROPIN.rsplit('/').next().unwrap_or_default();
    let base = |p: &str| p.rsplit('/').next().unwrap_or(p).to_string();
    let procps_last =
        cfg.applier == Applier::Procps && files.last().is_some_and(|f| f.path == SYSCTL_CONF);
    let listed = files.len() - usize::from(procps_last);
    let existing = match files[..listed].iter().position(|f| base(&f.path) == name) {
        // The drop-in, or a file of the same name in a later directory that it hides.
        Some(i) => {
            let old = files.remove(i);
            if old.path == SYSCTL_DROPIN {
                old.text
            } else {
                String::new()
            }
        }
        None => match ctx.host.read_text(SYSCTL_DROPIN) {
            Ok(Some(t)) => t.text,
            _ => super::header("#", "kernel hardening"),
        },
    };
    let with = |keys: &[(&str, String)]| {
        keys.iter().fold(existing.clone(), |t, (k, v)| {
            set_line(&t, LineFormat::KeyEquals, k, v)
        })
    };
    let listed = files.len() - usize::from(procps_last);
    let at = files[..listed]
        .iter()
        .position(|f| base(&f.path).as_str() > name)
        .unwrap_or(listed);
    files.insert(
        at,
        SimFile {
            path: SYSCTL_DROPIN.into(),
            shown: SYSCTL_DROPIN.into(),
            text: with(set),
        },
    );
    let merged = |files: &[SimFile]| {
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.text.as_str()))
            .collect();
        SysctlConfig::from_texts(cfg.applier, &refs)
    };
    let good = |m: &SysctlConfig, key: &str, w: &Want| match m.configured(&normalize(key)) {
        Configured::Set(p) => p.value.as_deref().and_then(parse_int).is_some_and(w.ok),
        _ => false,
    };
    let want_of = |k: &str| wants.iter().find(|w| w.key == k);
    let mut intents = Vec::new();
    let mut edited = Vec::new();
    let m = merged(&files);
    for (k, v) in set {
        let Some(w) = want_of(k) else { continue };
        if good(&m, k, w) {
            continue;
        }
        let Configured::Set(p) = m.configured(&normalize(k)) else {
            return Err(format!(
                "{k}: the drop-in does not decide it (an exclusion?)"
            ));
        };
        let file = &mut files[p.file];
        let old = file
            .text
            .lines()
            .nth((p.line as usize).saturating_sub(1))
            .unwrap_or_default()
            .to_string();
        let new = edit::set_value(&old, ValueStyle::RestOfLine, v)
            .ok_or_else(|| format!("{}:{}: cannot edit `{old}`", file.shown, p.line))?;
        file.text = replace_line(&file.text, p.line, &new);
        intents.push(Intent::EditLine {
            path: file.shown.clone(),
            line: p.line,
            old,
            new,
        });
        edited.push(*k);
    }
    // Check the final state: the drop-in without the keys fixed by an edit.
    let kept: Vec<(&str, String)> = set
        .iter()
        .filter(|(k, _)| !edited.contains(k))
        .cloned()
        .collect();
    files[at].text = with(&kept);
    let m = merged(&files);
    if let Some((k, _)) = set
        .iter()
        .find(|(k, _)| want_of(k).is_some_and(|w| !good(&m, k, w)))
    {
        return Err(format!(
            "{k}: no drop-in or line edit makes it stick (look at sysctl.d for globs and exclusions)"
        ));
    }
    Ok((intents, edited))
}

fn replace_line(text: &str, line: u32, new: &str) -> String {
    text.split_inclusive('\n')
        .enumerate()
        .map(|(i, l)| {
            if i + 1 == line as usize {
                let ending = &l[l.trim_end_matches(['\n', '\r']).len()..];
                format!("{new}{ending}")
            } else {
                l.to_string()
            }
        })
        .collect()
}

const LIMITS_DROPIN: &str = "/etc/security/limits.d/90-rempart-core.conf";
const COREDUMP_DROPIN: &str = "/etc/systemd/coredump.conf.d/90-rempart.conf";

/// KRN-CORE-DUMPS: a hard core limit of 0 for everyone (a limits.d drop-in; user and group
/// lines raising it set to 0), and systemd-coredump told to store nothing.
pub fn core_dumps(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    let (files, errors) = limits::load(ctx.host);
    if let Some(e) = errors.first() {
        return Err(format!("cannot read the limits files: {e}"));
    }
    let mut intents = Vec::new();
    let mut notes = Vec::new();
    let ours = LIMITS_DROPIN.rsplit('/').next().unwrap_or_default();
    let after_ours = |path: &str| {
        path.strip_prefix(&format!("{LIMITS_D}/"))
            .is_some_and(|n| n > ours)
    };
    let mut wildcard: Option<(&str, &limits::Limit)> = None;
    for (path, parsed) in &files {
        for l in parsed
            .limits
            .iter()
            .filter(|l| l.item == "core" && l.kind.sets_hard())
        {
            if l.domain == "*" {
                wildcard = Some((path, l));
            } else if l.value != "0" && path != LIMITS_DROPIN {
                notes.push(format!("{} ({path})", l.domain));
                intents.push(limit_to_zero(path, l));
            }
        }
    }
    match wildcard {
        Some((_, l)) if l.value == "0" => {}
        Some((path, l)) if after_ours(path) => intents.push(limit_to_zero(path, l)),
        _ => intents.push(Intent::Write {
            path: LIMITS_DROPIN.into(),
            content: format!("{}*\thard\tcore\t0\n", super::header("#", "KRN-CORE-DUMPS"))
                .into_bytes(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        }),
    }
    if systemd_coredump(ctx) {
        let (storage, errors) = coredump_conf::lookup(ctx.host, "Storage");
        if let Some(e) = errors.first() {
            return Err(format!("cannot read coredump.conf: {e}"));
        }
        let ours = COREDUMP_DROPIN.rsplit('/').next().unwrap_or_default();
        match storage {
            Some((_, s)) if s.value == "none" => {}
            Some((path, s))
                if path != COREDUMP_DROPIN
                    && path.contains("/coredump.conf.d/")
                    && path.rsplit('/').next().is_some_and(|n| n > ours) =>
            {
                let new = edit::set_value(&s.text, ValueStyle::RestOfLine, "none")
                    .ok_or_else(|| format!("{path}:{}: cannot edit `{}`", s.line, s.text))?;
                intents.push(Intent::EditLine {
                    path,
                    line: s.line,
                    old: s.text.clone(),
                    new,
                });
            }
            _ => {
                for (k, v) in [
                    ("Coredump/Storage", "none"),
                    ("Coredump/ProcessSizeMax", "0"),
                ] {
                    intents.push(Intent::SetLine {
                        path: COREDUMP_DROPIN.into(),
                        format: LineFormat::Systemd,
                        key: k.into(),
                        value: v.into(),
                        header: super::header("#", "KRN-CORE-DUMPS"),
                        mode: 0o644,
                    });
                }
            }
        }
    }
    let mut summary = "hard core-size limit 0 for every user".to_string();
    if !notes.is_empty() {
        summary.push_str(&format!(" (also {})", notes.join(", ")));
    }
    if systemd_coredump(ctx) {
        summary.push_str("; systemd-coredump stores nothing");
    }
    Ok(Some(Fix {
        rule: "KRN-CORE-DUMPS".into(),
        summary,
        safety: Safety::Safe,
        intents,
    }))
}

/// The value field of a limits line set to 0.
fn limit_to_zero(path: &str, l: &limits::Limit) -> Intent {
    Intent::SetField {
        path: path.into(),
        line: l.line,
        sep: FieldSep::Blank,
        index: 3,
        old: l.value.clone(),
        new: "0".into(),
    }
}

fn systemd_coredump(ctx: &Ctx) -> bool {
    ctx.fact::<rempart_audit::facts::Packages>()
        .is_installed("systemd-coredump")
        || ctx.host.exists("/lib/systemd/systemd-coredump")
        || ctx.host.exists("/usr/lib/systemd/systemd-coredump")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_replaced_with_their_endings() {
        assert_eq!(replace_line("a\r\nb\nc", 2, "B"), "a\r\nB\nc");
        assert_eq!(replace_line("a\nb", 2, "B"), "a\nB");
        assert_eq!(replace_line("a\n", 5, "B"), "a\n");
    }
}
