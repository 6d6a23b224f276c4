//! The TLS rules (WEB-PROBE-TLS-*): their documentation and their verdicts on [`TlsFacts`].

use super::{Stapling, TlsFacts};
use rempart_audit::{Evidence, Family, Level, Outcome, Rule, RuleDoc, Severity};

const TESTSSL: &str = "testssl.sh (Debian package testssl.sh)";

pub const PROTOCOLS: Rule = Rule {
    id: "WEB-PROBE-TLS-PROTOCOLS",
    name: "obsolete-tls-protocol-accepted",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Sme,
    title: "The site refuses SSLv3, TLS 1.0 and TLS 1.1",
    doc: RuleDoc {
        what: "A handshake is attempted with each protocol version alone: TLS 1.0, 1.1, 1.2 and \
               1.3 through OpenSSL (at security level 0, every suite offered, so only the \
               version decides), SSLv3 with a hand-built ClientHello (OpenSSL 3 cannot speak it). \
               Fails when SSLv3, TLS 1.0 or TLS 1.1 is accepted, or when neither TLS 1.2 nor 1.3 \
               is. TLS 1.3 missing is noted.",
        why: "TLS 1.0 and 1.1 are deprecated (RFC 8996): CBC padding attacks, SHA-1 in the \
              handshake, no AEAD suites; SSLv3 is broken by POODLE. A server accepting them lets \
              an attacker in the path downgrade old clients.",
        remediation: "nginx: `ssl_protocols TLSv1.2 TLSv1.3;`. Apache: `SSLProtocol -all +TLSv1.2 \
                      +TLSv1.3`. Traefik: a TLS option with `minVersion = \"VersionTLS12\"`. \
                      Reload the server.",
        verify: "openssl s_client -connect HOST:443 -tls1_1 </dev/null (must fail); testssl.sh -p https://HOST",
        references: &[
            "seed 000 §4 Chiffrement en transit (« TLS 1.2+ uniquement »)",
            "RFC 8996 (deprecating TLS 1.0 and 1.1)",
            TESTSSL,
        ],
    },
    check: crate::probe_only,
};

pub const CERT: Rule = Rule {
    id: "WEB-PROBE-TLS-CERT",
    name: "tls-certificate-untrusted",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "The certificate chain is trusted and names the host",
    doc: RuleDoc {
        what: "OpenSSL verifies the chain the server sends against the system trust store \
               (plus `--ca-file`) with the URL's host checked, and rempart matches the host \
               against the certificate's names itself (DNS and IP subject alternative names; a \
               wildcard covers one left-most label). Fails on any verification error (self-signed, \
               unknown issuer, missing intermediate, expired, wrong name).",
        why: "A certificate browsers do not trust teaches users to click through warnings, and a \
              client that must skip verification can be intercepted by anyone in the path.",
        remediation: "Use a certificate from a public CA for the exact names served (certbot \
                      --nginx / --apache -d NAME), and send the full chain (nginx: \
                      `fullchain.pem`; Apache: `SSLCertificateFile` with the chain).",
        verify: "openssl s_client -connect HOST:443 -servername HOST -verify_return_error </dev/null; certbot certificates",
        references: &[
            "seed 002 Phase 2 §1 HTTPS (certbot; « curl -I https://ton.domaine.tld pour vérifier le certificat »)",
            "seed 000 §4 (« HTTPS obligatoire (Traefik + Let's Encrypt) »)",
            "RFC 6125 (host name matching)",
        ],
    },
    check: crate::probe_only,
};

/// Days of validity left under which the certificate counts as expiring.
pub const EXPIRY_DAYS: i64 = 14;

pub const EXPIRY: Rule = Rule {
    id: "WEB-PROBE-TLS-EXPIRY",
    name: "tls-certificate-expiring",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Dev,
    title: "The certificate is valid for at least 14 more days",
    doc: RuleDoc {
        what: "Days between now and the leaf certificate's notAfter. Fails when it is expired, \
               not yet valid, or has fewer than 14 days left (certbot renews 30 days before \
               expiry: fewer than 14 means renewal is failing).",
        why: "An expired certificate takes the site down for every client that verifies, and a \
              renewal that silently fails (a firewall closing port 80, a changed webroot, a \
              dead timer) only shows on the day it expires.",
        remediation: "Run the renewal by hand and read its error (`certbot renew --dry-run`), fix \
                      the cause, then check the timer (`systemctl list-timers certbot.timer`).",
        verify: "echo | openssl s_client -connect HOST:443 -servername HOST 2>/dev/null | openssl x509 -noout -enddate",
        references: &[
            "seed 002 Phase 2 §1 (« sudo certbot renew --dry-run »)",
            TESTSSL,
        ],
    },
    check: crate::probe_only,
};

