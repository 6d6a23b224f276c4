//! The security response headers every web front end of this family must send, judged the same
//! way whatever server sets them: X-Frame-Options (or CSP `frame-ancestors`),
//! `X-Content-Type-Options: nosniff`, a Referrer-Policy, and on TLS sites HSTS with a max-age of
//! at least six months. Servers turn their configuration into [`HeaderSeen`] lists; this module
//! does not read any configuration.

use crate::model::Evidence;

/// HSTS max-age below this (six months, in seconds) is too short to protect returning visitors.
pub const HSTS_MIN_SECONDS: u64 = 15_768_000;

/// A response header a server is configured to send, with where.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderSeen {
    /// Lowercase header name.
    pub name: String,
    pub value: String,
    pub evidence: Evidence,
}

impl HeaderSeen {
    pub fn at(name: &str, value: &str, evidence: Evidence) -> HeaderSeen {
        HeaderSeen {
            name: name.to_ascii_lowercase(),
            value: value.trim().to_string(),
            evidence,
        }
    }
}

/// One thing wrong with a header set.
#[derive(Debug, Clone, PartialEq)]
pub struct HeaderProblem {
    /// `X-Frame-Options`, `Strict-Transport-Security` ...
    pub header: &'static str,
    /// What is sent: `missing`, or the weak value.
    pub actual: String,
    /// What is wanted.
    pub expected: &'static str,
    /// The offending header when it is present but weak.
    pub at: Option<Evidence>,
}

impl HeaderProblem {
    /// Evidence for this problem: the weak header's place, else `site`, with key, actual and
    /// expected filled in.
    pub fn evidence(&self, site: Evidence) -> Evidence {
        self.at
            .clone()
            .unwrap_or(site)
            .key(self.header)
            .actual(self.actual.as_str())
            .expected(self.expected)
    }
}

fn get<'a>(hs: &'a [HeaderSeen], name: &str) -> Option<&'a HeaderSeen> {
    hs.iter().rev().find(|h| h.name == name)
}

/// `max-age=N` of an HSTS value.
pub fn hsts_max_age(value: &str) -> Option<u64> {
    value.split(';').find_map(|part| {
        let (k, v) = part.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        v.trim().trim_matches('"').parse().ok()
    })
}

/// What is missing or weak in `headers` (empty when all is well).
pub fn judge(headers: &[HeaderSeen], tls: bool) -> Vec<HeaderProblem> {
    let mut out = Vec::new();
    let xfo = get(headers, "x-frame-options");
    let csp_frames = headers.iter().any(|h| {
        h.name == "content-security-policy"
            && h.value.to_ascii_lowercase().contains("frame-ancestors")
    });
    match xfo {
        _ if csp_frames => {}
        Some(h) if ["deny", "sameorigin"].contains(&h.value.to_ascii_lowercase().as_str()) => {}
        Some(h) => out.push(HeaderProblem {
            header: "X-Frame-Options",
            actual: h.value.clone(),
            expected: "DENY or SAMEORIGIN (or CSP frame-ancestors)",
            at: Some(h.evidence.clone()),
        }),
        None => out.push(HeaderProblem {
            header: "X-Frame-Options",
            actual: "missing".into(),
            expected: "DENY or SAMEORIGIN (or CSP frame-ancestors)",
            at: None,
        }),
    }
    match get(headers, "x-content-type-options") {
        Some(h) if h.value.eq_ignore_ascii_case("nosniff") => {}
        Some(h) => out.push(HeaderProblem {
            header: "X-Content-Type-Options",
            actual: h.value.clone(),
            expected: "nosniff",
            at: Some(h.evidence.clone()),
        }),
        None => out.push(HeaderProblem {
            header: "X-Content-Type-Options",
            actual: "missing".into(),
            expected: "nosniff",
            at: None,
        }),
    }
    match get(headers, "referrer-policy") {
        Some(h) if h.value.is_empty() || h.value.eq_ignore_ascii_case("unsafe-url") => {
            out.push(HeaderProblem {
                header: "Referrer-Policy",
                actual: h.value.clone(),
                expected: "a policy other than unsafe-url",
                at: Some(h.evidence.clone()),
            })
        }
        Some(_) => {}
        None => out.push(HeaderProblem {
            header: "Referrer-Policy",
            actual: "missing".into(),
            expected: "a policy other than unsafe-url",
            at: None,
        }),
    }
    if tls {
        match get(headers, "strict-transport-security") {
            Some(h) => {
                if hsts_max_age(&h.value).is_none_or(|n| n < HSTS_MIN_SECONDS) {
                    out.push(HeaderProblem {
                        header: "Strict-Transport-Security",
                        actual: h.value.clone(),
                        expected: "max-age >= 15768000 (six months)",
                        at: Some(h.evidence.clone()),
                    });
                }
            }
            None => out.push(HeaderProblem {
                header: "Strict-Transport-Security",
                actual: "missing".into(),
                expected: "max-age >= 15768000 (six months)",
                at: None,
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: &str, v: &str) -> HeaderSeen {
        HeaderSeen::at(n, v, Evidence::file("/x"))
    }

    #[test]
    fn the_seed_set_passes_and_each_gap_is_named() {
        let good = vec![
            h("X-Frame-Options", "DENY"),
            h("X-Content-Type-Options", "nosniff"),
            h("Referrer-Policy", "no-referrer-when-downgrade"),
            h(
                "Strict-Transport-Security",
                "max-age=63072000; includeSubDomains; preload",
            ),
        ];
        assert!(judge(&good, true).is_empty());
        assert!(judge(&good[..3], false).is_empty());
        let p = judge(&good[..3], true);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].header, "Strict-Transport-Security");
        let mut short = good.clone();
        short[3] = h("strict-transport-security", "max-age=300");
        assert_eq!(judge(&short, true)[0].actual, "max-age=300");
        assert_eq!(judge(&[], true).len(), 4);
    }

    #[test]
    fn csp_frame_ancestors_stands_for_x_frame_options() {
        let hs = vec![
            h(
                "content-security-policy",
                "default-src 'self'; frame-ancestors 'none'",
            ),
            h("x-content-type-options", "nosniff"),
            h("referrer-policy", "same-origin"),
        ];
        assert!(judge(&hs, false).is_empty());
    }

    #[test]
    fn hsts_parsing() {
        assert_eq!(hsts_max_age("max-age=31536000"), Some(31_536_000));
        assert_eq!(hsts_max_age("includeSubDomains; Max-Age=\"10\""), Some(10));
        assert_eq!(hsts_max_age("preload"), None);
    }
}
