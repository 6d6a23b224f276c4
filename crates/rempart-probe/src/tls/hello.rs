//! A hand-built TLS ClientHello and the parse of the server's first answer, for what the linked
//! OpenSSL cannot offer any more (SSLv3, export, DES, RC4, 3DES and IDEA suites are compiled out
//! of Debian's OpenSSL 3): offering a suite is enough to learn whether the server accepts it, as
//! testssl.sh does with its own sockets. No handshake is completed and no key is exchanged; the
//! connection is dropped after the server's first record.

/// A protocol version on the wire.
pub const SSL3: u16 = 0x0300;
pub const TLS10: u16 = 0x0301;
pub const TLS12: u16 = 0x0303;

/// What the server answered to a ClientHello.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelloReply {
    /// A ServerHello: the version and the cipher suite it chose.
    ServerHello { version: u16, suite: u16 },
    /// An alert (level, description): typically 40 handshake_failure or 70 protocol_version.
    Alert { level: u8, description: u8 },
    /// Something else (not TLS, or a record this parser does not need).
    Other(String),
}

/// Build a ClientHello record offering `suites` at `version`, with SNI for `host` (when it is a
/// name) and, above SSLv3, the extensions ECDHE suites need.
pub fn client_hello(version: u16, suites: &[u16], host: Option<&str>, random: [u8; 32]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version.to_be_bytes());
    body.extend_from_slice(&random);
    body.push(0); // session id
    let suites_len = (suites.len() * 2) as u16;
    body.extend_from_slice(&suites_len.to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    if version > SSL3 {
        let mut ext = Vec::new();
        if let Some(h) = host.filter(|h| h.parse::<std::net::IpAddr>().is_err() && h.len() < 250) {
            let name = h.as_bytes();
            let list_len = name.len() as u16 + 3;
            push_ext(&mut ext, 0x0000, &{
                let mut v = Vec::new();
                v.extend_from_slice(&list_len.to_be_bytes());
                v.push(0);
                v.extend_from_slice(&(name.len() as u16).to_be_bytes());
                v.extend_from_slice(name);
                v
            });
        }
        // supported_groups: x25519, secp256r1, secp384r1, secp521r1
        push_ext(
            &mut ext,
            0x000a,
            &[0, 8, 0, 0x1d, 0, 0x17, 0, 0x18, 0, 0x19],
        );
        // ec_point_formats: uncompressed
        push_ext(&mut ext, 0x000b, &[1, 0]);
        if version >= TLS12 {
            // signature_algorithms: rsa_pkcs1 sha256/384/sha1, ecdsa sha256/384/sha1, rsa_pss
            push_ext(
                &mut ext,
                0x000d,
                &[0, 16, 4, 1, 5, 1, 2, 1, 4, 3, 5, 3, 2, 3, 8, 4, 8, 5],
            );
        }
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
    }
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16];
    rec.extend_from_slice(&(if version == SSL3 { SSL3 } else { TLS10 }).to_be_bytes());
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

fn push_ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// Parse the start of the server's answer. `None` when more bytes are needed.
pub fn parse_reply(buf: &[u8]) -> Option<HelloReply> {
    if buf.len() < 5 {
        return None;
    }
    let kind = buf[0];
    let len = usize::from(u16::from_be_bytes([buf[3], buf[4]]));
    if buf[1] != 3 || len > 18_432 {
        return Some(HelloReply::Other(format!(
            "not a TLS record (first bytes {:02x} {:02x} {:02x})",
            buf[0], buf[1], buf[2]
        )));
    }
    let rec = buf.get(5..5 + len)?;
    match kind {
        0x15 if rec.len() >= 2 => Some(HelloReply::Alert {
            level: rec[0],
            description: rec[1],
        }),
        0x16 => {
            // handshake: type(1) length(3) version(2) random(32) sid_len(1) sid suite(2)
            if rec.len() < 4 || rec[0] != 2 {
                return Some(HelloReply::Other(
                    "a handshake message that is not ServerHello".into(),
                ));
            }
            let version = u16::from_be_bytes([*rec.get(4)?, *rec.get(5)?]);
            let sid_len = usize::from(*rec.get(38)?);
            let at = 39 + sid_len;
            let suite = u16::from_be_bytes([*rec.get(at)?, *rec.get(at + 1)?]);
            Some(HelloReply::ServerHello { version, suite })
        }
        other => Some(HelloReply::Other(format!("TLS record of type {other}"))),
    }
}

