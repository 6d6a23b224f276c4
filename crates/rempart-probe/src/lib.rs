//! `rempart probe`: what a person checks from the outside with curl, testssl.sh and nmap, for
//! their own site and host, judged with the audit's finding model.
//!
//! - [`site`]: `rempart probe URL` — fetches a handful of pages over plain HTTP and HTTPS with a
//!   small HTTP/1.1 client ([`http`]) over the openssl stream the TLS checks need anyway, and
//!   judges redirects, security headers, cookies, banners, debug pages and endpoints that should
//!   not be public ([`web`]); then the TLS service itself ([`tls`]): protocol versions (1.0 and
//!   1.1 must be refused, which rustls cannot even offer), certificate chain and name, expiry,
//!   key, OCSP stapling, weak cipher suites.
//! - [`ports`]: `rempart probe --ports HOST` — a concurrent TCP connect scan of one host,
//!   compared with the allowed ports.
//!
//! Each check is a documented [`Rule`](rempart_audit::Rule) of its own small catalogue
//! ([`catalogue::RULES`], `rempart rules --probe`, `rempart explain ID`), and a run produces an
//! [`rempart_audit::Report`] rendered by the audit's renderers (same JSON schema, same exit
//! codes). This crate never prints and never exits.
//!
//! It does not read the host it runs on (that is `rempart audit`) and never scans more than one
//! address.

#![forbid(unsafe_code)]

pub mod catalogue;
pub mod http;
pub mod ports;
pub mod site;
pub mod tls;
pub mod web;

use rempart_audit::engine::{assemble, AuditOptions};
use rempart_audit::report::{Finding, Target, TargetKind};
use rempart_audit::{AuditConfig, Ctx, Outcome, Report, Rule, Severity, Status};
use std::time::Duration;

/// The `check` of probe rules in the audit's sense: they are judged by `rempart probe` from
/// what it fetched, never by an audit run (they are not in the audit's registry).
pub fn probe_only(_: &Ctx) -> Outcome {
    Outcome::skip("judged by `rempart probe`, not by the audit")
}

/// Why a probe could not run at all (a check that fails is a finding, not an error).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("{0}")]
    Target(String),
    #[error("cannot resolve {host}: {message}")]
    Resolve { host: String, message: String },
    #[error("{what}: {message}")]
    Io { what: String, message: String },
}

/// The report of a probe run: each judged rule becomes a finding (rules below the severity
/// threshold are dropped, as the audit does), ignores of the configuration apply, and the score
/// is computed like an audit's.
pub fn report(
    target: ProbeTarget,
    judged: Vec<(&Rule, Outcome)>,
    config: &AuditConfig,
    opts: &AuditOptions,
    duration: Duration,
) -> Report {
    let mut findings = Vec::with_capacity(judged.len());
    for (rule, outcome) in judged {
        if rule.severity < opts.min_severity && rule.severity != Severity::Info {
            continue;
        }
        let needed = matches!(outcome.status, Status::Fail | Status::Error);
        let mut f = Finding::new(rule, outcome, opts.profile);
        let ignore = config.ignore.iter().find(|i| {
            i.id.eq_ignore_ascii_case(rule.id) || i.id.eq_ignore_ascii_case(rule.family.as_str())
        });
        if let (Some(ig), true) = (ignore, needed) {
            f.status = Status::Skip;
            f.message = format!("ignored by configuration: {} ({})", ig.reason, f.message);
            f.ignored = Some(ig.reason.clone());
        }
        findings.push(f);
    }
    assemble(
        Target {
            root: target.shown,
            hostname: target.hostname,
            live: true,
            kind: target.kind,
        },
        opts,
        findings,
        duration.as_secs_f64() * 1000.0,
    )
}

/// What a probe report is about.
#[derive(Debug, Clone)]
pub struct ProbeTarget {
    pub kind: TargetKind,
    /// The URL, or the host scanned with its address.
    pub shown: String,
    pub hostname: Option<String>,
}

/// Rules with their verdicts, in catalogue order.
pub type Judged = Vec<(&'static Rule, Outcome)>;

/// Fetch a site and judge every web and TLS rule on it.
pub fn probe_site(opts: &site::SiteOptions) -> Result<(site::Site, Judged), ProbeError> {
    let s = site::gather(opts)?;
    let mut judged = web::judge(&s);
    judged.extend(tls::rules::judge(s.tls.as_ref(), &s.main.url.origin()));
    Ok((s, judged))
}
