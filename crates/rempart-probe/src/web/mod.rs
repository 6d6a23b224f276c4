//! The HTTP checks of `rempart probe URL` (WEB-PROBE-*), judged on what [`crate::site`]
//! fetched: the plain-HTTP redirect ([`redirect`]), security headers ([`headers`]), cookie
//! flags ([`cookies`]), version banners ([`banner`]), debug pages ([`debug`]) and endpoints that
//! should not answer the public ([`exposed`]).

pub mod banner;
pub mod cookies;
pub mod debug;
pub mod exposed;
pub mod headers;
pub mod redirect;

use crate::site::{Fetched, Site};
use rempart_audit::{Evidence, Outcome, Rule};

/// Evidence about one HTTP exchange.
pub(crate) fn http_ev(f: &Fetched) -> Evidence {
    let ev = Evidence::source("http").url(f.url.to_string());
    match &f.host_header {
        Some(h) => ev.note(format!("sent with Host: {h}")),
        None => ev,
    }
}

/// When the page judged is not over HTTPS, header checks say so.
pub(crate) fn require_https(site: &Site) -> Result<(), Outcome> {
    if site.https {
        Ok(())
    } else {
        Err(
            Outcome::fail(format!("{} is not served over HTTPS", site.given)).with(
                http_ev(&site.main)
                    .key("scheme")
                    .actual("plain HTTP only")
                    .expected("https"),
            ),
        )
    }
}

/// Every HTTP verdict.
pub fn judge(site: &Site) -> Vec<(&'static Rule, Outcome)> {
    vec![
        (&redirect::RULE, redirect::check(site)),
        (&headers::HSTS, headers::hsts(site)),
        (&headers::HSTS_SUBDOMAINS, headers::hsts_subdomains(site)),
        (&headers::CSP, headers::csp(site)),
        (&headers::FRAMING, headers::framing(site)),
        (&headers::NOSNIFF, headers::nosniff(site)),
        (&headers::REFERRER, headers::referrer(site)),
        (&headers::PERMISSIONS, headers::permissions(site)),
        (&cookies::RULE, cookies::check(site)),
        (&banner::RULE, banner::check(site)),
        (&debug::RULE, debug::check(site)),
        (&exposed::API_DOCS, exposed::api_docs(site)),
        (&exposed::ADMIN, exposed::admin(site)),
        (&exposed::TRAEFIK, exposed::traefik(site)),
        (&exposed::METRICS, exposed::metrics(site)),
        (&exposed::SERVER_STATUS, exposed::server_status(site)),
        (&exposed::DIR_LISTING, exposed::dir_listing(site)),
        (&exposed::SECRET_FILES, exposed::secret_files(site)),
    ]
}
