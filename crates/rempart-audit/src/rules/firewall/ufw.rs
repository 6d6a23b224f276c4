//! ufw's configuration: `/etc/ufw/ufw.conf` (`ENABLED=yes`), `/etc/default/ufw`
//! (`DEFAULT_INPUT_POLICY`, `IPV6`), and the rules files ufw loads, which are iptables-restore
//! files: `before.rules`, `user.rules` (where `ufw allow` writes, one `### tuple ###` comment per
//! rule), `after.rules`, and their `6` twins.
//!
//! The rules files are parsed with the [iptables parser](super::iptables) and assembled the way
//! ufw's init script chains them: `INPUT` (policy `DEFAULT_INPUT_POLICY`) jumps to
//! `ufw-before-input`, `ufw-user-input`, `ufw-after-input`. Rules written by `ufw allow` are
//! reported at their tuple line (`### tuple ### allow tcp 5432 0.0.0.0/0 any 0.0.0.0/0 in`),
//! which reads like the command that created them.

use super::iptables;
use super::model::{Chain, FwRule, Ip, Loc, Ruleset, TableFamily, Verdict};
use super::ParseError;
use crate::host::{Host, HostError};

pub const UFW_CONF: &str = "/etc/ufw/ufw.conf";
pub const DEFAULTS: &str = "/etc/default/ufw";

/// One `KEY=value` assignment of a shell-style configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub value: String,
    pub loc: Loc,
}

/// The last assignment of each key in a shell-style `KEY=value` file (`ufw.conf`,
/// `/etc/default/ufw`): comments, blank lines, optional quotes, optional `export`.
pub fn parse_assignments(path: &str, text: &str) -> Vec<(String, Assignment)> {
    let mut out: Vec<(String, Assignment)> = Vec::new();
    for (i, raw) in super::split_lines(text).enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let mut value = value.trim();
        // A trailing comment after an unquoted value.
        if !value.starts_with(['"', '\'']) {
            if let Some(p) = value.find(" #") {
                value = value[..p].trim_end();
            }
        }
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        let a = Assignment {
            value: value.to_string(),
            loc: Loc::file(path, i as u32 + 1, raw),
        };
        out.retain(|(k, _)| k != key);
        out.push((key.to_string(), a));
    }
    out
}

fn get<'a>(list: &'a [(String, Assignment)], key: &str) -> Option<&'a Assignment> {
    list.iter().find(|(k, _)| k == key).map(|(_, a)| a)
}

/// A rule as `ufw allow` recorded it in `user.rules`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tuple {
    /// `allow`, `deny`, `reject`, `limit` (with `_log`/`_log-all` stripped).
    pub action: String,
    pub proto: String,
    pub dport: String,
    pub dst: String,
    pub sport: String,
    pub src: String,
    /// `in` or `out`, and the interface if the rule names one.
    pub direction: String,
    pub iface: Option<String>,
    /// `route:` rules filter forwarded traffic.
    pub route: bool,
    pub loc: Loc,
}

/// Parse one `### tuple ### ...` comment the way ufw reads it back (6 to 9 fields; the 8- and
/// 9-field forms carry application names).
pub fn parse_tuple(path: &str, line: u32, raw: &str) -> Option<Result<Tuple, ParseError>> {
    let rest = raw.trim().strip_prefix("### tuple ###")?;
    let rest = rest.split(" comment=").next().unwrap_or(rest);
    let f: Vec<&str> = rest.split_whitespace().collect();
    if !(6..=9).contains(&f.len()) {
        return Some(Err(ParseError::at(
            path,
            line,
            format!("malformed ufw tuple ({} fields)", f.len()),
        )));
    }
    let (direction, iface) = if f.len() == 7 || f.len() == 9 {
        let last = f[f.len() - 1];
        match last.split_once('_') {
            Some((d, i)) => (d.to_string(), Some(i.to_string())),
            None => (last.to_string(), None),
        }
    } else {
        ("in".to_string(), None)
    };
    let mut action = f[0];
    let route = action.starts_with("route:");
    if route {
        action = &action["route:".len()..];
    }
    let action = action.split('_').next().unwrap_or(action).to_string();
    Some(Ok(Tuple {
        action,
        proto: f[1].into(),
        dport: f[2].into(),
        dst: f[3].into(),
        sport: f[4].into(),
        src: f[5].into(),
        direction,
        iface,
        route,
        loc: Loc::file(path, line, raw),
    }))
}