pub const KEY: Rule = Rule {
    id: "WEB-PROBE-TLS-KEY",
    name: "tls-key-too-weak",
    family: Family::Web,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "The certificate key is RSA 2048+ bits, EC 256+ bits or Ed25519",
    doc: RuleDoc {
        what: "The public key of the leaf certificate: RSA and DSA keys need at least 2048 bits \
               (DSA fails anyway), EC keys at least 256 bits; Ed25519 and Ed448 pass.",
        why: "RSA 1024 is within reach of well-funded attackers and refused by current browsers \
              and by OpenSSL 3 at its default security level.",
        remediation: "Issue a new certificate with an ECDSA P-256 key (certbot --key-type ecdsa) \
                      or RSA 2048/3072.",
        verify: "echo | openssl s_client -connect HOST:443 2>/dev/null | openssl x509 -noout -text | grep 'Public-Key'",
        references: &["NIST SP 800-57 Part 1 (key sizes)", TESTSSL],
    },
    check: crate::probe_only,
};

pub const OCSP: Rule = Rule {
    id: "WEB-PROBE-TLS-OCSP",
    name: "ocsp-stapling-missing",
    family: Family::Web,
    severity: Severity::Low,
    level: Level::Enterprise,
    title: "The server staples a good OCSP response",
    doc: RuleDoc {
        what: "The handshake asks for certificate status (status_request). Passes when the \
               stapled OCSP response is successful and says the certificate is good. Fails when \
               nothing is stapled, when the staple is the responder's error (Apache staples a \
               tryLater when it cannot reach the responder) or when it says revoked or unknown. \
               The response's signature is not verified here.",
        why: "Without stapling, clients either skip revocation checks or ask the CA themselves, \
              leaking which sites their users visit; a stapled revoked status means the key is \
              known to be compromised.",
        remediation: "nginx: `ssl_stapling on; ssl_stapling_verify on;` with a `resolver`. \
                      Apache: `SSLUseStapling On` and `SSLStaplingCache shmcb:...`. Note that \
                      Let's Encrypt stopped running OCSP in 2025: for its certificates this \
                      finding can be ignored with that reason.",
        verify: "echo | openssl s_client -connect HOST:443 -servername HOST -status 2>/dev/null | grep -A2 'OCSP Response'",
        references: &["RFC 6066 §8 (certificate status request)", TESTSSL],
    },
    check: crate::probe_only,
};

pub const CIPHERS: Rule = Rule {
    id: "WEB-PROBE-TLS-CIPHERS",
    name: "weak-cipher-suites-offered",
    family: Family::Web,
    severity: Severity::High,
    level: Level::Sme,
    title: "The site accepts no NULL, anonymous, export, DES/RC4 or 3DES suite",
    doc: RuleDoc {
        what: "For each of testssl.sh's weak categories, the category's suites alone are offered \
               (TLS 1.0 to 1.2): NULL (no encryption) and aNULL (anonymous) through OpenSSL, \
               EXPORT, LOW (DES, RC2, RC4, MD5) and 3DES/IDEA with a hand-built ClientHello \
               because Debian's OpenSSL 3 no longer has them. Fails when the server accepts any.",
        why: "NULL suites send data in clear, anonymous ones let anyone impersonate the server, \
              export and DES suites are broken by brute force, RC4 by statistical biases, 3DES \
              by Sweet32.",
        remediation: "Use the Mozilla \"intermediate\" configuration: nginx `ssl_ciphers \
                      ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:...` (or leave \
                      OpenSSL's default, which has none of these), Apache `SSLCipherSuite` \
                      likewise, and never `ALL`, `aNULL` or `@SECLEVEL=0`.",
        verify: "testssl.sh -s https://HOST (each weak line must say `not offered`)",
        references: &[
            "seed 000 §4 (« Ciphers sécurisés »)",
            "Mozilla Server Side TLS guidelines (intermediate)",
            TESTSSL,
        ],
    },
    check: crate::probe_only,
};

