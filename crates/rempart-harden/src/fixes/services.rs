//! Fixes of the services family: systemd drop-ins (`UNIT.d/90-rempart.conf`), never the unit file.

use crate::change::{Fix, Intent, LineFormat, Safety};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::services::discovery::Discovery;
use rempart_audit::rules::services::sandboxing;

/// SVC-SANDBOXING: add the missing directives in a drop-in per unit. ReadWritePaths is left to the
/// admin when it is too broad (narrowing it can break the app): that gap is reported, not fixed.
pub fn sandboxing(ctx: &Ctx, _f: &Finding) -> Result<Option<Fix>, String> {
    let d = ctx.fact::<Discovery>();
    let mut intents = Vec::new();
    for u in &d.units {
        let gaps = sandboxing::gaps(u);
        if gaps.is_empty() {
            continue;
        }
        let path = format!("/etc/systemd/system/{}.d/90-rempart.conf", u.unit.name);
        for g in &gaps {
            let Some(key) = g.key.as_deref() else {
                continue;
            };
            let value = match key {
                "NoNewPrivileges" | "PrivateTmp" | "ProtectHome" => "yes",
                "ProtectSystem" => "strict",
                "CapabilityBoundingSet" => "",
                _ => continue,
            };
            intents.push(Intent::SetLine {
                path: path.clone(),
                format: LineFormat::Systemd,
                key: format!("Service/{key}"),
                value: value.to_string(),
                header: crate::fixes::header("#", "SVC-SANDBOXING"),
                mode: 0o644,
            });
        }
        // ProtectSystem=strict makes / read-only: keep the working directory writable if the
        // unit names none.
        if u.unit.all("Service", "ReadWritePaths").is_empty() {
            if let Some(wd) = &u.working_dir {
                intents.push(Intent::SetLine {
                    path: path.clone(),
                    format: LineFormat::Systemd,
                    key: "Service/ReadWritePaths".into(),
                    value: wd.clone(),
                    header: crate::fixes::header("#", "SVC-SANDBOXING"),
                    mode: 0o644,
                });
            }
        }
    }
    if intents.is_empty() {
        return Err("the remaining gap is a broad ReadWritePaths: narrow it to the directories the app writes".into());
    }
    Ok(Some(Fix {
        rule: "SVC-SANDBOXING".into(),
        summary: "add systemd sandboxing directives in drop-ins".into(),
        safety: Safety::Safe,
        intents,
    }))
}
