//! The TLS service as a client meets it: which protocol versions it accepts, the certificate
//! chain and name, expiry, key, OCSP stapling, and weak cipher suites. Handshakes go through the
//! openssl crate (which can still offer TLS 1.0/1.1, NULL and anonymous suites at security
//! level 0); what Debian's OpenSSL 3 cannot offer any more (SSLv3, export, DES, RC4, 3DES) is
//! asked with a hand-built ClientHello ([`hello`]). [`rules`] judges the facts.

pub mod hello;
pub mod rules;

use crate::http::{Connector, Url};
use hello::{client_hello, parse_reply, HelloReply};
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::ocsp::{OcspCertId, OcspCertStatus, OcspResponse, OcspResponseStatus};
use openssl::pkey::Id;
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion, StatusType};
use openssl::x509::X509;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A protocol version judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Ssl3,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl Protocol {
    pub const ALL: [Protocol; 5] = [
        Protocol::Ssl3,
        Protocol::Tls10,
        Protocol::Tls11,
        Protocol::Tls12,
        Protocol::Tls13,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Ssl3 => "SSLv3",
            Protocol::Tls10 => "TLSv1.0",
            Protocol::Tls11 => "TLSv1.1",
            Protocol::Tls12 => "TLSv1.2",
            Protocol::Tls13 => "TLSv1.3",
        }
    }

    /// Versions that must be refused.
    pub fn is_obsolete(self) -> bool {
        matches!(self, Protocol::Ssl3 | Protocol::Tls10 | Protocol::Tls11)
    }

    fn openssl(self) -> Option<SslVersion> {
        match self {
            Protocol::Ssl3 => None,
            Protocol::Tls10 => Some(SslVersion::TLS1),
            Protocol::Tls11 => Some(SslVersion::TLS1_1),
            Protocol::Tls12 => Some(SslVersion::TLS1_2),
            Protocol::Tls13 => Some(SslVersion::TLS1_3),
        }
    }
}

/// The certificate as presented.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub subject: String,
    pub issuer: String,
    /// DNS and IP subject alternative names.
    pub names: Vec<String>,
    /// Certificates sent by the server (leaf included).
    pub chain_len: usize,
    /// OpenSSL's verdict on the chain against the system's trust store (and `--ca-file`), with
    /// the host name checked: `None` when it verifies.
    pub verify_error: Option<String>,
    /// The URL's host matches a name of the certificate.
    pub name_matches: bool,
    /// Days until `notAfter` (negative once expired).
    pub days_left: i64,
    pub not_after: String,
    /// Not yet valid (`notBefore` in the future).
    pub not_yet_valid: bool,
    /// `RSA`, `EC`, `Ed25519` ...
    pub key_type: String,
    pub key_bits: u32,
    pub signature: String,
}

/// The stapled OCSP response, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stapling {
    NotOffered,
    /// Stapled: the certificate's status in it (`good`, `revoked`, `unknown`), or the
    /// responder's error (`tryLater` ...), or why it could not be read. `good` only when the
    /// response is successful and says the certificate is good.
    Offered {
        status: String,
        good: bool,
    },
}

/// A weak cipher category, and whether the server accepted one of its suites.
#[derive(Debug, Clone)]
pub struct CipherCategory {
    /// testssl.sh's name for the category (`NULL`, `aNULL`, `EXPORT`, `LOW`, `3DES_IDEA`).
    pub name: &'static str,
    pub description: &'static str,
    /// `Ok(Some(suite))`: accepted (the suite the server chose); `Ok(None)`: refused.
    pub result: Result<Option<String>, String>,
}

/// Everything the TLS rules judge.
#[derive(Debug, Clone)]
pub struct TlsFacts {
    pub url: Url,
    /// Per protocol: accepted, refused, or why it could not be tested.
    pub protocols: Vec<(Protocol, Result<bool, String>)>,
    pub cert: Result<CertInfo, String>,
    pub stapling: Result<Stapling, String>,
    pub ciphers: Vec<CipherCategory>,
}

/// How to run the TLS checks.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Also trust the certificates in this file (your own CA, in tests).
    pub ca_file: Option<PathBuf>,
}

struct Attempt<'a> {
    min: SslVersion,
    max: SslVersion,
    ciphers: &'a str,
    verify: bool,
    ocsp: bool,
}