fn no_https(url: &str) -> Outcome {
    Outcome::fail(format!("{url} is not served over HTTPS"))
        .with(Evidence::source("tls").url(url).actual("no TLS service"))
}

/// The verdicts of every TLS rule; `tls` is `None` when the site has no HTTPS.
pub fn judge(tls: Option<&TlsFacts>, site_url: &str) -> Vec<(&'static Rule, Outcome)> {
    let Some(t) = tls else {
        return [&PROTOCOLS, &CERT, &EXPIRY, &KEY, &OCSP, &CIPHERS]
            .into_iter()
            .map(|r| (r, no_https(site_url)))
            .collect();
    };
    vec![
        (&PROTOCOLS, protocols(t)),
        (&CERT, cert(t)),
        (&EXPIRY, expiry(t)),
        (&KEY, key(t)),
        (&OCSP, ocsp(t)),
        (&CIPHERS, ciphers(t)),
    ]
}

fn ev(t: &TlsFacts) -> Evidence {
    Evidence::source("tls").url(t.url.origin())
}

fn protocols(t: &TlsFacts) -> Outcome {
    let mut bad = Vec::new();
    let mut accepted = Vec::new();
    let mut untested = Vec::new();
    for (p, r) in &t.protocols {
        match r {
            Ok(true) => {
                accepted.push(p.as_str());
                if p.is_obsolete() {
                    bad.push(ev(t).key(p.as_str()).actual("accepted").expected("refused"));
                }
            }
            Ok(false) => {}
            Err(e) => untested.push(format!("{}: {e}", p.as_str())),
        }
    }
    let modern = accepted.iter().any(|a| *a == "TLSv1.2" || *a == "TLSv1.3");
    let mut notes = vec![ev(t).key("accepted protocols").actual(accepted.join(", "))];
    if !untested.is_empty() {
        notes.push(ev(t).note(format!("not tested: {}", untested.join("; "))));
    }
    if modern && !accepted.contains(&"TLSv1.3") {
        notes.push(
            ev(t)
                .key("TLSv1.3")
                .actual("refused")
                .note("TLS 1.3 is not offered"),
        );
    }
    let shown = if accepted.is_empty() {
        "none".to_string()
    } else {
        accepted.join(", ")
    };
    if !bad.is_empty() {
        return Outcome::fail(format!("accepted protocols: {shown}"))
            .with_all(bad)
            .with_all(notes);
    }
    if !modern {
        if untested.len() == t.protocols.len() {
            return Outcome::error(format!(
                "no protocol could be tested ({})",
                untested.join("; ")
            ))
            .with(ev(t));
        }
        return Outcome::fail(format!(
            "neither TLS 1.2 nor 1.3 is accepted (accepted: {shown})"
        ))
        .with(ev(t).key("TLSv1.2").actual("refused").expected("accepted"))
        .with_all(notes);
    }
    Outcome::pass(format!("accepted protocols: {shown}")).with_all(notes)
}

fn cert(t: &TlsFacts) -> Outcome {
    let c = match &t.cert {
        Ok(c) => c,
        Err(e) => return Outcome::error(e.clone()).with(ev(t)),
    };
    let who = format!(
        "{} issued by {}, names: {}",
        c.subject,
        c.issuer,
        if c.names.is_empty() {
            "none".to_string()
        } else {
            c.names.join(", ")
        }
    );
    let mut bad = Vec::new();
    if let Some(e) = &c.verify_error {
        bad.push(
            ev(t)
                .key("certificate chain")
                .actual(e.as_str())
                .expected(format!("a chain to a trusted root for {}", t.url.host))
                .note(format!("{who}; {} certificates sent", c.chain_len)),
        );
    }
    if !c.name_matches {
        bad.push(
            ev(t)
                .key("certificate names")
                .actual(c.names.join(", "))
                .expected(t.url.host.as_str()),
        );
    }
    if bad.is_empty() {
        Outcome::pass(format!("trusted chain for {} ({who})", t.url.host))
    } else {
        Outcome::fail(format!(
            "the certificate is not valid for {}: {}",
            t.url.host,
            c.verify_error
                .clone()
                .unwrap_or_else(|| "name mismatch".into())
        ))
        .with_all(bad)
    }
}

