//! Which TLS protocol versions an OpenSSL-based server (Apache mod_ssl, nginx) really accepts.
//!
//! The configuration says what the server asks for (`SSLProtocol`, `ssl_protocols`); the host's
//! OpenSSL decides the rest. Measured on Debian 12 (OpenSSL 3.0): at the default security level
//! (1), a server configured for TLS 1.0 or 1.1 still refuses them (the handshake fails: those
//! versions need SHA-1 signatures, which level 1 forbids); they only work when a cipher string
//! lowers the level with `@SECLEVEL=0`. With OpenSSL 1.1 (Debian 11 and older) they work. So an
//! old protocol enabled in the configuration is reported when the host's OpenSSL would accept
//! it: libssl older than 3, `@SECLEVEL=0` in the server's ciphers or in `/etc/ssl/openssl.cnf`,
//! or no dpkg database to tell (then the configuration is taken at its word).

use crate::facts::Packages;
use crate::model::Evidence;
use crate::rule::Ctx;
use std::collections::BTreeSet;

/// Protocol versions older than TLS 1.2.
pub const OLD: &[&str] = &["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"];
const ALL_APACHE: &[&str] = &["SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"];

fn canonical(p: &str) -> Option<&'static str> {
    let l = p.to_ascii_lowercase();
    Some(match l.as_str() {
        "sslv2" => "SSLv2",
        "sslv3" => "SSLv3",
        "tlsv1" | "tlsv1.0" => "TLSv1",
        "tlsv1.1" => "TLSv1.1",
        "tlsv1.2" => "TLSv1.2",
        "tlsv1.3" => "TLSv1.3",
        _ => return None,
    })
}

/// The versions an `SSLProtocol` line enables (mod_ssl's rules: `+X` adds, `-X` removes, a bare
/// word replaces; `all` is every version).
pub fn apache_protocols(args: &[String]) -> BTreeSet<&'static str> {
    let mut set = BTreeSet::new();
    for a in args {
        let (op, name) = match a.chars().next() {
            Some('+') => ('+', &a[1..]),
            Some('-') => ('-', &a[1..]),
            _ => ('=', a.as_str()),
        };
        let items: Vec<&'static str> = if name.eq_ignore_ascii_case("all") {
            ALL_APACHE.to_vec()
        } else {
            canonical(name).into_iter().collect()
        };
        match op {
            '+' => set.extend(items),
            '-' => {
                for i in items {
                    set.remove(i);
                }
            }
            _ => {
                set.clear();
                set.extend(items);
            }
        }
    }
    set
}

/// The versions an `ssl_protocols` line lists.
pub fn nginx_protocols(args: &[String]) -> BTreeSet<&'static str> {
    args.iter().filter_map(|a| canonical(a)).collect()
}

/// What the host's OpenSSL does with TLS < 1.2.
#[derive(Debug, Clone, Default)]
pub struct OpensslPolicy {
    /// `Some(true)` with libssl 3, `Some(false)` with an older one only, `None` unknown.
    pub libssl3: Option<bool>,
    /// `@SECLEVEL=0` in openssl.cnf.
    pub system_seclevel0: Option<Evidence>,
}

impl OpensslPolicy {
    pub fn load(ctx: &Ctx) -> OpensslPolicy {
        let pkgs = ctx.fact::<Packages>();
        let libssl3 = if pkgs.is_installed("libssl3") || pkgs.is_installed("libssl3t64") {
            Some(true)
        } else if pkgs.known() {
            Some(false)
        } else {
            None
        };
        let mut system_seclevel0 = None;
        let path = "/etc/ssl/openssl.cnf";
        if let Ok(Some(f)) = ctx.host.read_text(path) {
            for (i, line) in f.text.lines().enumerate() {
                let code = line.split('#').next().unwrap_or("");
                if code
                    .replace(' ', "")
                    .to_ascii_uppercase()
                    .contains("@SECLEVEL=0")
                {
                    system_seclevel0 = Some(
                        Evidence::file(path)
                            .line(u32::try_from(i + 1).unwrap_or(u32::MAX))
                            .snippet(line.trim()),
                    );
                }
            }
        }
        OpensslPolicy {
            libssl3,
            system_seclevel0,
        }
    }

    /// `Ok(why)` when old versions are refused whatever the server asks; `Err(why)` when they
    /// would be accepted. `server_ciphers` is the server's cipher string, if any.
    pub fn refuses_old(&self, server_ciphers: Option<&str>) -> Result<String, String> {
        let lowered = server_ciphers.is_some_and(|c| {
            c.replace(' ', "")
                .to_ascii_uppercase()
                .contains("@SECLEVEL=0")
        });
        if lowered {
            return Err("the server's cipher string lowers OpenSSL to @SECLEVEL=0".into());
        }
        if let Some(e) = &self.system_seclevel0 {
            return Err(format!(
                "{} lowers OpenSSL to @SECLEVEL=0",
                e.path.clone().unwrap_or_default()
            ));
        }
        match self.libssl3 {
            Some(true) => {
                Ok("OpenSSL 3 (libssl3) refuses TLS 1.0/1.1 at its default security level".into())
            }
            Some(false) => Err("libssl is older than OpenSSL 3, which accepts TLS 1.0/1.1".into()),
            None => Err("the OpenSSL version is unknown (no dpkg database)".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn mod_ssl_protocol_arithmetic() {
        let all_but_3 = apache_protocols(&s(&["all", "-SSLv3"]));
        assert!(all_but_3.contains("TLSv1") && !all_but_3.contains("SSLv3"));
        let modern = apache_protocols(&s(&["-all", "+TLSv1.2", "+TLSv1.3"]));
        assert_eq!(
            modern.into_iter().collect::<Vec<_>>(),
            ["TLSv1.2", "TLSv1.3"]
        );
        let only = apache_protocols(&s(&["TLSv1.2"]));
        assert_eq!(only.len(), 1);
        let modern = apache_protocols(&s(&["all", "-SSLv3", "-TLSv1", "-TLSv1.1"]));
        assert!(!modern.iter().any(|p| OLD.contains(p)));
    }

    #[test]
    fn nginx_lists() {
        let p = nginx_protocols(&s(&["TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"]));
        assert!(p.contains("TLSv1.1"));
    }

    #[test]
    fn seclevel_zero_reopens_old_versions() {
        let p = OpensslPolicy {
            libssl3: Some(true),
            system_seclevel0: None,
        };
        assert!(p.refuses_old(None).is_ok());
        assert!(p.refuses_old(Some("DEFAULT:@SECLEVEL=0")).is_err());
        let old = OpensslPolicy {
            libssl3: Some(false),
            system_seclevel0: None,
        };
        assert!(old.refuses_old(None).is_err());
    }
}
