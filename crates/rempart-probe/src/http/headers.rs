//! Parsers of the security headers the web checks judge: `Strict-Transport-Security`
//! (RFC 6797), `Content-Security-Policy` (CSP3 serialized policies) and `Set-Cookie`
//! (RFC 6265 attributes). Lenient like browsers: unknown directives and attributes are kept or
//! ignored, never an error; a value a browser would drop is reported as such.

/// A parsed `Strict-Transport-Security` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hsts {
    /// `max-age` in seconds; `None` when missing or unparsable (browsers then ignore the header).
    pub max_age: Option<u64>,
    pub include_subdomains: bool,
    pub preload: bool,
}

/// Parse HSTS. Directive names are case-insensitive, values may be quoted; a directive given
/// twice makes the header invalid (RFC 6797 §6.1), reported as `max_age: None`.
pub fn parse_hsts(value: &str) -> Hsts {
    let mut h = Hsts {
        max_age: None,
        include_subdomains: false,
        preload: false,
    };
    let mut seen_age = false;
    let mut invalid = false;
    for d in value.split(';') {
        let d = d.trim();
        if d.is_empty() {
            continue;
        }
        let (name, val) = match d.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
            None => (d, None),
        };
        match name.to_ascii_lowercase().as_str() {
            "max-age" => {
                if seen_age {
                    invalid = true;
                }
                seen_age = true;
                h.max_age = val.and_then(|v| v.parse().ok());
            }
            "includesubdomains" => {
                if h.include_subdomains {
                    invalid = true;
                }
                h.include_subdomains = true;
            }
            "preload" => h.preload = true,
            _ => {}
        }
    }
    if invalid {
        h.max_age = None;
    }
    h
}

/// A parsed Content-Security-Policy: directives in order, names lower-cased. The first
/// occurrence of a directive wins, as in browsers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Csp {
    pub directives: Vec<(String, Vec<String>)>,
}

impl Csp {
    pub fn get(&self, name: &str) -> Option<&[String]> {
        self.directives
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The sources that govern scripts: `script-src`, else `default-src`.
    pub fn script_sources(&self) -> Option<&[String]> {
        self.get("script-src").or_else(|| self.get("default-src"))
    }
}

/// Parse one CSP header value (several comma-separated policies: each is parsed, the
/// directives of all are kept in order, which is how their intersection is judged here).
pub fn parse_csp(value: &str) -> Csp {
    let mut csp = Csp::default();
    for policy in value.split(',') {
        let mut names_here: Vec<String> = Vec::new();
        for d in policy.split(';') {
            let mut words = d.split_ascii_whitespace();
            let Some(name) = words.next() else {
                continue;
            };
            let name = name.to_ascii_lowercase();
            if names_here.contains(&name) {
                continue;
            }
            names_here.push(name.clone());
            csp.directives
                .push((name, words.map(|w| w.to_string()).collect()));
        }
    }
    csp
}

/// What makes a script source list weak: each finding is a short phrase.
pub fn weak_script_sources(sources: &[String]) -> Vec<String> {
    let lower: Vec<String> = sources.iter().map(|s| s.to_ascii_lowercase()).collect();
    let has = |w: &str| lower.iter().any(|s| s == w);
    let nonce_or_hash = lower.iter().any(|s| {
        s.starts_with("'nonce-")
            || s.starts_with("'sha256-")
            || s.starts_with("'sha384-")
            || s.starts_with("'sha512-")
    });
    let mut weak = Vec::new();
    // 'unsafe-inline' is ignored by browsers when a nonce or hash is present.
    if has("'unsafe-inline'") && !nonce_or_hash && !has("'strict-dynamic'") {
        weak.push("'unsafe-inline' allows injected inline scripts".to_string());
    }
    if has("'unsafe-eval'") {
        weak.push("'unsafe-eval' allows eval()".to_string());
    }
    for wild in ["*", "http:", "https:", "data:", "blob:"] {
        if has(wild) && !has("'strict-dynamic'") {
            weak.push(format!("`{wild}` allows scripts from anywhere it matches"));
        }
    }
    weak
}

/// A parsed `Set-Cookie`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub secure: bool,
    pub http_only: bool,
    /// `SameSite` as written (`Lax`, `Strict`, `None`), if present.
    pub same_site: Option<String>,
    /// The cookie deletes itself (`Max-Age=0` or an Expires in the past is not checked: only
    /// `Max-Age<=0`).
    pub deleted: bool,
}

