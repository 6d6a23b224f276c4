//! How every sysctl rule of the family judges its keys: the value the host boots with (the winning
//! sysctl.d line, or the kernel default) and, on a live host, the value the running kernel uses
//! (`/proc/sys`). A key fails when the running value is bad, or when it is good only until the
//! next boot. A key whose boot value an unreadable file could change is an error, unless the
//! running value is already bad.

use super::defaults::kernel_default;
use super::sysctl::{Configured, SysctlConfig};
use super::sysctl_d::{display, normalize};
use crate::host::{Host, HostError};
use crate::model::Evidence;
use crate::rule::{Ctx, Outcome};

/// One key a rule expects a value of.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    /// Dotted key (`net.ipv4.conf.all.accept_redirects`).
    pub key: &'static str,
    /// Good values, as people read them (`0`, `1 or 2`).
    pub expected: &'static str,
    pub ok: fn(i64) -> bool,
    /// On a live host, also judge the key of every network interface (`conf/eth0/...`): for
    /// settings the kernel ORs per interface, `all` alone does not protect an interface that
    /// existed before the setting was applied.
    pub each_interface: bool,
}

impl Param {
    pub const fn new(key: &'static str, expected: &'static str, ok: fn(i64) -> bool) -> Param {
        Param {
            key,
            expected,
            ok,
            each_interface: false,
        }
    }

    pub const fn each_interface(mut self) -> Param {
        self.each_interface = true;
        self
    }
}

/// What the host boots with for one key.
#[derive(Debug, Clone)]
pub enum Boot {
    Known {
        value: String,
        evidence: Evidence,
    },
    /// Files that could not be read might set it.
    Unknown(Vec<HostError>),
    /// No sysctl file sets it and the kernel default is not known here.
    NoDefault,
}

/// The boot value of `key` (slash form), with its evidence (file, line, snippet or `default`).
pub fn boot_value(host: &Host, cfg: &SysctlConfig, key: &str) -> Boot {
    let shown = display(key);
    let default = || match kernel_default(host, key) {
        Some(d) => {
            let mut evidence = Evidence::source("default")
                .key(shown.clone())
                .actual(d.value.as_str())
                .note(d.note);
            evidence.path = d.path;
            Boot::Known {
                evidence,
                value: d.value,
            }
        }
        None => Boot::NoDefault,
    };
    match cfg.configured(key) {
        Configured::Unknown(errs) => Boot::Unknown(errs.into_iter().cloned().collect()),
        Configured::Unset => default(),
        Configured::Set(p) => {
            let value = p.value.clone().unwrap_or_default();
            let file = cfg.file_of(p);
            let mut ev = Evidence::file(&file.shown)
                .line(p.line)
                .snippet(p.text.as_str())
                .key(shown.clone())
                .actual(value.as_str());
            if file.shown != file.path {
                ev = ev.note(format!("applied through {}", file.path));
            }
            // The kernel refuses a value that is not a number for a numeric key: the previous
            // value stays.
            let numeric_key =
                kernel_default(host, key).is_some_and(|d| parse_int(&d.value).is_some());
            if numeric_key && parse_int(&value).is_none() {
                if let Boot::Known {
                    value: d,
                    evidence: dev,
                } = default()
                {
                    let note = format!(
                        "the kernel rejects `{value}`, so the default {d} stays ({})",
                        dev.note.unwrap_or_default()
                    );
                    return Boot::Known {
                        evidence: ev.actual(d.as_str()).note(note),
                        value: d,
                    };
                }
            }
            Boot::Known {
                value,
                evidence: ev,
            }
        }
    }
}

/// The running value of `key` (slash form): `None` under a root tree, `Some(Ok(None))` when the
/// kernel has no such key (module not loaded, IPv6 disabled).
pub fn live_value(host: &Host, key: &str) -> Option<Result<Option<String>, HostError>> {
    if !host.is_live() {
        return None;
    }
    let path = format!("/proc/sys/{key}");
    Some(
        host.read_text(&path)
            .map(|f| f.map(|f| normalize_value(&f.text))),
    )
}

/// Blanks folded, as the kernel prints multi-valued keys with tabs.
pub fn normalize_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The integer the kernel reads from a sysctl value: the first blank-separated token.
pub fn parse_int(v: &str) -> Option<i64> {
    v.split_whitespace().next()?.parse().ok()
}

/// Why IPv6 keys need not be judged, if they need not.
pub fn ipv6_off(ctx: &Ctx, cfg: &SysctlConfig) -> Option<String> {
    let host = ctx.host;
    if host.is_live() && !host.exists("/proc/sys/net/ipv6") {
        return Some("IPv6 is disabled in the running kernel (ipv6.disable=1)".into());
    }
    let both = ["all", "default"].iter().all(|scope| {
        let key = format!("net/ipv6/conf/{scope}/disable_ipv6");
        let value = match live_value(host, &key) {
            Some(Ok(Some(v))) => Some(v),
            Some(_) => None,
            None => match boot_value(host, cfg, &key) {
                Boot::Known { value, .. } => Some(value),
                _ => None,
            },
        };
        value.as_deref().and_then(parse_int) == Some(1)
    });
    both.then(|| "IPv6 is disabled (net.ipv6.conf.all/default.disable_ipv6 = 1)".into())
}

