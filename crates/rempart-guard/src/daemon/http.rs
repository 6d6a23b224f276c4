//! A minimal HTTP/1.0 responder for Prometheus scrapes (`GET /metrics`), answered in the daemon's
//! loop: one short request at a time, bounded reads, no keep-alive.

use super::DaemonError;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

pub(super) fn bind(addr: &str) -> Result<TcpListener, DaemonError> {
    let err = |what, source| DaemonError::Socket {
        what,
        path: addr.to_string(),
        source,
    };
    let l = TcpListener::bind(addr).map_err(|e| err("listening on", e))?;
    l.set_nonblocking(true).map_err(|e| err("configuring", e))?;
    Ok(l)
}

pub(super) fn answer(mut s: TcpStream, body: &str) {
    let _ = s.set_nonblocking(false);
    let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 2048];
    let mut n = 0;
    while n < buf.len() {
        match s.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => {
                n += k;
                if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    let req = String::from_utf8_lossy(&buf[..n]);
    let ok = req.starts_with("GET /metrics ") || req.starts_with("GET / ");
    let resp = if ok {
        format!(
            "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    } else {
        "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string()
    };
    let _ = s.write_all(resp.as_bytes());
}