impl Tuple {
    /// The ufw command that would create this rule (`ufw allow 5432/tcp`), for remediation text.
    pub fn command(&self) -> String {
        let port = if self.proto == "any" {
            self.dport.clone()
        } else {
            format!("{}/{}", self.dport, self.proto)
        };
        if self.src == "0.0.0.0/0" || self.src == "::/0" {
            format!("ufw {} {port}", self.action)
        } else {
            format!(
                "ufw {} from {} to any port {} proto {}",
                self.action, self.src, self.dport, self.proto
            )
        }
    }
}

/// ufw's state on the host.
#[derive(Debug, Clone)]
pub struct Ufw {
    /// `ENABLED=` of ufw.conf (absent when the file or the key is).
    pub enabled: Option<Assignment>,
    pub input_policy: Option<Assignment>,
    pub ipv6: Option<Assignment>,
    pub tuples: Vec<Tuple>,
}

impl Ufw {
    pub fn is_enabled(&self) -> bool {
        self.enabled
            .as_ref()
            .is_some_and(|a| a.value.eq_ignore_ascii_case("yes"))
    }
}

/// Read ufw.conf and /etc/default/ufw. `Ok(None)` when ufw.conf does not exist.
pub fn load_settings(host: &Host) -> Result<Option<Ufw>, HostError> {
    let Some(conf) = host.read_text(UFW_CONF)? else {
        return Ok(None);
    };
    let conf = parse_assignments(UFW_CONF, &conf.text);
    let defaults = match host.read_text(DEFAULTS)? {
        Some(f) => parse_assignments(DEFAULTS, &f.text),
        None => Vec::new(),
    };
    Ok(Some(Ufw {
        enabled: get(&conf, "ENABLED").cloned(),
        input_policy: get(&defaults, "DEFAULT_INPUT_POLICY").cloned(),
        ipv6: get(&defaults, "IPV6").cloned(),
        tuples: Vec::new(),
    }))
}

/// The rules files of one family, in the order ufw loads them.
fn files(ip: Ip) -> [&'static str; 3] {
    match ip {
        Ip::V4 => [
            "/etc/ufw/before.rules",
            "/etc/ufw/user.rules",
            "/etc/ufw/after.rules",
        ],
        Ip::V6 => [
            "/etc/ufw/before6.rules",
            "/etc/ufw/user6.rules",
            "/etc/ufw/after6.rules",
        ],
    }
}

/// Errors loading ufw's ruleset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    Host(HostError),
    Parse(ParseError),
}

/// Build the ruleset ufw loads at boot, from its settings and the host's rules files.
pub fn load_ruleset(host: &Host, ufw: &mut Ufw) -> Result<Ruleset, LoadError> {
    let mut texts = Vec::new();
    for ip in Ip::BOTH {
        for path in files(ip) {
            if let Some(f) = host.read_text(path).map_err(LoadError::Host)? {
                texts.push((path.to_string(), f.text));
            }
        }
    }
    build_ruleset(ufw, &texts).map_err(LoadError::Parse)
}

