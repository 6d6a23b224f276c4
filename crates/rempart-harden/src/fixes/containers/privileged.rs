//! CTR-PRIVILEGED for cAdvisor: `privileged: true` becomes `devices: [/dev/kmsg]`, the device
//! cAdvisor's documentation gives it (its kernel log, for OOM events), its read-only mounts
//! kept. The line is edited in place and the device item inserted under it, comments and
//! layout kept. Other images, and added capabilities or unconfined profiles, are declined:
//! what they need instead is the image's business.

use super::super::web::{indent_of, line_at};
use crate::change::{Fix, Intent, Safety};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::containers::compose::ComposeFiles;

/// Why other images and settings are left to the admin.
const OTHERS: &str = "what a privileged or unconfined container needs instead depends on the \
    image and the guides do not say: drop privileged, add the devices or cap_add it really \
    uses, then test";

/// `privileged: true` (any quoting, a trailing comment) as `devices:`, or `None`.
fn to_devices(line: &str) -> Option<String> {
    let t = line.trim_start();
    let v = t.strip_prefix("privileged:")?;
    let v = v.split(" #").next().unwrap_or(v).trim();
    let v = v.trim_matches(['"', '\'']);
    v.eq_ignore_ascii_case("true")
        .then(|| format!("{}devices:", indent_of(line)))
}

/// CTR-PRIVILEGED: each privileged cAdvisor service runs with `/dev/kmsg` instead.
pub fn privileged(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let files = ctx.fact::<ComposeFiles>();
    let mut intents = Vec::new();
    let mut done = Vec::new();
    for e in &f.evidence {
        let (Some(path), Some(line)) = (e.path.as_deref(), e.line) else {
            continue;
        };
        let what = e.key.as_deref().unwrap_or("");
        let svc = files
            .files
            .iter()
            .filter(|c| c.path == path)
            .flat_map(|c| c.services.iter())
            .find(|s| {
                s.privileged.as_ref().is_some_and(|p| p.line == line)
                    || s.cap_add
                        .iter()
                        .chain(&s.security_opt)
                        .any(|x| x.line == line)
            })
            .ok_or_else(|| format!("{path}:{line}: not a service setting rempart read"))?;
        if what != "privileged" || svc.image_base().as_deref() != Some("cadvisor") {
            return Err(format!(
                "{path}:{line} (service {}, {what}): {OTHERS}",
                svc.name
            ));
        }
        let file = files
            .files
            .iter()
            .find(|c| c.path == path)
            .ok_or("the compose file is gone")?;
        if file
            .text
            .lines()
            .skip(svc.line as usize)
            .take_while(|l| {
                l.trim().is_empty()
                    || l.trim_start().starts_with('#')
                    || indent_of(l).len() > indent_of(file.line(svc.line)).len()
            })
            .any(|l| l.trim_start().starts_with("devices:"))
        {
            return Err(format!(
                "{path}: service {} already lists devices: add /dev/kmsg there and remove \
                 `privileged: true` by hand",
                svc.name
            ));
        }
        let (real, old) = line_at(ctx, path, line)?;
        let new = to_devices(&old).ok_or_else(|| {
            format!(
                "{path}:{line} (`{}`): not a `privileged: true` line of its own",
                old.trim()
            )
        })?;
        let item = format!("{}  - /dev/kmsg", indent_of(&old));
        intents.push(Intent::EditLine {
            path: real.clone(),
            line,
            old,
            new,
        });
        intents.push(Intent::InsertLine {
            path: real,
            before: line + 1,
            text: item,
        });
        done.push(format!("{} in {path}", svc.name));
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "cAdvisor runs unprivileged with /dev/kmsg (its OOM events) and its read-only \
             mounts: {}; `docker compose up -d` recreates it",
            done.join(", ")
        ),
        safety: Safety::Unsafe(
            "cAdvisor loses what only privileged mode gave it: process metrics (which need \
             --pid=host and privileged), perf events, and on SELinux hosts access to the \
             Docker state it reads; check its /metrics after the restart"
                .into(),
        ),
        intents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any line: no panic; a rewrite keeps the indentation and says `devices:`.
        #[test]
        fn to_devices_only_rewrites_privileged_true(indent in "[ ]{0,8}", junk in "\\PC{0,30}") {
            let _ = to_devices(&junk);
            let out = to_devices(&format!("{indent}privileged: true")).unwrap();
            prop_assert_eq!(out, format!("{indent}devices:"));
            if let Some(o) = to_devices(&junk) {
                prop_assert!(o.ends_with("devices:"));
            }
        }
    }

    #[test]
    fn privileged_lines_become_devices() {
        assert_eq!(to_devices("    privileged: true").unwrap(), "    devices:");
        assert_eq!(
            to_devices("    privileged: \"true\" # cadvisor").unwrap(),
            "    devices:"
        );
        assert_eq!(to_devices("    privileged: false"), None);
        assert_eq!(to_devices("    image: x"), None);
    }
}
