//! A minimal HTTP/1.1 client: one `GET` per connection (`Connection: close`), over plain TCP or
//! over an openssl TLS stream, bounded in time and size, no redirect followed (the checks judge
//! redirects themselves). Certificates are not verified here: the TLS checks judge the chain
//! and the name on their own, and a site with a bad certificate still has headers to judge.
//!
//! Why not reqwest: the TLS checks need openssl anyway (TLS 1.0/1.1 and weak suites cannot be
//! offered by rustls); a second TLS stack, hyper and its pool would double the build for a
//! dozen sequential GETs whose raw headers we want as sent.

use super::parse::{parse_response, ParseError, Response};
use super::url::{Scheme, Url};
use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Bodies kept at most (enough to recognise a debug page or a directory listing).
pub const MAX_BODY: usize = 512 * 1024;

/// How to reach the site.
#[derive(Debug, Clone)]
pub struct Connector {
    /// Connect to this address instead of resolving the URL's host (like curl's `--resolve`).
    pub connect_to: Option<IpAddr>,
    pub timeout: Duration,
}

impl Default for Connector {
    fn default() -> Self {
        Connector {
            connect_to: None,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Why a fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Nothing listens (connection refused).
    Refused(String),
    /// No answer in time.
    Timeout(String),
    /// The name does not resolve, TLS failed, or the reply is not HTTP.
    Other(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Refused(m) | FetchError::Timeout(m) | FetchError::Other(m) => {
                f.write_str(m)
            }
        }
    }
}

impl Connector {
    /// The socket address for a URL.
    pub fn address(&self, url: &Url) -> Result<SocketAddr, FetchError> {
        if let Some(ip) = self.connect_to {
            return Ok(SocketAddr::new(ip, url.port));
        }
        if let Ok(ip) = url.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, url.port));
        }
        (url.host.as_str(), url.port)
            .to_socket_addrs()
            .map_err(|e| FetchError::Other(format!("cannot resolve {}: {e}", url.host)))?
            .next()
            .ok_or_else(|| FetchError::Other(format!("{} has no address", url.host)))
    }

    /// A TCP connection to the URL's host and port, with timeouts set.
    pub fn tcp(&self, url: &Url) -> Result<TcpStream, FetchError> {
        let addr = self.address(url)?;
        let s = TcpStream::connect_timeout(&addr, self.timeout).map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                FetchError::Refused(format!("{addr}: connection refused"))
            }
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                FetchError::Timeout(format!("{addr}: no answer in {:?}", self.timeout))
            }
            _ => FetchError::Other(format!("{addr}: {e}")),
        })?;
        let _ = s.set_read_timeout(Some(self.timeout));
        let _ = s.set_write_timeout(Some(self.timeout));
        let _ = s.set_nodelay(true);
        Ok(s)
    }

    /// `GET url`, with `host` replacing the Host header when given.
    pub fn get(&self, url: &Url, host: Option<&str>) -> Result<Response, FetchError> {
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: rempart-probe/{}\r\nAccept: text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n",
            url.path,
            host.map_or_else(|| url.authority(), str::to_string),
            env!("CARGO_PKG_VERSION"),
        );
        let tcp = self.tcp(url)?;
        match url.scheme {
            Scheme::Http => exchange(tcp, request.as_bytes(), self.timeout),
            Scheme::Https => {
                let mut b = SslConnector::builder(SslMethod::tls_client())
                    .map_err(|e| FetchError::Other(format!("TLS setup: {e}")))?;
                b.set_verify(SslVerifyMode::NONE);
                // Whatever the server speaks: the TLS checks judge protocols separately.
                let _ = b.set_min_proto_version(Some(SslVersion::TLS1));
                let _ = b.set_cipher_list("ALL:@SECLEVEL=0");
                b.set_security_level(0);
                let connector = b.build();
                let mut cfg = connector
                    .configure()
                    .map_err(|e| FetchError::Other(format!("TLS setup: {e}")))?;
                cfg.set_verify_hostname(false);
                cfg.set_use_server_name_indication(!url.host_is_ip());
                let tls = cfg
                    .connect(&url.host, tcp)
                    .map_err(|e| FetchError::Other(format!("TLS handshake with {url}: {e}")))?;
                exchange(tls, request.as_bytes(), self.timeout)
            }
        }
    }
}

/// Write the request, read until the response is complete, the peer closes, or the deadline.
fn exchange<S: Read + Write>(
    mut s: S,
    request: &[u8],
    timeout: Duration,
) -> Result<Response, FetchError> {
    s.write_all(request)
        .and_then(|_| s.flush())
        .map_err(|e| FetchError::Other(format!("sending the request: {e}")))?;
    let deadline = Instant::now() + timeout.saturating_mul(2);
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = match s.read(&mut chunk) {
            Ok(n) => n,
            // A TLS peer closing without close_notify: the end of the response.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) if e.to_string().contains("unexpected eof") => 0,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return match parse_response(&buf, true, MAX_BODY, false) {
                    Ok(r) => Ok(r),
                    Err(_) => Err(FetchError::Timeout(format!(
                        "no complete response in {timeout:?}"
                    ))),
                };
            }
            Err(e) => {
                return parse_response(&buf, true, MAX_BODY, false)
                    .map_err(|_| FetchError::Other(format!("reading the response: {e}")))
            }
        };
        if n > 0 {
            buf.extend_from_slice(&chunk[..n]);
        }
        match parse_response(&buf, n == 0, MAX_BODY, false) {
            Ok(r) => return Ok(r),
            Err(ParseError::Incomplete) if n > 0 && Instant::now() < deadline => continue,
            Err(ParseError::Incomplete) if n > 0 => {
                return Err(FetchError::Timeout(format!(
                    "no complete response in {timeout:?}"
                )))
            }
            Err(ParseError::Incomplete) => {
                return Err(FetchError::Other("the response ended early".into()))
            }
            Err(e @ ParseError::Invalid(_)) => return Err(FetchError::Other(e.to_string())),
        }
    }
}
