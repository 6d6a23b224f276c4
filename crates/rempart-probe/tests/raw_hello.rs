//! The hand-built ClientHello path (what Debian's OpenSSL 3 can no longer offer: SSLv3, export,
//! DES/RC4, 3DES) against a TLS peer that answers like an old server would. No server library
//! on this system can still accept those suites, so the peer is a few lines that read the
//! ClientHello and answer with a ServerHello for the first suite it supports, or a
//! handshake_failure alert, as RFC 5246 §7.4 describes.

use rempart_probe::http::{Connector, Url};
use rempart_probe::tls::hello::{suites, SSL3, TLS10, TLS12};
use rempart_probe::tls::raw_hello;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::time::Duration;

/// Serve one connection: read a ClientHello and answer for `supported` suites at `max_version`.
fn old_server(
    supported: &'static [u16],
    max_version: u16,
) -> (u16, std::thread::JoinHandle<Vec<u16>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut head = [0u8; 5];
        s.read_exact(&mut head).unwrap();
        let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
        let mut rec = vec![0u8; len];
        s.read_exact(&mut rec).unwrap();
        assert_eq!(rec[0], 1, "a ClientHello");
        let client_version = u16::from_be_bytes([rec[4], rec[5]]);
        let sid = usize::from(rec[38]);
        let at = 39 + sid;
        let n = usize::from(u16::from_be_bytes([rec[at], rec[at + 1]])) / 2;
        let offered: Vec<u16> = (0..n)
            .map(|i| u16::from_be_bytes([rec[at + 2 + 2 * i], rec[at + 3 + 2 * i]]))
            .collect();
        let version = client_version.min(max_version);
        match offered.iter().find(|c| supported.contains(c)) {
            Some(&suite) if client_version >= SSL3 => {
                let mut body = version.to_be_bytes().to_vec();
                body.extend_from_slice(&[0x42; 32]);
                body.push(0);
                body.extend_from_slice(&suite.to_be_bytes());
                body.push(0);
                let mut hs = vec![2, 0, 0, body.len() as u8];
                hs.extend_from_slice(&body);
                let mut out = vec![0x16];
                out.extend_from_slice(&version.to_be_bytes());
                out.extend_from_slice(&(hs.len() as u16).to_be_bytes());
                out.extend_from_slice(&hs);
                s.write_all(&out).unwrap();
            }
            _ => s.write_all(&[0x15, 3, 1, 0, 2, 2, 40]).unwrap(),
        }
        offered
    });
    (port, h)
}

fn url(port: u16) -> Url {
    Url::parse(&format!("https://127.0.0.1:{port}/")).unwrap()
}

fn conn() -> Connector {
    Connector {
        connect_to: None,
        timeout: Duration::from_secs(5),
    }
}

#[test]
fn a_3des_server_is_caught() {
    // An old server: TLS 1.0 at most, with TLS_RSA_WITH_3DES_EDE_CBC_SHA.
    let (port, h) = old_server(&[0x000a, 0x002f], TLS10);
    let r = raw_hello(&conn(), &url(port), TLS12, suites::TRIPLE_DES_IDEA).unwrap();
    assert_eq!(r, Some((TLS10, 0x000a)));
    assert_eq!(
        h.join().unwrap(),
        suites::TRIPLE_DES_IDEA,
        "only the category is offered"
    );
}

#[test]
fn a_server_without_the_category_refuses() {
    let (port, _h) = old_server(&[0x002f, 0xc02f], TLS12);
    assert_eq!(
        raw_hello(&conn(), &url(port), TLS12, suites::EXPORT).unwrap(),
        None
    );
    let (port, _h) = old_server(&[0x002f, 0xc02f], TLS12);
    assert_eq!(
        raw_hello(&conn(), &url(port), TLS12, suites::LOW).unwrap(),
        None
    );
}

#[test]
fn sslv3_is_recognised_only_when_the_server_answers_sslv3() {
    let (port, _h) = old_server(&[0x0005], SSL3);
    assert_eq!(
        raw_hello(&conn(), &url(port), SSL3, suites::SSL3_ANY).unwrap(),
        Some((SSL3, 0x0005))
    );
    // A server that speaks TLS 1.0 at least answers an SSLv3 hello with an alert.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf).unwrap();
        s.write_all(&[0x15, 3, 0, 0, 2, 2, 70]).unwrap();
    });
    assert_eq!(
        raw_hello(&conn(), &url(port), SSL3, suites::SSL3_ANY).unwrap(),
        None
    );
    h.join().unwrap();
}

#[test]
fn a_peer_that_closes_or_is_not_tls_refuses() {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let h = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.write_all(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
            .unwrap();
    });
    assert_eq!(
        raw_hello(&conn(), &url(port), TLS12, suites::LOW).unwrap(),
        None
    );
    h.join().unwrap();
}
