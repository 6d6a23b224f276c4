//! `rempart facts services`: what application discovery found.

use crate::cli::audit::{load_config, open_host};
use rempart_audit::rule::collect_fact;
use rempart_audit::rules::services::discovery::Discovery;
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ServicesArgs {
    /// Read this root tree instead of the live host.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Configuration file (adds `app_paths`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn services(args: ServicesArgs) -> anyhow::Result<u8> {
    let host = open_host(args.root.as_ref())?;
    let config = load_config(&host, args.config.as_ref())?;
    let d = collect_fact::<Discovery>(&host, &config);
    let mut out = io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &services_json(&d))?;
        writeln!(out)?;
        return Ok(0);
    }
    writeln!(out, "units ({}):", d.units.len())?;
    for u in &d.units {
        let dropins = if u.unit.dropins.is_empty() {
            String::new()
        } else {
            format!(" + {}", u.unit.dropins.join(", "))
        };
        writeln!(
            out,
            "  {}  {}  {}{dropins}",
            u.unit.name,
            if u.enabled { "enabled" } else { "disabled" },
            u.unit.path
        )?;
        let user = if u.dynamic_user() {
            "dynamic".to_string()
        } else {
            u.user.clone().unwrap_or_else(|| "root (no User=)".into())
        };
        writeln!(out, "    user: {user}")?;
        if let Some(wd) = &u.working_dir {
            writeln!(out, "    working directory: {wd}")?;
        }
        if let Some(s) = &u.server {
            writeln!(
                out,
                "    runs: {}{}",
                s.kind.as_str(),
                s.target
                    .as_deref()
                    .map(|t| format!(" {t}"))
                    .unwrap_or_default()
            )?;
            for b in &s.binds {
                writeln!(
                    out,
                    "    binds: {} ({}, {})",
                    b.addr, b.origin.how, b.origin.path
                )?;
            }
            for f in &s.dev_flags {
                writeln!(out, "    development: {}", f.flag)?;
            }
            for c in &s.compose_files {
                writeln!(out, "    compose file: {c}")?;
            }
        }
        for f in &u.env_files {
            writeln!(out, "    environment file: {f}")?;
        }
    }
    writeln!(out, "apps ({}):", d.apps.len())?;
    for a in &d.apps {
        writeln!(
            out,
            "  {}  {}{}",
            a.dir,
            a.kind.as_str(),
            a.user
                .as_deref()
                .map(|u| format!("  user {u}"))
                .unwrap_or_default()
        )?;
        if !a.units.is_empty() {
            writeln!(out, "    units: {}", a.units.join(", "))?;
        }
        for r in &a.found_by {
            let line = r.line.map(|l| format!(":{l}")).unwrap_or_default();
            writeln!(
                out,
                "    found by: {:?} {} in {}{line}",
                r.kind, r.value, r.source
            )?;
        }
        for (what, list) in [
            ("settings", &a.settings_files),
            ("env file", &a.env_files),
            ("dependencies", &a.requirement_files),
            ("compose file", &a.compose_files),
        ] {
            for f in list {
                writeln!(out, "    {what}: {f}")?;
            }
        }
    }
    for e in &d.errors {
        writeln!(out, "error: {e}")?;
    }
    Ok(if d.errors.is_empty() { 0 } else { 2 })
}

fn services_json(d: &Discovery) -> serde_json::Value {
    use serde_json::json;
    json!({
        "units": d.units.iter().map(|u| json!({
            "name": u.unit.name,
            "path": u.unit.path,
            "dropins": u.unit.dropins,
            "enabled": u.enabled,
            "user": u.user,
            "dynamic_user": u.dynamic_user(),
            "working_directory": u.working_dir,
            "environment_files": u.env_files,
            "server": u.server.as_ref().map(|s| json!({
                "kind": s.kind.as_str(),
                "target": s.target,
                "binds": s.binds.iter().map(|b| json!({
                    "address": b.addr, "exposed": b.is_exposed(), "from": b.origin.how,
                    "path": b.origin.path, "line": b.origin.line,
                })).collect::<Vec<_>>(),
                "development": s.dev_flags.iter().map(|f| &f.flag).collect::<Vec<_>>(),
                "compose_files": s.compose_files,
            })),
        })).collect::<Vec<_>>(),
        "apps": d.apps.iter().map(|a| json!({
            "dir": a.dir,
            "kind": a.kind.as_str(),
            "user": a.user,
            "units": a.units,
            "found_by": a.found_by.iter().map(|r| json!({
                "kind": format!("{:?}", r.kind), "value": r.value, "source": r.source, "line": r.line,
            })).collect::<Vec<_>>(),
            "settings_files": a.settings_files,
            "env_files": a.env_files,
            "requirement_files": a.requirement_files,
            "compose_files": a.compose_files,
        })).collect::<Vec<_>>(),
        "compose_files": d.compose_files,
        "errors": d.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    })
}
