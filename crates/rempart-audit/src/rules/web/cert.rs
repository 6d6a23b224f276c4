//! Certificates and private keys named by the web servers' configurations: reading the leaf
//! certificate of a PEM (or DER) file, judging its expiry against the audit's clock, and listing
//! every certificate/key pair that Apache, nginx and Traefik name. It does not read the system
//! trust store.

use crate::model::Evidence;

/// A certificate expiring within this many days fails.
pub const EXPIRY_WARN_DAYS: i64 = 14;

/// The audit's clock (seconds since the epoch). The one place "now" comes from, so the
/// judgment functions below can be tested with any instant.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// What the leaf certificate says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leaf {
    pub subject: String,
    /// notAfter, seconds since the epoch.
    pub not_after: i64,
}

/// The first certificate of a PEM file (or the DER certificate the file is). A chain file's
/// first certificate is the server's own; intermediates are not judged (Let's Encrypt chains
/// long carried an expired cross-sign on purpose).
pub fn read_leaf(bytes: &[u8]) -> Result<Leaf, String> {
    let der: Vec<u8> = if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        let mut found = None;
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            match pem {
                Ok(p) if p.label == "CERTIFICATE" || p.label == "TRUSTED CERTIFICATE" => {
                    found = Some(p.contents);
                    break;
                }
                Ok(_) => continue,
                Err(e) => return Err(format!("invalid PEM: {e}")),
            }
        }
        found.ok_or_else(|| "no CERTIFICATE block in the PEM file".to_string())?
    } else {
        bytes.to_vec()
    };
    let (_, cert) = x509_parser::parse_x509_certificate(&der)
        .map_err(|e| format!("not an X.509 certificate: {e}"))?;
    Ok(Leaf {
        subject: cert.subject().to_string(),
        not_after: cert.validity().not_after.timestamp(),
    })
}

/// True when the file holds a private key (a combined cert+key PEM).
pub fn holds_private_key(bytes: &[u8]) -> bool {
    bytes.windows(11).any(|w| w == b"PRIVATE KEY")
}

/// A certificate of Traefik's ACME storage: its main domain and its leaf (or why it did not
/// decode).
pub type AcmeCert = (String, Result<Leaf, String>);

/// Standard base64 (padding optional, whitespace ignored); `None` on any other character.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    crate::base64::decode(s)
}

/// The certificates Traefik keeps in its ACME storage (acme.json): `(domain, leaf)` for each,
/// or an error for a file that is not Traefik's JSON. Certificates that do not decode are
/// reported as errors with their domain.
pub fn acme_leaves(bytes: &[u8]) -> Result<Vec<AcmeCert>, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("not JSON: {e}"))?;
    let Some(resolvers) = v.as_object() else {
        return Err("not an object of certificate resolvers".into());
    };
    let mut out = Vec::new();
    for r in resolvers.values() {
        let Some(certs) = r.get("Certificates").and_then(|c| c.as_array()) else {
            continue;
        };
        for c in certs {
            let domain = c
                .pointer("/domain/main")
                .and_then(|d| d.as_str())
                .unwrap_or("(unknown domain)")
                .to_string();
            let leaf = c
                .get("certificate")
                .and_then(|b| b.as_str())
                .and_then(base64_decode)
                .ok_or_else(|| "certificate is not base64".to_string())
                .and_then(|pem| read_leaf(&pem));
            out.push((domain, leaf));
        }
    }
    Ok(out)
}

/// Expiry verdict of a certificate at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Valid { days_left: i64 },
    Soon { days_left: i64 },
    Expired { days_ago: i64 },
}

pub fn judge(not_after: i64, now: i64) -> Expiry {
    let left = not_after.saturating_sub(now);
    if left <= 0 {
        Expiry::Expired {
            days_ago: (-left) / 86_400,
        }
    } else if left < EXPIRY_WARN_DAYS * 86_400 {
        Expiry::Soon {
            days_left: left / 86_400,
        }
    } else {
        Expiry::Valid {
            days_left: left / 86_400,
        }
    }
}