struct Done {
    version: String,
    cipher: String,
    chain: Vec<X509>,
    verify_error: Option<String>,
    ocsp: Option<Vec<u8>>,
}

fn handshake(
    conn: &Connector,
    url: &Url,
    opts: &TlsOptions,
    a: &Attempt,
) -> Result<Result<Done, String>, String> {
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(|e| e.to_string())?;
    b.set_min_proto_version(Some(a.min))
        .map_err(|e| e.to_string())?;
    b.set_max_proto_version(Some(a.max))
        .map_err(|e| e.to_string())?;
    b.set_security_level(0);
    b.set_cipher_list(a.ciphers)
        .map_err(|e| format!("OpenSSL here cannot offer `{}`: {e}", a.ciphers))?;
    b.set_verify(SslVerifyMode::NONE);
    if a.verify {
        b.set_default_verify_paths().map_err(|e| e.to_string())?;
        if let Some(ca) = &opts.ca_file {
            b.set_ca_file(ca)
                .map_err(|e| format!("--ca-file {}: {e}", ca.display()))?;
        }
    }
    let connector = b.build();
    let mut cfg = connector.configure().map_err(|e| e.to_string())?;
    cfg.set_use_server_name_indication(!url.host_is_ip());
    cfg.set_verify_hostname(a.verify);
    if a.ocsp {
        cfg.set_status_type(StatusType::OCSP)
            .map_err(|e| e.to_string())?;
    }
    let tcp = conn.tcp(url).map_err(|e| e.to_string())?;
    match cfg.connect(&url.host, tcp) {
        Ok(s) => {
            let ssl = s.ssl();
            let chain: Vec<X509> = ssl
                .peer_cert_chain()
                .map(|c| c.iter().map(|x| x.to_owned()).collect())
                .unwrap_or_default();
            let v = ssl.verify_result();
            Ok(Ok(Done {
                version: ssl.version_str().to_string(),
                cipher: ssl
                    .current_cipher()
                    .map(|c| c.name().to_string())
                    .unwrap_or_default(),
                chain,
                verify_error: (v.as_raw() != 0).then(|| v.error_string().to_string()),
                ocsp: ssl.ocsp_status().map(|b| b.to_vec()),
            }))
        }
        // The server refused what was offered: a result, not an error.
        Err(e) => Ok(Err(e.to_string())),
    }
}

/// Offer `suites` with a raw ClientHello: `Ok(Some((version, suite)))` when accepted.
pub fn raw_hello(
    conn: &Connector,
    url: &Url,
    version: u16,
    suites: &[u16],
) -> Result<Option<(u16, u16)>, String> {
    let mut tcp = conn.tcp(url).map_err(|e| e.to_string())?;
    let mut random = [0u8; 32];
    openssl::rand::rand_bytes(&mut random).map_err(|e| e.to_string())?;
    let host = (!url.host_is_ip()).then_some(url.host.as_str());
    tcp.write_all(&client_hello(version, suites, host, random))
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + conn.timeout;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(r) = parse_reply(&buf) {
            return Ok(match r {
                HelloReply::ServerHello { version: v, suite } if suites.contains(&suite) => {
                    (v == version || version != hello::SSL3).then_some((v, suite))
                }
                _ => None,
            });
        }
        if Instant::now() > deadline || buf.len() > 20_000 {
            return Ok(None);
        }
        match tcp.read(&mut chunk) {
            // Closed without an answer: refused.
            Ok(0) => return Ok(None),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn suite_name(code: u16) -> String {
    format!("0x{code:04X}")
}

/// Run every TLS check against `url` (an https URL). Handshakes run in parallel threads.
pub fn gather(conn: &Connector, url: &Url, opts: &TlsOptions) -> TlsFacts {
    std::thread::scope(|s| {
        let protos: Vec<_> = Protocol::ALL
            .iter()
            .map(|p| {
                let p = *p;
                s.spawn(move || (p, test_protocol(conn, url, opts, p)))
            })
            .collect();
        let cert = s.spawn(|| cert_and_stapling(conn, url, opts));
        let ciphers = s.spawn(|| cipher_categories(conn, url, opts));
        let protocols = protos
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or((Protocol::Tls12, Err("internal error".into())))
            })
            .collect();
        let (cert, stapling) = cert
            .join()
            .unwrap_or_else(|_| (Err("internal error".into()), Err("internal error".into())));
        TlsFacts {
            url: url.clone(),
            protocols,
            cert,
            stapling,
            ciphers: ciphers.join().unwrap_or_default(),
        }
    })
}

