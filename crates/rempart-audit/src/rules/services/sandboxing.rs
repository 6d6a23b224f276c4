//! SVC-SANDBOXING: application units use systemd's sandboxing as seed 000 §2 sets it.

use super::app_units;
use super::discovery::AppUnit;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SVC-SANDBOXING",
    name: "app-service-not-sandboxed",
    family: Family::Services,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Application services are sandboxed by systemd",
    doc: RuleDoc {
        what: "Each application unit sets `NoNewPrivileges=yes`, `PrivateTmp=yes`, \
               `ProtectSystem=strict`, `ProtectHome=yes` (or read-only/tmpfs) and restricts \
               `CapabilityBoundingSet=` (an empty value drops every capability); \
               `ReadWritePaths=` names only the app's own directories, not `/`, `/opt`, `/home`, \
               `/srv`, `/var`, `/etc` or `/usr` as a whole. `DynamicUser=yes` implies the first \
               four. Drop-ins (`UNIT.d/*.conf`) count.",
        why: "If the application is compromised, the sandbox decides what the attacker can do \
              next: without it the process can write system files, read every home directory, \
              leave files in the shared /tmp and keep capabilities it never needed.",
        remediation: "systemctl edit UNIT and add under [Service]: NoNewPrivileges=true, \
                      PrivateTmp=true, ProtectSystem=strict, ProtectHome=true, \
                      ReadWritePaths=/opt/APP/data (only what the app writes), \
                      CapabilityBoundingSet= ; then systemctl restart UNIT. `systemd-analyze \
                      security UNIT` scores the result.",
        verify: "systemctl show UNIT -p NoNewPrivileges -p PrivateTmp -p ProtectSystem -p ProtectHome -p ReadWritePaths -p CapabilityBoundingSet; systemd-analyze security UNIT",
        references: &[
            "seed 000 §2 Directives systemd de sécurité (NoNewPrivileges, PrivateTmp, ProtectSystem=strict, ProtectHome, ReadWritePaths)",
            "man systemd.exec(5) Sandboxing",
        ],
    },
    check,
};

const BROAD: &[&str] = &[
    "/", "/opt", "/home", "/srv", "/var", "/etc", "/usr", "/root", "/var/www",
];

/// The sandboxing gaps of one unit, each as evidence.
pub fn gaps(u: &AppUnit) -> Vec<Evidence> {
    let mut out = Vec::new();
    let dynamic = u.dynamic_user();
    let here = |key: &str, actual: &str, expected: &str| {
        let ev = match u.unit.get("Service", key) {
            Some(s) => Evidence::file(&s.path).line(s.line).snippet(&s.text),
            None => Evidence::file(&u.unit.path),
        };
        ev.key(key)
            .actual(actual)
            .expected(expected)
            .note(format!("unit {}", u.unit.name))
    };
    let flag = |key: &str| u.unit.bool("Service", key);
    if !dynamic && flag("NoNewPrivileges") != Some(true) {
        out.push(here("NoNewPrivileges", "no", "yes"));
    }
    if !dynamic && flag("PrivateTmp") != Some(true) {
        out.push(here("PrivateTmp", "no", "yes"));
    }
    let ps = u
        .unit
        .get("Service", "ProtectSystem")
        .map(|s| s.value.to_ascii_lowercase());
    if !(dynamic || ps.as_deref() == Some("strict")) {
        out.push(here(
            "ProtectSystem",
            ps.as_deref().unwrap_or("no"),
            "strict",
        ));
    }
    let ph = u
        .unit
        .get("Service", "ProtectHome")
        .map(|s| s.value.to_ascii_lowercase());
    let home_ok = matches!(ph.as_deref(), Some("read-only" | "tmpfs"))
        || ph.as_deref().and_then(super::unit::parse_bool) == Some(true);
    if !(dynamic || home_ok) {
        out.push(here("ProtectHome", ph.as_deref().unwrap_or("no"), "yes"));
    }
    match u.unit.last_raw("Service", "CapabilityBoundingSet") {
        None => out.push(here(
            "CapabilityBoundingSet",
            "unset (all capabilities)",
            "empty or a short list",
        )),
        Some(s) if s.value.contains("CAP_SYS_ADMIN") && !s.value.starts_with('~') => out.push(
            Evidence::file(&s.path)
                .line(s.line)
                .snippet(&s.text)
                .key("CapabilityBoundingSet")
                .actual(s.value.as_str())
                .expected("without CAP_SYS_ADMIN"),
        ),
        Some(_) => {}
    }
    for s in u.unit.all("Service", "ReadWritePaths") {
        for p in s.value.split_whitespace() {
            let p = p.trim_start_matches(['-', '+']).trim_end_matches('/');
            let p = if p.is_empty() { "/" } else { p };
            if BROAD.contains(&p) {
                out.push(
                    Evidence::file(&s.path)
                        .line(s.line)
                        .snippet(&s.text)
                        .key("ReadWritePaths")
                        .actual(p)
                        .expected("only the app's own writable directories"),
                );
            }
        }
    }
    out
}

fn check(ctx: &Ctx) -> Outcome {
    let (d, idx) = match app_units(ctx) {
        Ok(v) => v,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut units = 0;
    for &i in &idx {
        let g = gaps(&d.units[i]);
        if !g.is_empty() {
            units += 1;
            bad.extend(g);
        }
    }
    if bad.is_empty() {
        Outcome::pass(format!("{} application units are sandboxed", idx.len()))
    } else {
        Outcome::fail(format!(
            "{units} application units lack sandboxing ({} gaps)",
            bad.len()
        ))
        .with_all(bad)
    }
}