fn expiry(t: &TlsFacts) -> Outcome {
    let c = match &t.cert {
        Ok(c) => c,
        Err(e) => return Outcome::error(e.clone()).with(ev(t)),
    };
    let e = ev(t)
        .key("days until notAfter")
        .actual(c.days_left)
        .note(format!("notAfter {}", c.not_after));
    if c.not_yet_valid {
        return Outcome::fail("the certificate is not valid yet").with(e);
    }
    if c.days_left < 0 {
        return Outcome::fail(format!("the certificate expired {} days ago", -c.days_left))
            .with(e.expected(format!("at least {EXPIRY_DAYS}")));
    }
    if c.days_left < EXPIRY_DAYS {
        return Outcome::fail(format!("the certificate expires in {} days", c.days_left))
            .with(e.expected(format!("at least {EXPIRY_DAYS}")));
    }
    Outcome::pass(format!(
        "the certificate is valid for {} more days",
        c.days_left
    ))
    .with(e)
}

fn key(t: &TlsFacts) -> Outcome {
    let c = match &t.cert {
        Ok(c) => c,
        Err(e) => return Outcome::error(e.clone()).with(ev(t)),
    };
    let shown = format!("{} {} bits", c.key_type, c.key_bits);
    let ok = match c.key_type.as_str() {
        "RSA" => c.key_bits >= 2048,
        "EC" => c.key_bits >= 256,
        "Ed25519" | "Ed448" => true,
        _ => false,
    };
    let e = ev(t)
        .key("certificate key")
        .actual(shown.as_str())
        .note(format!("signature {}", c.signature));
    if ok {
        Outcome::pass(format!("the certificate key is {shown}")).with(e)
    } else {
        Outcome::fail(format!("the certificate key is {shown}"))
            .with(e.expected("RSA >= 2048, EC >= 256 or Ed25519"))
    }
}

fn ocsp(t: &TlsFacts) -> Outcome {
    match &t.stapling {
        Err(e) => Outcome::error(format!("could not ask for a stapled response: {e}")).with(ev(t)),
        Ok(Stapling::NotOffered) => Outcome::fail("no OCSP response is stapled").with(
            ev(t)
                .key("OCSP stapling")
                .actual("not offered")
                .expected("offered"),
        ),
        Ok(Stapling::Offered { status, good: true }) => {
            Outcome::pass(format!("OCSP stapling offered ({status})"))
                .with(ev(t).key("OCSP status").actual(status.as_str()))
        }
        Ok(Stapling::Offered {
            status,
            good: false,
        }) if status == "revoked" => {
            Outcome::fail("the stapled OCSP response says the certificate is REVOKED")
                .with(ev(t).key("OCSP status").actual("revoked").expected("good"))
        }
        Ok(Stapling::Offered { status, .. }) => Outcome::fail(format!(
            "a response is stapled but it is not a good status: {status}"
        ))
        .with(
            ev(t)
                .key("OCSP status")
                .actual(status.as_str())
                .expected("good"),
        ),
    }
}

fn ciphers(t: &TlsFacts) -> Outcome {
    let mut bad = Vec::new();
    let mut notes = Vec::new();
    for c in &t.ciphers {
        match &c.result {
            Ok(Some(suite)) => bad.push(
                ev(t)
                    .key(format!("{} suites ({})", c.name, c.description))
                    .actual(format!("offered ({suite} accepted)"))
                    .expected("not offered"),
            ),
            Ok(None) => {}
            Err(e) => notes.push(ev(t).key(c.name).note(format!("not tested: {e}"))),
        }
    }
    let tested = t.ciphers.len() - notes.len();
    if !bad.is_empty() {
        let names: Vec<&str> = t
            .ciphers
            .iter()
            .filter(|c| matches!(c.result, Ok(Some(_))))
            .map(|c| c.name)
            .collect();
        return Outcome::fail(format!("weak suites accepted: {}", names.join(", ")))
            .with_all(bad)
            .with_all(notes);
    }
    if tested == 0 {
        return Outcome::error("no cipher category could be tested").with_all(notes);
    }
    Outcome::pass(format!(
        "none of the {tested} weak categories tested is accepted"
    ))
    .with_all(notes)
}
