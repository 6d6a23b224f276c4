//! The ufw side of the firewall fix, as the seed guides' commands would leave ufw's files:
//! `ufw default deny incoming` (`DEFAULT_INPUT_POLICY="DROP"` in /etc/default/ufw), `ufw allow
//! PORT/tcp` for each allowed port (a `### tuple ###` block in user.rules and user6.rules),
//! `ufw delete allow PORT` for the rules opening other ports to everyone, and `ufw enable`
//! (`ENABLED=yes` in ufw.conf, ufw.service enabled). The other lines keep their bytes.
//!
//! What the files will do is judged with the firewall family's own ufw loader and evaluator
//! before the fix is offered; a port opened outside user.rules (before.rules, after.rules) is
//! left to the admin.

use super::{list, Ports};
use crate::change::Intent;
use rempart_audit::facts::Units;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::firewall::eval::analyse;
use rempart_audit::rules::firewall::model::{Ip, Loc, L4};
use rempart_audit::rules::firewall::open_ports::{allowed_set, extra_ports};
use rempart_audit::rules::firewall::source::{Firewall, Kind};
use rempart_audit::rules::firewall::split_lines;
use rempart_audit::rules::firewall::ufw::{self, Assignment, Ufw, DEFAULTS, UFW_CONF};

const RULES_FILES: [(&str, Ip); 2] = [
    ("/etc/ufw/user.rules", Ip::V4),
    ("/etc/ufw/user6.rules", Ip::V6),
];
const OTHER_FILES: [&str; 4] = [
    "/etc/ufw/before.rules",
    "/etc/ufw/after.rules",
    "/etc/ufw/before6.rules",
    "/etc/ufw/after6.rules",
];
const END_RULES: &str = "### END RULES ###";

