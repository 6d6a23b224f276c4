//! pam_limits' configuration (`/etc/security/limits.conf`, then `/etc/security/limits.d/*.conf`
//! in name order): `<domain> <type> <item> <value>` lines, `#` starting a comment anywhere, type
//! and item case-insensitive. Lines pam_limits rejects are kept as invalid.
//!
//! Only the parsing and the reading of the files live here; which limit matters is the rules'
//! business.

use crate::host::{Host, HostError};

pub const LIMITS_CONF: &str = "/etc/security/limits.conf";
pub const LIMITS_D: &str = "/etc/security/limits.d";

/// `soft`, `hard` or `-` (both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitType {
    Soft,
    Hard,
    Both,
}

impl LimitType {
    pub fn sets_hard(self) -> bool {
        matches!(self, LimitType::Hard | LimitType::Both)
    }
}

/// One limit line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    /// `*`, a user name, `@group`, `%group`, a uid range (`1000:`).
    pub domain: String,
    pub kind: LimitType,
    /// Lowercased (`core`, `nofile`).
    pub item: String,
    pub value: String,
    pub line: u32,
    pub text: String,
}

/// A parsed file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub limits: Vec<Limit>,
    /// (line, reason) of lines pam_limits ignores.
    pub invalid: Vec<(u32, &'static str)>,
}

/// Parse the text of one limits file.
pub fn parse(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let content = raw.split('#').next().unwrap_or("");
        let fields: Vec<&str> = content.split_whitespace().collect();
        if fields.is_empty() {
            continue;
        }
        if fields.len() != 4 {
            out.invalid
                .push((line, "expected `<domain> <type> <item> <value>`"));
            continue;
        }
        let kind = match fields[1].to_ascii_lowercase().as_str() {
            "soft" => LimitType::Soft,
            "hard" => LimitType::Hard,
            "-" => LimitType::Both,
            _ => {
                out.invalid
                    .push((line, "type must be `soft`, `hard` or `-`"));
                continue;
            }
        };
        out.limits.push(Limit {
            domain: fields[0].to_string(),
            kind,
            item: fields[2].to_ascii_lowercase(),
            value: fields[3].to_string(),
            line,
            text: raw.to_string(),
        });
    }
    out
}

/// The limit files of a host in the order pam_limits reads them, each parsed, with read errors.
pub fn load(host: &Host) -> (Vec<(String, Parsed)>, Vec<HostError>) {
    let mut paths = vec![LIMITS_CONF.to_string()];
    let mut errors = Vec::new();
    match host.read_dir(LIMITS_D) {
        Ok(Some(names)) => paths.extend(
            names
                .into_iter()
                .filter(|n| n.ends_with(".conf") && !n.starts_with('.'))
                .map(|n| format!("{LIMITS_D}/{n}")),
        ),
        Ok(None) => {}
        Err(e) => errors.push(e),
    }
    let mut files = Vec::new();
    for path in paths {
        match host.read_text(&path) {
            Ok(Some(f)) => files.push((path, parse(&f.text))),
            Ok(None) => {}
            Err(e) => errors.push(e),
        }
    }
    (files, errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn debian_style_lines() {
        let p = parse(
            "#<domain>      <type>  <item>         <value>\n*               hard    core            0\n@student        -       maxlogins       4 # trailing\nroot soft nofile\n* HARD CORE 0\n* medium core 0\n",
        );
        assert_eq!(p.limits.len(), 3);
        assert_eq!(p.limits[0].domain, "*");
        assert_eq!(p.limits[0].kind, LimitType::Hard);
        assert_eq!((p.limits[0].item.as_str(), p.limits[0].line), ("core", 2));
        assert_eq!(p.limits[1].kind, LimitType::Both);
        assert_eq!(p.limits[1].value, "4");
        assert_eq!(p.limits[2].item, "core");
        assert_eq!(p.invalid.iter().map(|i| i.0).collect::<Vec<_>>(), [4, 6]);
    }

    proptest! {
        #[test]
        fn parser_never_panics_and_items_are_lowercase(s in "\\PC{0,400}") {
            let lines = s.lines().count() as u32;
            let p = parse(&s);
            for l in &p.limits {
                prop_assert_eq!(l.item.to_ascii_lowercase(), l.item.clone());
                prop_assert!(!l.domain.contains('#') && !l.value.contains('#'));
                prop_assert!(l.line >= 1 && l.line <= lines);
            }
        }

        #[test]
        fn written_lines_read_back(
            domain in "(\\*|@[a-z]{1,6}|[a-z]{1,6})",
            kind in prop_oneof![Just("soft"), Just("hard"), Just("-")],
            item in "[a-z]{1,8}",
            value in "[0-9]{1,5}|unlimited",
        ) {
            let p = parse(&format!("{domain}\t{kind}  {item} {value}\n"));
            prop_assert_eq!(p.limits.len(), 1);
            prop_assert_eq!(&p.limits[0].domain, &domain);
            prop_assert_eq!(&p.limits[0].value, &value);
            prop_assert_eq!(p.limits[0].kind.sets_hard(), kind != "soft");
        }
    }
}