/// IANA numbers of cipher suites OpenSSL 3 no longer offers, by testssl.sh's categories.
pub mod suites {
    /// Export-grade (40/56-bit) suites, anonymous ones excluded.
    pub const EXPORT: &[u16] = &[
        0x0003, 0x0006, 0x0008, 0x000b, 0x000e, 0x0011, 0x0014, 0x0026, 0x0027, 0x0028, 0x0029,
        0x002a, 0x002b, 0x0060, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065,
    ];
    /// LOW: single DES, RC2, RC4 and MD5-MAC suites (not export, not anonymous).
    pub const LOW: &[u16] = &[
        0x0004, 0x0005, 0x0009, 0x000c, 0x000f, 0x0012, 0x0015, 0x001e, 0x0020, 0x0022, 0x0024,
        0x008a, 0x008e, 0x0092, 0xc002, 0xc007, 0xc00c, 0xc011, 0xc033,
    ];
    /// Triple-DES and IDEA (64-bit blocks: Sweet32), not anonymous.
    pub const TRIPLE_DES_IDEA: &[u16] = &[
        0x0007, 0x000a, 0x000d, 0x0010, 0x0013, 0x0016, 0x001f, 0x0023, 0x008b, 0x008f, 0x0093,
        0xc003, 0xc008, 0xc00d, 0xc012, 0xc01a, 0xc01b, 0xc01c, 0xc034,
    ];
    /// A broad SSLv3-era list, to learn whether SSLv3 is spoken at all.
    pub const SSL3_ANY: &[u16] = &[
        0x002f, 0x0035, 0x000a, 0x0005, 0x0004, 0x0033, 0x0039, 0x0016, 0x0009, 0x0041, 0x0084,
        0x0096, 0x0007, 0x0013, 0x0032, 0x0038,
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hello_is_well_formed() {
        let h = client_hello(TLS12, &[0x000a, 0xc012], Some("rempart.test"), [7; 32]);
        assert_eq!(&h[..3], &[0x16, 3, 1]);
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        assert_eq!(h.len(), 5 + len);
        assert_eq!(h[5], 1, "ClientHello");
        let hs_len = u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize;
        assert_eq!(hs_len + 4, len);
        assert_eq!(&h[9..11], &[3, 3]);
        assert!(h.windows(12).any(|w| w == b"rempart.test"));
        let s3 = client_hello(SSL3, suites::SSL3_ANY, Some("x"), [0; 32]);
        assert_eq!(&s3[1..3], &[3, 0]);
    }

    #[test]
    fn replies() {
        // handshake_failure alert, as nginx sends when no offered suite is enabled
        assert_eq!(
            parse_reply(&[0x15, 3, 3, 0, 2, 2, 40]),
            Some(HelloReply::Alert {
                level: 2,
                description: 40
            })
        );
        let mut sh = vec![0x16, 3, 3, 0, 0, 2, 0, 0, 0, 3, 1];
        sh.extend_from_slice(&[9; 32]);
        sh.push(32);
        sh.extend_from_slice(&[1; 32]);
        sh.extend_from_slice(&[0xc0, 0x12, 0]);
        let len = (sh.len() - 5) as u16;
        sh[3..5].copy_from_slice(&len.to_be_bytes());
        assert_eq!(
            parse_reply(&sh),
            Some(HelloReply::ServerHello {
                version: TLS10,
                suite: 0xc012
            })
        );
        assert_eq!(parse_reply(&sh[..20]), None);
        assert!(matches!(
            parse_reply(b"HTTP/1.1 400 Bad"),
            Some(HelloReply::Other(_))
        ));
    }

    proptest! {
        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_reply(&b);
        }

        #[test]
        fn hello_lengths_agree(suites in proptest::collection::vec(any::<u16>(), 1..40), host in "[a-z]{1,30}", v in prop_oneof![Just(SSL3), Just(TLS10), Just(TLS12)]) {
            let h = client_hello(v, &suites, Some(&host), [1; 32]);
            let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
            prop_assert_eq!(h.len(), 5 + len);
            prop_assert_eq!(u32::from_be_bytes([0, h[6], h[7], h[8]]) as usize + 4, len);
        }
    }
}