/// Build the ruleset from ufw's settings and the text of its rules files, `(host path, text)`
/// (`/etc/ufw/before.rules`, `user.rules`, ... ; missing files simply absent).
pub fn build_ruleset(ufw: &mut Ufw, texts: &[(String, String)]) -> Result<Ruleset, ParseError> {
    let policy_loc = ufw.input_policy.as_ref().map(|a| a.loc.clone());
    let policy = match ufw
        .input_policy
        .as_ref()
        .map(|a| a.value.to_ascii_uppercase())
    {
        // ufw's own default when the key is absent.
        None => Verdict::Drop,
        Some(v) if v == "DROP" => Verdict::Drop,
        Some(v) if v == "REJECT" => Verdict::Reject,
        Some(v) if v == "ACCEPT" => Verdict::Accept,
        Some(v) => {
            let loc = policy_loc
                .clone()
                .unwrap_or_else(|| Loc::file(DEFAULTS, 0, ""));
            return Err(ParseError::at(
                DEFAULTS,
                loc.line,
                format!("DEFAULT_INPUT_POLICY=\"{v}\" is not ACCEPT, DROP or REJECT"),
            ));
        }
    };
    let policy_loc = policy_loc.unwrap_or_else(|| Loc::file(DEFAULTS, 0, ""));
    let ipv6 = ufw
        .ipv6
        .as_ref()
        .is_none_or(|a| a.value.eq_ignore_ascii_case("yes"));
    let mut rs = Ruleset {
        origin: Some(UFW_CONF.to_string()),
        ..Ruleset::default()
    };
    ufw.tuples.clear();
    for ip in Ip::BOTH {
        let family = match ip {
            Ip::V4 => TableFamily::Ip,
            Ip::V6 => TableFamily::Ip6,
        };
        if ip == Ip::V6 && !ipv6 {
            // IPV6=no: ufw-init drops all IPv6 input but loopback.
            let loc = ufw
                .ipv6
                .as_ref()
                .map_or_else(|| policy_loc.clone(), |a| a.loc.clone());
            rs.chains.push(Chain {
                family,
                table: "filter".into(),
                name: "INPUT".into(),
                hook: Some("input".into()),
                policy: Some((Verdict::Drop, loc.clone())),
                rules: vec![FwRule {
                    conds: vec![super::model::Cond::Iif {
                        names: vec!["lo".into()],
                        negated: false,
                    }],
                    verdict: Some(Verdict::Accept),
                    loc: loc.clone(),
                }],
                loc,
            });
            continue;
        }
        for path in files(ip) {
            let Some((_, text)) = texts.iter().find(|(p, _)| p == path) else {
                continue;
            };
            let lines: Vec<&str> = super::split_lines(text).collect();
            // Each `-A` line written by ufw follows its tuple comment, up to the next blank line.
            let mut owner: Vec<Option<Loc>> = vec![None; lines.len() + 1];
            let mut current: Option<Loc> = None;
            for (i, raw) in lines.iter().enumerate() {
                let n = i as u32 + 1;
                if let Some(t) = parse_tuple(path, n, raw) {
                    match t {
                        Ok(t) => {
                            current = Some(t.loc.clone());
                            if !t.route && t.direction == "in" {
                                ufw.tuples.push(t);
                            }
                        }
                        // ufw itself skips a malformed tuple; the -A lines still load.
                        Err(_) => current = None,
                    }
                } else if raw.trim().is_empty() || raw.trim_start().starts_with('#') {
                    current = None;
                } else if let Some(slot) = owner.get_mut(i + 1) {
                    slot.clone_from(&current);
                }
            }
            iptables::parse_with(path, text, ip, &mut rs, &mut |line, _| {
                owner.get(line as usize).cloned().flatten()
            })?;
        }
        let chain = |name: &str, rules: Vec<FwRule>| Chain {
            family,
            table: "filter".into(),
            name: name.to_string(),
            hook: None,
            policy: None,
            rules,
            loc: policy_loc.clone(),
        };
        let jump = |target: &str| FwRule {
            conds: Vec::new(),
            verdict: Some(Verdict::Jump(target.to_string())),
            loc: policy_loc.clone(),
        };
        let prefix = if ip == Ip::V4 { "ufw" } else { "ufw6" };
        // The chains ufw creates at start: skipping to the policy, and INPUT's jumps.
        rs.chains.push(chain(
            &format!("{prefix}-skip-to-policy-input"),
            vec![FwRule {
                conds: Vec::new(),
                verdict: Some(policy.clone()),
                loc: policy_loc.clone(),
            }],
        ));
        let mut input = chain(
            "INPUT",
            ["before", "user", "after"]
                .iter()
                .map(|s| jump(&format!("{prefix}-{s}-input")))
                .collect(),
        );
        input.hook = Some("input".into());
        input.policy = Some((policy.clone(), policy_loc.clone()));
        rs.chains
            .retain(|c| !(c.family == family && c.name == "INPUT"));
        rs.chains.push(input);
    }
    Ok(rs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn assignments_keep_the_last_value_and_its_line() {
        let a = parse_assignments(
            "/etc/default/ufw",
            "# comment\nIPV6=yes\nDEFAULT_INPUT_POLICY=\"DROP\"\nDEFAULT_INPUT_POLICY='ACCEPT'  \nENABLED=no # off\n",
        );
        let p = get(&a, "DEFAULT_INPUT_POLICY").unwrap();
        assert_eq!((p.value.as_str(), p.loc.line), ("ACCEPT", 4));
        assert_eq!(get(&a, "ENABLED").unwrap().value, "no");
    }

    #[test]
    fn tuples_as_ufw_writes_them() {
        let t = parse_tuple(
            "/etc/ufw/user.rules",
            20,
            "### tuple ### allow tcp 5432 0.0.0.0/0 any 0.0.0.0/0 in",
        )
        .unwrap()
        .unwrap();
        assert_eq!((t.action.as_str(), t.dport.as_str()), ("allow", "5432"));
        assert_eq!(t.command(), "ufw allow 5432/tcp");
        let t = parse_tuple(
            "/f",
            1,
            "### tuple ### limit_log tcp 22 0.0.0.0/0 any 10.0.0.0/8 in_eth0 comment=6f6b",
        )
        .unwrap()
        .unwrap();
        assert_eq!(t.action, "limit");
        assert_eq!(t.iface.as_deref(), Some("eth0"));
        assert!(t.command().contains("from 10.0.0.0/8"));
        let t = parse_tuple(
            "/f",
            1,
            "### tuple ### allow any 22 0.0.0.0/0 any 0.0.0.0/0 OpenSSH - in",
        )
        .unwrap()
        .unwrap();
        assert_eq!((t.proto.as_str(), t.direction.as_str()), ("any", "in"));
        assert!(parse_tuple("/f", 1, "### tuple ### allow tcp")
            .unwrap()
            .is_err());
        assert!(parse_tuple("/f", 1, "-A ufw-user-input -j ACCEPT").is_none());
    }

    proptest! {
        /// Whatever the rules files hold, a ruleset that builds has ufw's INPUT chains with the
        /// configured policy.
        #[test]
        fn built_rulesets_keep_the_policy(user in "\\PC{0,300}", policy in "(DROP|ACCEPT|REJECT)") {
            let mut u = Ufw {
                enabled: None,
                input_policy: Some(Assignment { value: policy.clone(), loc: Loc::file(DEFAULTS, 3, "") }),
                ipv6: None,
                tuples: Vec::new(),
            };
            let texts = vec![("/etc/ufw/user.rules".to_string(), format!("*filter\n:ufw-user-input - [0:0]\n{user}\nCOMMIT\n"))];
            if let Ok(rs) = build_ruleset(&mut u, &texts) {
                let inputs: Vec<_> = rs.chains.iter().filter(|c| c.name == "INPUT").collect();
                prop_assert_eq!(inputs.len(), 2);
                for c in inputs {
                    let want = match policy.as_str() { "DROP" => Verdict::Drop, "REJECT" => Verdict::Reject, _ => Verdict::Accept };
                    prop_assert_eq!(&c.policy.as_ref().unwrap().0, &want);
                }
            }
        }

        #[test]
        fn settings_and_tuples_never_panic(s in "\\PC{0,300}") {
            let _ = parse_assignments("/f", &s);
            for (i, l) in s.lines().enumerate() {
                let _ = parse_tuple("/f", i as u32, l);
                let _ = parse_tuple("/f", i as u32, &format!("### tuple ### {l}"));
            }
        }
    }
}