pub fn intents(ctx: &Ctx, _fw: &Firewall, ports: &Ports) -> Result<(Vec<Intent>, String), String> {
    let host = ctx.host;
    let read = |p: &str| -> Result<Option<String>, String> {
        host.read_text(p)
            .map(|f| f.map(|f| f.text))
            .map_err(|e| e.to_string())
    };
    let mut settings = ufw::load_settings(host)
        .map_err(|e| e.to_string())?
        .unwrap_or(Ufw {
            enabled: None,
            input_policy: None,
            ipv6: None,
            tuples: Vec::new(),
        });
    let mut intents = Vec::new();
    let mut did = Vec::new();

    // ufw default deny incoming.
    let policy_ok = settings
        .input_policy
        .as_ref()
        .is_none_or(|a| matches!(a.value.to_ascii_uppercase().as_str(), "DROP" | "REJECT"));
    if !policy_ok {
        if let Some(a) = &settings.input_policy {
            intents.push(edit(host, DEFAULTS, a, "DEFAULT_INPUT_POLICY=\"DROP\"")?);
            did.push("default deny incoming".to_string());
        }
        settings.input_policy = Some(Assignment {
            value: "DROP".into(),
            loc: Loc::file(DEFAULTS, 0, ""),
        });
    }
    let ipv6 = settings
        .ipv6
        .as_ref()
        .is_none_or(|a| a.value.eq_ignore_ascii_case("yes"));

    // The rules files as they will be: tuples opening other ports removed, allowed ports added.
    let mut texts: Vec<(String, String)> = Vec::new();
    for p in OTHER_FILES {
        if let Some(t) = read(p)? {
            texts.push((p.to_string(), t));
        }
    }
    let mut user: Vec<(&str, Ip, String)> = Vec::new();
    for (p, ip) in RULES_FILES {
        match read(p)? {
            Some(t) => user.push((p, ip, t)),
            None if ip == Ip::V6 && !ipv6 => {}
            None => {
                return Err(format!(
                    "{p} is missing (ufw writes it when installed): reinstall ufw or run `ufw \
                     allow 22/tcp` once"
                ))
            }
        }
    }
    let allowed = allowed_set(&ports.allowed);
    let judge = |settings: &mut Ufw, user: &[(&str, Ip, String)]| {
        let mut all = texts.clone();
        all.extend(user.iter().map(|(p, _, t)| (p.to_string(), t.clone())));
        let rs = ufw::build_ruleset(settings, &all).map_err(|e| e.to_string())?;
        analyse(&rs).map_err(|e| e.to_string())
    };
    let analysis = judge(&mut settings, &user)?;
    let extra = extra_ports(&analysis, &allowed);
    let mut removed = Vec::new();
    for (p, _, text) in &mut user {
        let lines: Vec<u32> = extra
            .iter()
            .filter(|e| e.path.as_deref() == Some(*p))
            .filter_map(|e| e.line)
            .collect();
        if lines.is_empty() {
            continue;
        }
        let (new, gone) = remove_tuples(text, &lines);
        *text = new;
        removed.extend(gone);
    }
    let analysis = judge(&mut settings, &user)?;
    let left = extra_ports(&analysis, &allowed);
    if let Some(e) = left.first() {
        return Err(format!(
            "{} is opened at {}:{} outside ufw's own rules: remove that line by hand",
            e.key.as_deref().unwrap_or("a port"),
            e.path.as_deref().unwrap_or("?"),
            e.line.unwrap_or(0)
        ));
    }
    let mut added = Vec::new();
    for (p, ip, text) in &mut user {
        let open = analysis.open_ports_of(*ip, L4::Tcp);
        let missing: Vec<u16> = ports
            .tcp
            .iter()
            .copied()
            .filter(|x| !open.contains(*x))
            .collect();
        if missing.is_empty() {
            continue;
        }
        *text = add_tuples(p, text, *ip, &missing)?;
        added.extend(missing);
    }
    for (p, _, text) in &user {
        if read(p)?.as_deref() != Some(text.as_str()) {
            let meta = host.metadata(p).map_err(|e| e.to_string())?;
            let (mode, uid, gid) = meta.map_or((0o640, 0, 0), |m| (m.mode, m.uid, m.gid));
            intents.push(Intent::Write {
                path: p.to_string(),
                content: text.clone().into_bytes(),
                mode,
                uid,
                gid,
            });
        }
    }
    added.sort_unstable();
    added.dedup();
    if !added.is_empty() {
        did.push(format!("allow tcp {}", list(&added)));
    }
    removed.sort();
    removed.dedup();
    if !removed.is_empty() {
        did.push(format!("delete {}", removed.join(", ")));
    }

    // ufw enable.
    if !settings.is_enabled() {
        match (&settings.enabled, read(UFW_CONF)?) {
            (Some(a), Some(_)) => intents.push(edit(host, UFW_CONF, a, "ENABLED=yes")?),
            (None, Some(t)) => intents.push(Intent::InsertLine {
                path: UFW_CONF.into(),
                before: split_lines(&t).count() as u32 + 1,
                text: "ENABLED=yes".into(),
            }),
            (_, None) => intents.push(Intent::Write {
                path: UFW_CONF.into(),
                content: b"ENABLED=yes\nLOGLEVEL=low\n".to_vec(),
                mode: 0o644,
                uid: 0,
                gid: 0,
            }),
        }
        did.push("enable".into());
    }
    let units = ctx.fact::<Units>();
    if units.files.contains_key(Kind::Ufw.unit()) || units.masked.contains(Kind::Ufw.unit()) {
        let enable = super::enable_unit(ctx, Kind::Ufw.unit(), "multi-user.target")?;
        if !enable.is_empty() {
            did.push("enable ufw.service at boot".into());
        }
        intents.extend(enable);
    }
    Ok((intents, format!("ufw: {}", did.join("; "))))
}

/// Replace the line an assignment is on (read again, so the edit keeps nothing stale).
fn edit(
    host: &rempart_audit::host::Host,
    path: &str,
    a: &Assignment,
    new: &str,
) -> Result<Intent, String> {
    let text = host
        .read_text(path)
        .map_err(|e| e.to_string())?
        .map(|f| f.text)
        .unwrap_or_default();
    let old = split_lines(&text)
        .nth(a.loc.line.saturating_sub(1) as usize)
        .unwrap_or_default()
        .to_string();
    Ok(Intent::EditLine {
        path: path.into(),
        line: a.loc.line,
        old,
        new: new.into(),
    })
}

/// Remove the tuple blocks starting at `lines` (1-based): the `### tuple ###` comment, the
/// rules under it up to the next blank or comment line, and one blank line after. Returns the
/// text and the ufw commands removed.
pub fn remove_tuples(text: &str, lines: &[u32]) -> (String, Vec<String>) {
    let all: Vec<&str> = text.split_inclusive('\n').collect();
    let mut drop = vec![false; all.len()];
    let mut gone = Vec::new();
    for &n in lines {
        let Some(i) = (n as usize).checked_sub(1).filter(|i| *i < all.len()) else {
            continue;
        };
        let body = all[i].trim();
        let Some(Ok(t)) = ufw::parse_tuple("", n, body) else {
            continue;
        };
        gone.push(t.command().trim_start_matches("ufw ").to_string());
        drop[i] = true;
        let mut j = i + 1;
        while j < all.len() {
            let l = all[j].trim();
            if l.is_empty() {
                drop[j] = true;
                break;
            }
            if l.starts_with('#') {
                break;
            }
            drop[j] = true;
            j += 1;
        }
    }
    let text = all
        .iter()
        .zip(&drop)
        .filter(|(_, d)| !**d)
        .map(|(l, _)| *l)
        .collect();
    (text, gone)
}