/// The verdict on a set of keys. `bad_state` names what a failure means ("ICMP redirects are
/// accepted").
pub fn judge(ctx: &Ctx, params: &[Param], bad_state: &str) -> Outcome {
    let cfg = ctx.fact::<SysctlConfig>();
    let v6_off = ipv6_off(ctx, &cfg);
    let mut bad: Vec<Evidence> = Vec::new();
    let mut bad_keys: Vec<String> = Vec::new();
    let mut good: Vec<Evidence> = Vec::new();
    let mut errors: Vec<HostError> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    for p in params {
        let key = normalize(p.key);
        if key.starts_with("net/ipv6/") {
            if let Some(why) = &v6_off {
                notes.push(format!("{}: not judged, {why}", p.key));
                continue;
            }
        }
        let ok = |v: &str| parse_int(v).is_some_and(p.ok);
        let boot = boot_value(ctx.host, &cfg, &key);
        let live = live_value(ctx.host, &key);
        match (&live, &boot) {
            (Some(Err(e)), _) => errors.push(e.clone()),
            (Some(Ok(None)), _) => {
                notes.push(format!("{}: not present in the running kernel", p.key));
            }
            (Some(Ok(Some(v))), _) if !ok(v) => {
                bad_keys.push(format!("{}={v}", p.key));
                bad.push(proc_evidence(&key, v, p.expected));
                if let Boot::Known { evidence, .. } = &boot {
                    bad.push(evidence.clone().expected(p.expected));
                }
            }
            (_, Boot::Unknown(errs)) => {
                for e in errs {
                    if !errors.contains(e) {
                        errors.push(e.clone());
                    }
                }
            }
            (_, Boot::NoDefault) => {
                notes.push(format!("{}: set by no file, default unknown", p.key));
            }
            (live, Boot::Known { value, evidence }) => {
                if !ok(value) {
                    let at_boot = if live.is_some() {
                        format!("{} reverts to {value} at boot", p.key)
                    } else {
                        format!("{}={value}", p.key)
                    };
                    bad_keys.push(at_boot);
                    bad.push(evidence.clone().expected(p.expected));
                } else {
                    good.push(evidence.clone());
                    if let Some(Ok(Some(v))) = live {
                        good.push(proc_evidence(&key, v, p.expected));
                    }
                }
            }
        }
        if p.each_interface {
            interfaces(ctx.host, &key, p, &mut bad, &mut bad_keys, &mut errors);
        }
    }
    if !bad.is_empty() {
        let mut msg = format!("{bad_state}: {}", bad_keys.join(", "));
        if !notes.is_empty() {
            msg.push_str(&format!(" ({})", notes.join("; ")));
        }
        return Outcome::fail(msg).with_all(bad);
    }
    if let Some(e) = errors.first() {
        return Outcome::error(format!(
            "could not read what decides the value: {e}{}",
            if errors.len() > 1 {
                format!(" (and {} more)", errors.len() - 1)
            } else {
                String::new()
            }
        ))
        .with_all(errors.iter().map(|e| {
            Evidence::file(e.path())
                .with_source("read")
                .note(e.reason())
        }));
    }
    if good.is_empty() {
        return Outcome::skip(format!("no key could be judged: {}", notes.join("; ")));
    }
    let mut msg = format!(
        "{} set as expected",
        params
            .iter()
            .map(|p| p.key)
            .filter(|k| !notes.iter().any(|n| n.starts_with(k)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !notes.is_empty() {
        msg.push_str(&format!(" ({})", notes.join("; ")));
    }
    Outcome::pass(msg).with_all(good)
}

/// Per-interface values of an interface-scoped key (`net/ipv4/conf/all/x`), live only.
fn interfaces(
    host: &Host,
    key: &str,
    p: &Param,
    bad: &mut Vec<Evidence>,
    bad_keys: &mut Vec<String>,
    errors: &mut Vec<HostError>,
) {
    let Some(rest) = key.strip_suffix(&format!("/{}", leaf(key))) else {
        return;
    };
    let Some(conf_dir) = rest.strip_suffix("/all") else {
        return;
    };
    if !host.is_live() {
        return;
    }
    let dir = format!("/proc/sys/{conf_dir}");
    let names = match host.read_dir(&dir) {
        Ok(Some(n)) => n,
        Ok(None) => return,
        Err(e) => {
            errors.push(e);
            return;
        }
    };
    for iface in names {
        if matches!(iface.as_str(), "all" | "default" | "lo") {
            continue;
        }
        let k = format!("{conf_dir}/{iface}/{}", leaf(key));
        match live_value(host, &k) {
            Some(Ok(Some(v))) if !parse_int(&v).is_some_and(p.ok) => {
                bad_keys.push(format!("{}={v}", display(&k)));
                bad.push(proc_evidence(&k, &v, p.expected).note(format!(
                    "interface {iface}: the kernel combines it with `all`"
                )));
            }
            Some(Err(e)) => errors.push(e),
            _ => {}
        }
    }
}

fn leaf(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

fn proc_evidence(key: &str, value: &str, expected: &str) -> Evidence {
    Evidence::file(format!("/proc/sys/{key}"))
        .with_source("proc")
        .key(display(key))
        .actual(value)
        .expected(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_like_the_kernel_reads_them() {
        assert_eq!(parse_int("1"), Some(1));
        assert_eq!(parse_int(" 2 "), Some(2));
        assert_eq!(parse_int("1 # on"), Some(1));
        assert_eq!(parse_int("yes"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(
            normalize_value("4096\t87380\t6291456\n"),
            "4096 87380 6291456"
        );
    }
}