fn test_protocol(
    conn: &Connector,
    url: &Url,
    opts: &TlsOptions,
    p: Protocol,
) -> Result<bool, String> {
    match p.openssl() {
        None => raw_hello(conn, url, hello::SSL3, hello::suites::SSL3_ANY).map(|r| r.is_some()),
        Some(v) => {
            let ciphers = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";
            let a = Attempt {
                min: v,
                max: v,
                ciphers,
                verify: false,
                ocsp: false,
            };
            match handshake(conn, url, opts, &a)? {
                Ok(done) => {
                    Ok(done.version == p.as_str() || version_alias(&done.version) == p.as_str())
                }
                Err(_) => Ok(false),
            }
        }
    }
}

fn version_alias(v: &str) -> &str {
    match v {
        "TLSv1" => "TLSv1.0",
        other => other,
    }
}

fn cert_and_stapling(
    conn: &Connector,
    url: &Url,
    opts: &TlsOptions,
) -> (Result<CertInfo, String>, Result<Stapling, String>) {
    let a = Attempt {
        min: SslVersion::TLS1,
        max: SslVersion::TLS1_3,
        ciphers: "ALL:COMPLEMENTOFALL:@SECLEVEL=0",
        verify: true,
        ocsp: true,
    };
    let done = match handshake(conn, url, opts, &a) {
        Ok(Ok(d)) => d,
        Ok(Err(e)) | Err(e) => return (Err(format!("TLS handshake failed: {e}")), Err(e)),
    };
    let Some(leaf) = done.chain.first() else {
        return (
            Err("the server sent no certificate".into()),
            Ok(Stapling::NotOffered),
        );
    };
    let stapling = match &done.ocsp {
        None => Ok(Stapling::NotOffered),
        Some(der) => {
            let status = ocsp_status(der, leaf, done.chain.get(1));
            Ok(Stapling::Offered {
                good: status == "good",
                status,
            })
        }
    };
    let _ = (&done.version, &done.cipher);
    (Ok(cert_info(leaf, &done, url)), stapling)
}

fn ocsp_status(der: &[u8], leaf: &X509, issuer: Option<&X509>) -> String {
    let Ok(resp) = OcspResponse::from_der(der) else {
        return "unreadable response".into();
    };
    if resp.status() != OcspResponseStatus::SUCCESSFUL {
        let name = match resp.status().as_raw() {
            1 => "malformedRequest",
            2 => "internalError",
            3 => "tryLater",
            5 => "sigRequired",
            6 => "unauthorized",
            _ => "unknown error",
        };
        return format!("an error response from the responder ({name})");
    }
    let (Ok(basic), Some(issuer)) = (resp.basic(), issuer) else {
        return "successful response (issuer not sent: status not read)".into();
    };
    let Ok(id) = OcspCertId::from_cert(MessageDigest::sha1(), leaf, issuer) else {
        return "successful response (certificate id not computed)".into();
    };
    match basic.find_status(&id) {
        Some(st) if st.status == OcspCertStatus::GOOD => "good".into(),
        Some(st) if st.status == OcspCertStatus::REVOKED => "revoked".into(),
        Some(_) => "unknown".into(),
        None => "the response does not cover this certificate".into(),
    }
}

fn name_of(x: &openssl::x509::X509NameRef) -> String {
    x.entries_by_nid(Nid::COMMONNAME)
        .next()
        .and_then(|e| e.data().to_string().ok().map(|s| format!("CN={s}")))
        .or_else(|| x.entries().next().and_then(|e| e.data().to_string().ok()))
        .unwrap_or_else(|| "(empty)".into())
}