/// Parse a `Set-Cookie` value; `None` when it has no `name=` pair (browsers ignore it).
pub fn parse_set_cookie(value: &str) -> Option<Cookie> {
    let mut parts = value.split(';');
    let pair = parts.next()?.trim();
    let (name, _) = pair.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let mut c = Cookie {
        name: name.to_string(),
        secure: false,
        http_only: false,
        same_site: None,
        deleted: false,
    };
    for attr in parts {
        let (k, v) = match attr.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (attr.trim(), ""),
        };
        match k.to_ascii_lowercase().as_str() {
            "secure" => c.secure = true,
            "httponly" => c.http_only = true,
            "samesite" => c.same_site = Some(v.to_string()),
            "max-age" => c.deleted = v.parse::<i64>().is_ok_and(|n| n <= 0),
            _ => {}
        }
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hsts_values() {
        // seed 002's header
        let h = parse_hsts("max-age=63072000; includeSubDomains; preload");
        assert_eq!(h.max_age, Some(63072000));
        assert!(h.include_subdomains && h.preload);
        assert_eq!(parse_hsts("MAX-AGE=\"300\"").max_age, Some(300));
        assert_eq!(parse_hsts("includeSubDomains").max_age, None);
        assert_eq!(parse_hsts("max-age=1; max-age=2").max_age, None);
        assert_eq!(parse_hsts("max-age=abc").max_age, None);
    }

    #[test]
    fn csp_values() {
        let c = parse_csp("default-src 'self'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'; script-src *");
        assert_eq!(c.get("frame-ancestors").unwrap(), ["'none'"]);
        let weak = weak_script_sources(c.script_sources().unwrap());
        assert_eq!(weak.len(), 1, "{weak:?}");
        let c = parse_csp("default-src 'self' 'unsafe-inline' 'nonce-abc'");
        assert!(weak_script_sources(c.script_sources().unwrap()).is_empty());
        let c = parse_csp("script-src https: 'unsafe-eval'");
        assert_eq!(weak_script_sources(c.script_sources().unwrap()).len(), 2);
        assert!(parse_csp("img-src *").script_sources().is_none());
    }

    #[test]
    fn cookies() {
        let c = parse_set_cookie("sessionid=abc123; expires=Tue, 18 Jun 2024 10:00:00 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure").unwrap();
        assert!(c.secure && c.http_only && !c.deleted);
        assert_eq!(c.same_site.as_deref(), Some("Lax"));
        let c = parse_set_cookie("csrftoken=xyz; Path=/").unwrap();
        assert!(!c.secure && !c.http_only && c.same_site.is_none());
        assert!(parse_set_cookie("sessionid=; Max-Age=0").unwrap().deleted);
        assert!(parse_set_cookie("garbage").is_none());
        assert!(parse_set_cookie("=x").is_none());
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,200}") {
            let _ = parse_hsts(&s);
            let c = parse_csp(&s);
            if let Some(src) = c.script_sources() {
                let _ = weak_script_sources(src);
            }
            let _ = parse_set_cookie(&s);
        }

        #[test]
        fn hsts_max_age_is_read(age in any::<u64>(), sub in any::<bool>(), upper in any::<bool>()) {
            let mut v = format!("max-age={age}");
            if sub {
                v.push_str("; includeSubDomains");
            }
            if upper {
                v = v.to_uppercase();
            }
            let h = parse_hsts(&v);
            prop_assert_eq!(h.max_age, Some(age));
            prop_assert_eq!(h.include_subdomains, sub);
        }

        #[test]
        fn cookie_flags_are_read(name in "[a-zA-Z_][a-zA-Z0-9_-]{0,12}", secure in any::<bool>(), http in any::<bool>(), site in proptest::option::of("(Lax|Strict|None)")) {
            let mut v = format!("{name}=v; Path=/");
            if secure { v.push_str("; Secure"); }
            if http { v.push_str("; HttpOnly"); }
            if let Some(s) = &site { v.push_str(&format!("; SameSite={s}")); }
            let c = parse_set_cookie(&v).unwrap();
            prop_assert_eq!(c.name, name);
            prop_assert_eq!(c.secure, secure);
            prop_assert_eq!(c.http_only, http);
            prop_assert_eq!(c.same_site, site);
        }
    }
}