/// An instant as `2026-11-22T00:00:00Z`.
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |t| t.to_string())
}

/// A certificate (and its key) named by a web server configuration.
#[derive(Debug, Clone)]
pub struct NamedCert {
    /// Host path of the certificate.
    pub cert: Option<String>,
    /// Host path of the key, when the configuration names one.
    pub key: Option<String>,
    /// The configuration place that names it.
    pub named_at: Evidence,
    /// `apache`, `nginx`, `traefik`, `traefik-acme`.
    pub server: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cert_pem(not_before: i64, not_after: i64) -> String {
        let mut p = rcgen::CertificateParams::new(vec!["test.example".into()]).unwrap();
        let at = |s: i64| {
            x509_parser::time::ASN1Time::from_timestamp(s)
                .unwrap()
                .to_datetime()
        };
        p.not_before = at(not_before);
        p.not_after = at(not_after);
        let key = rcgen::KeyPair::generate().unwrap();
        p.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn leaf_of_a_generated_certificate() {
        let now = now();
        let pem = cert_pem(now - 86_400, now + 5 * 86_400);
        let leaf = read_leaf(pem.as_bytes()).unwrap();
        assert_eq!(judge(leaf.not_after, now), Expiry::Soon { days_left: 5 });
        assert!(matches!(
            judge(leaf.not_after, now + 6 * 86_400),
            Expiry::Expired { .. }
        ));
        assert!(matches!(
            judge(leaf.not_after, now - 30 * 86_400),
            Expiry::Valid { .. }
        ));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_leaf(b"").is_err());
        assert!(
            read_leaf(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n").is_err()
        );
        assert!(
            read_leaf(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").is_err()
        );
        assert!(holds_private_key(b"-----BEGIN PRIVATE KEY-----"));
    }

    #[test]
    fn base64_and_acme_storage() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVs\nbG8").unwrap(), b"hello");
        assert!(base64_decode("a$b").is_none());
        let now = now();
        let pem = cert_pem(now - 86_400, now + 3 * 86_400);
        let b64 = b64(pem.as_bytes());
        let json = format!(
            r#"{{"le":{{"Account":{{}},"Certificates":[{{"domain":{{"main":"a.example"}},"certificate":"{b64}","key":"x"}},{{"domain":{{"main":"b.example"}},"certificate":"!!"}}]}}}}"#
        );
        let leaves = acme_leaves(json.as_bytes()).unwrap();
        assert_eq!(leaves[0].0, "a.example");
        assert!(matches!(
            judge(leaves[0].1.as_ref().unwrap().not_after, now),
            Expiry::Soon { .. }
        ));
        assert!(leaves[1].1.is_err());
        assert!(acme_leaves(b"[1]").is_err());
        assert!(acme_leaves(br#"{"le":{"Certificates":null}}"#)
            .unwrap()
            .is_empty());
    }

    fn b64(data: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut s = String::new();
        for chunk in data.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
            s.push_str(&"=".repeat(3 - chunk.len()));
        }
        s
    }

    proptest! {
        #[test]
        fn base64_round_trips(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(base64_decode(&b64(&data)).unwrap(), data);
        }

        #[test]
        fn acme_leaves_never_panics(s in "\\PC{0,300}") {
            let _ = acme_leaves(s.as_bytes());
        }

        #[test]
        fn read_leaf_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = read_leaf(&bytes);
        }

        #[test]
        fn read_leaf_never_panics_on_pem_framing(body in "[A-Za-z0-9+/=\n]{0,400}") {
            let pem = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
            let _ = read_leaf(pem.as_bytes());
        }

        #[test]
        fn expiry_is_monotonic(na in -1_000_000_000i64..4_000_000_000, now in 0i64..4_000_000_000) {
            let rank = |e: Expiry| match e { Expiry::Expired { .. } => 0, Expiry::Soon { .. } => 1, Expiry::Valid { .. } => 2 };
            prop_assert!(rank(judge(na, now)) >= rank(judge(na, now + 86_400)));
        }
    }
}