fn cert_info(leaf: &X509, done: &Done, url: &Url) -> CertInfo {
    let mut names = Vec::new();
    if let Some(sans) = leaf.subject_alt_names() {
        for n in sans.iter() {
            if let Some(d) = n.dnsname() {
                names.push(d.to_string());
            } else if let Some(ip) = n.ipaddress() {
                let ip = match ip.len() {
                    4 => std::net::IpAddr::from(<[u8; 4]>::try_from(ip).unwrap_or([0; 4]))
                        .to_string(),
                    16 => std::net::IpAddr::from(<[u8; 16]>::try_from(ip).unwrap_or([0; 16]))
                        .to_string(),
                    _ => continue,
                };
                names.push(ip);
            }
        }
    }
    let now = Asn1Time::days_from_now(0).ok();
    let days_left = now
        .as_ref()
        .and_then(|n| n.diff(leaf.not_after()).ok())
        .map_or(0, |d| i64::from(d.days));
    let not_yet_valid = now
        .as_ref()
        .and_then(|n| n.diff(leaf.not_before()).ok())
        .is_some_and(|d| d.days > 0 || (d.days == 0 && d.secs > 0));
    let (key_type, key_bits) = match leaf.public_key() {
        Ok(k) => (
            match k.id() {
                Id::RSA => "RSA".to_string(),
                Id::EC => "EC".to_string(),
                Id::ED25519 => "Ed25519".to_string(),
                Id::ED448 => "Ed448".to_string(),
                Id::DSA => "DSA".to_string(),
                other => format!("key type {}", other.as_raw()),
            },
            k.bits(),
        ),
        Err(_) => ("unreadable".to_string(), 0),
    };
    CertInfo {
        subject: name_of(leaf.subject_name()),
        issuer: name_of(leaf.issuer_name()),
        name_matches: host_matches(&url.host, &names, leaf),
        names,
        chain_len: done.chain.len(),
        verify_error: done.verify_error.clone(),
        days_left,
        not_after: leaf.not_after().to_string(),
        not_yet_valid,
        key_type,
        key_bits,
        signature: leaf
            .signature_algorithm()
            .object()
            .nid()
            .long_name()
            .unwrap_or("unknown")
            .to_string(),
    }
}

/// RFC 6125 matching: exact names, or a wildcard in the left-most label only; the subject CN
/// is used only when there is no DNS name at all.
pub fn host_matches(host: &str, names: &[String], leaf: &X509) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let m = |pat: &str| {
        let pat = pat.trim_end_matches('.').to_ascii_lowercase();
        if pat == host {
            return true;
        }
        match pat.strip_prefix("*.") {
            Some(rest) => host.split_once('.').is_some_and(|(first, tail)| {
                !first.is_empty() && tail == rest && rest.contains('.')
            }),
            None => false,
        }
    };
    if !names.is_empty() {
        return names.iter().any(|n| m(n));
    }
    leaf.subject_name()
        .entries_by_nid(Nid::COMMONNAME)
        .filter_map(|e| e.data().to_string().ok())
        .any(|cn| m(&cn))
}

/// testssl.sh's weak categories: NULL and anonymous suites through OpenSSL, the others (that
/// OpenSSL 3 no longer has) through raw ClientHellos.
fn cipher_categories(conn: &Connector, url: &Url, opts: &TlsOptions) -> Vec<CipherCategory> {
    let via_openssl = |list: &str| -> Result<Option<String>, String> {
        let a = Attempt {
            min: SslVersion::TLS1,
            max: SslVersion::TLS1_2,
            ciphers: list,
            verify: false,
            ocsp: false,
        };
        match handshake(conn, url, opts, &a)? {
            Ok(d) => Ok(Some(d.cipher)),
            Err(_) => Ok(None),
        }
    };
    let via_hello = |suites: &[u16]| -> Result<Option<String>, String> {
        // TLS 1.2 first, then 1.0 for servers that stop at 1.0.
        for v in [hello::TLS12, hello::TLS10] {
            if let Some((_, s)) = raw_hello(conn, url, v, suites)? {
                return Ok(Some(suite_name(s)));
            }
        }
        Ok(None)
    };
    vec![
        CipherCategory {
            name: "NULL",
            description: "no encryption",
            result: via_openssl("eNULL:NULL:!aNULL:@SECLEVEL=0"),
        },
        CipherCategory {
            name: "aNULL",
            description: "anonymous (no authentication)",
            result: via_openssl("aNULL:!eNULL:@SECLEVEL=0"),
        },
        CipherCategory {
            name: "EXPORT",
            description: "export-grade (40/56-bit)",
            result: via_hello(hello::suites::EXPORT),
        },
        CipherCategory {
            name: "LOW",
            description: "DES, RC2, RC4, MD5",
            result: via_hello(hello::suites::LOW),
        },
        CipherCategory {
            name: "3DES_IDEA",
            description: "3DES and IDEA (64-bit blocks, Sweet32)",
            result: via_hello(hello::suites::TRIPLE_DES_IDEA),
        },
    ]
}

/// The timeout for TLS handshakes when none is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