/// Add `ufw allow PORT/tcp` blocks before `### END RULES ###`, as ufw writes them.
pub fn add_tuples(path: &str, text: &str, ip: Ip, ports: &[u16]) -> Result<String, String> {
    let (any, chain) = match ip {
        Ip::V4 => ("0.0.0.0/0", "ufw-user-input"),
        Ip::V6 => ("::/0", "ufw6-user-input"),
    };
    let mut block = String::new();
    for p in ports {
        block.push_str(&format!(
            "### tuple ### allow tcp {p} {any} any {any} in\n-A {chain} -p tcp --dport {p} -j ACCEPT\n\n"
        ));
    }
    let at = text
        .split_inclusive('\n')
        .scan(0usize, |off, l| {
            let start = *off;
            *off += l.len();
            Some((start, l))
        })
        .find(|(_, l)| l.trim() == END_RULES)
        .map(|(start, _)| start)
        .ok_or_else(|| format!("{path} has no `{END_RULES}` line: ufw cannot have written it"))?;
    Ok(format!("{}{block}{}", &text[..at], &text[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER_RULES: &str = "*filter\n:ufw-user-input - [0:0]\n:ufw-user-limit-accept - [0:0]\n### RULES ###\n\n### tuple ### allow tcp 22 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 22 -j ACCEPT\n\n### tuple ### allow tcp 5432 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 5432 -j ACCEPT\n\n### tuple ### allow any 8000 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 8000 -j ACCEPT\n-A ufw-user-input -p udp --dport 8000 -j ACCEPT\n\n### END RULES ###\n\n### LOGGING ###\n### END LOGGING ###\nCOMMIT\n";

    #[test]
    fn removing_tuples_drops_their_rules_and_keeps_the_rest_byte_for_byte() {
        let (text, gone) = remove_tuples(USER_RULES, &[9, 12]);
        assert_eq!(gone, ["allow 5432/tcp", "allow 8000"]);
        assert_eq!(
            text,
            USER_RULES
                .replace("### tuple ### allow tcp 5432 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 5432 -j ACCEPT\n\n", "")
                .replace("### tuple ### allow any 8000 0.0.0.0/0 any 0.0.0.0/0 in\n-A ufw-user-input -p tcp --dport 8000 -j ACCEPT\n-A ufw-user-input -p udp --dport 8000 -j ACCEPT\n\n", "")
        );
        // A line that is not a tuple is never removed.
        assert_eq!(remove_tuples(USER_RULES, &[7, 99]).0, USER_RULES);
    }

    #[test]
    fn added_tuples_read_back_as_ufw_rules() {
        let text = add_tuples(
            "/etc/ufw/user6.rules",
            "*filter\n### RULES ###\n\n### END RULES ###\nCOMMIT\n",
            Ip::V6,
            &[22, 443],
        )
        .unwrap();
        assert_eq!(
            text,
            "*filter\n### RULES ###\n\n### tuple ### allow tcp 22 ::/0 any ::/0 in\n-A ufw6-user-input -p tcp --dport 22 -j ACCEPT\n\n### tuple ### allow tcp 443 ::/0 any ::/0 in\n-A ufw6-user-input -p tcp --dport 443 -j ACCEPT\n\n### END RULES ###\nCOMMIT\n"
        );
        let t = ufw::parse_tuple(
            "/etc/ufw/user6.rules",
            4,
            "### tuple ### allow tcp 22 ::/0 any ::/0 in",
        )
        .unwrap()
        .unwrap();
        assert_eq!(t.command(), "ufw allow 22/tcp");
        assert!(add_tuples("/etc/ufw/user.rules", "*filter\nCOMMIT\n", Ip::V4, &[22]).is_err());
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tuple_edits_never_panic(text in "\\PC{0,300}", lines in proptest::collection::vec(0u32..40, 0..5)) {
            let (out, gone) = remove_tuples(&text, &lines);
            prop_assert!(out.len() <= text.len());
            prop_assert!(gone.len() <= lines.len());
            let _ = add_tuples("/etc/ufw/user.rules", &text, Ip::V4, &[22]);
        }
    }
}
