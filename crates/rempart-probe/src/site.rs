//! What `rempart probe URL` fetches, once, before anything is judged: the page over HTTPS, the
//! same over plain HTTP (for the redirect), a page that cannot exist (a provoked 404), requests
//! with a foreign Host header and a malformed path (debug pages), the well-known paths that
//! should not be public, and the TLS facts. Requests run a few at a time; nothing is retried,
//! nothing is posted, no credential is sent.

use crate::http::{Connector, FetchError, Response, Scheme, Url};
use crate::tls::{self, TlsFacts, TlsOptions};
use crate::ProbeError;

/// Paths asked for on the site's origin.
pub const PROBE_PATHS: &[&str] = &[
    "/docs",
    "/redoc",
    "/openapi.json",
    "/swagger-ui/",
    "/api/docs",
    "/admin/",
    "/dashboard/",
    "/api/rawdata",
    "/api/overview",
    "/metrics",
    "/server-status",
    "/server-info",
    "/nginx_status",
    "/stub_status",
    "/static/",
    "/media/",
    "/uploads/",
    "/files/",
    "/backup/",
    "/.env",
    "/.git/HEAD",
    "/.git/config",
];

/// Requests in flight at once.
const PARALLEL: usize = 8;

/// How to probe.
#[derive(Debug, Clone)]
pub struct SiteOptions {
    pub url: Url,
    pub connector: Connector,
    /// Where to check the plain-HTTP redirect [default: `http://HOST/PATH`].
    pub http_url: Option<Url>,
    pub tls: TlsOptions,
}

/// One request and what came back.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub url: Url,
    /// The Host header sent when it was not the URL's.
    pub host_header: Option<String>,
    pub result: Result<Response, FetchError>,
}

impl Fetched {
    pub fn response(&self) -> Option<&Response> {
        self.result.as_ref().ok()
    }
}

/// Everything fetched.
#[derive(Debug, Clone)]
pub struct Site {
    pub given: Url,
    /// The plain-HTTP request for the redirect check.
    pub plain: Fetched,
    /// The page judged: over HTTPS when the site has it.
    pub main: Fetched,
    pub https: bool,
    /// A path that cannot exist.
    pub not_found: Fetched,
    /// `/` with a Host header the site does not serve.
    pub bad_host: Fetched,
    /// A path with a malformed percent-encoding.
    pub bad_path: Fetched,
    /// [`PROBE_PATHS`] in order.
    pub paths: Vec<Fetched>,
    pub tls: Option<TlsFacts>,
    /// Remarks on how the site was reached (a redirect followed, HTTPS missing ...).
    pub notes: Vec<String>,
}

impl Site {
    /// Every response over HTTPS (or over HTTP when the site has no HTTPS), main first.
    pub fn responses(&self) -> impl Iterator<Item = &Fetched> {
        std::iter::once(&self.main)
            .chain([&self.not_found, &self.bad_host, &self.bad_path])
            .chain(self.paths.iter())
    }

    /// The fetch of one of [`PROBE_PATHS`].
    pub fn path(&self, p: &str) -> Option<&Fetched> {
        self.paths.iter().find(|f| f.url.path == p)
    }

    /// The response of a probed path when the site really serves something there: a 2xx that
    /// is not the page every unknown path gets (a single-page app answers 200 to anything).
    pub fn served(&self, p: &str) -> Option<&Response> {
        let r = self.path(p)?.response()?;
        if !(200..300).contains(&r.status) {
            return None;
        }
        if let Some(nf) = self.not_found.response() {
            if (200..300).contains(&nf.status) && nf.body == r.body {
                return None;
            }
        }
        Some(r)
    }
}

fn fetch(conn: &Connector, url: Url, host: Option<&str>) -> Fetched {
    let result = conn.get(&url, host);
    Fetched {
        url,
        host_header: host.map(str::to_string),
        result,
    }
}

/// A path nothing serves.
fn random_path() -> String {
    let mut b = [0u8; 6];
    if openssl::rand::rand_bytes(&mut b).is_err() {
        b = [0x5a; 6];
    }
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("/rempart-probe-{hex}")
}

/// Fetch everything the checks judge.
pub fn gather(opts: &SiteOptions) -> Result<Site, ProbeError> {
    let conn = &opts.connector;
    let given = opts.url.clone();
    let mut notes = Vec::new();
    let plain_url = match (&opts.http_url, given.scheme) {
        (Some(u), _) => u.clone(),
        (None, Scheme::Http) => given.clone(),
        (None, Scheme::Https) => Url {
            scheme: Scheme::Http,
            port: 80,
            ..given.clone()
        },
    };
    let plain = fetch(conn, plain_url, None);
    let https_url = match given.scheme {
        Scheme::Https => given.clone(),
        Scheme::Http => {
            let redirected = plain
                .response()
                .filter(|r| r.is_redirect())
                .and_then(|r| r.header("location"))
                .and_then(|l| plain.url.join(l).ok())
                .filter(|u| u.scheme == Scheme::Https && u.host == given.host);
            match redirected {
                Some(u) => {
                    notes.push(format!("followed the redirect to {u}"));
                    u
                }
                None => Url {
                    scheme: Scheme::Https,
                    port: 443,
                    ..given.clone()
                },
            }
        }
    };
    let mut main = fetch(conn, https_url.clone(), None);
    let mut https = true;
    if let Err(e) = &main.result {
        if given.scheme == Scheme::Https {
            return Err(ProbeError::Io {
                what: format!("cannot fetch {given}"),
                message: e.to_string(),
            });
        }
        notes.push(format!("no HTTPS service answered at {https_url}: {e}"));
        if let Err(pe) = &plain.result {
            return Err(ProbeError::Io {
                what: format!("cannot fetch {given}"),
                message: pe.to_string(),
            });
        }
        main = plain.clone();
        https = false;
    }
    let base = main.url.clone();
    let mut jobs: Vec<(Url, Option<String>)> = vec![
        (base.with_path(&random_path()), None),
        (
            base.with_path("/"),
            Some("rempart-probe.invalid".to_string()),
        ),
        (base.with_path("/rempart-probe/%E0%A4%A"), None),
    ];
    jobs.extend(PROBE_PATHS.iter().map(|p| (base.with_path(p), None)));
    let (fetched, tls) = std::thread::scope(|s| {
        let tls = https.then(|| s.spawn(|| tls::gather(conn, &base, &opts.tls)));
        let mut out: Vec<Fetched> = Vec::with_capacity(jobs.len());
        for batch in jobs.chunks(PARALLEL) {
            let handles: Vec<_> = batch
                .iter()
                .map(|(u, h)| s.spawn(move || fetch(conn, u.clone(), h.as_deref())))
                .collect();
            for (h, (u, host)) in handles.into_iter().zip(batch) {
                out.push(h.join().unwrap_or_else(|_| Fetched {
                    url: u.clone(),
                    host_header: host.clone(),
                    result: Err(FetchError::Other("internal error".into())),
                }));
            }
        }
        let tls = tls.and_then(|h| h.join().ok());
        (out, tls)
    });
    let mut it = fetched.into_iter();
    let (Some(not_found), Some(bad_host), Some(bad_path)) = (it.next(), it.next(), it.next())
    else {
        return Err(ProbeError::Io {
            what: "probe".into(),
            message: "internal error: missing fetches".into(),
        });
    };
    Ok(Site {
        given,
        plain,
        main,
        https,
        not_found,
        bad_host,
        bad_path,
        paths: it.collect(),
        tls,
        notes,
    })
}
