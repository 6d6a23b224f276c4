//! What a host key file is: its key type (and RSA size), read from the public key beside it
//! (`ssh_host_rsa_key.pub`) or from the private key's OpenSSH or PEM header, and which host key
//! algorithms sshd offers for it. Nothing here is secret: only the public half is decoded.

use crate::host::{Host, HostError};

/// What was learnt about one host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// SSH key type (`ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`); `ecdsa` when only the PEM
    /// header was readable and the curve is unknown.
    pub key_type: String,
    /// Modulus size of an RSA key, when known.
    pub rsa_bits: Option<u32>,
}

impl KeyInfo {
    /// The host key algorithms sshd can offer with this key.
    pub fn algorithms(&self) -> Vec<&'static str> {
        match self.key_type.as_str() {
            "ssh-ed25519" => vec!["ssh-ed25519"],
            "ssh-rsa" => vec!["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"],
            "ssh-dss" => vec!["ssh-dss"],
            "ecdsa-sha2-nistp256" => vec!["ecdsa-sha2-nistp256"],
            "ecdsa-sha2-nistp384" => vec!["ecdsa-sha2-nistp384"],
            "ecdsa-sha2-nistp521" => vec!["ecdsa-sha2-nistp521"],
            "ecdsa" => vec![
                "ecdsa-sha2-nistp256",
                "ecdsa-sha2-nistp384",
                "ecdsa-sha2-nistp521",
            ],
            "sk-ssh-ed25519@openssh.com" => vec!["sk-ssh-ed25519@openssh.com"],
            "sk-ecdsa-sha2-nistp256@openssh.com" => vec![
                "sk-ecdsa-sha2-nistp256@openssh.com",
                "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
            ],
            _ => Vec::new(),
        }
    }
}

/// Identify the key at `path` (a private host key). `Ok(None)` when neither the key nor its
/// `.pub` exists, or the format is not recognised.
pub fn inspect(host: &Host, path: &str) -> Result<Option<KeyInfo>, HostError> {
    if let Some(f) = host.read_text(&format!("{path}.pub"))? {
        if let Some(info) = from_public_line(&f.text) {
            return Ok(Some(info));
        }
    }
    match host.read_text(path)? {
        Some(f) => Ok(from_private(&f.text)),
        None => Ok(None),
    }
}

/// `ssh-ed25519 AAAA... comment`.
pub fn from_public_line(text: &str) -> Option<KeyInfo> {
    let line = text.lines().find(|l| !l.trim().is_empty())?;
    let mut fields = line.split_whitespace();
    let key_type = fields.next()?.to_string();
    let blob = fields.next().and_then(base64_decode);
    let rsa_bits = if key_type == "ssh-rsa" {
        blob.as_deref().and_then(rsa_bits_of_blob)
    } else {
        None
    };
    Some(KeyInfo { key_type, rsa_bits })
}

/// An OpenSSH (`openssh-key-v1`) or PEM private key: only its type and public part.
pub fn from_private(text: &str) -> Option<KeyInfo> {
    let header = text.lines().find(|l| l.starts_with("-----BEGIN "))?;
    let pem_type = |t: &str| {
        Some(KeyInfo {
            key_type: t.to_string(),
            rsa_bits: None,
        })
    };
    match header.trim() {
        "-----BEGIN OPENSSH PRIVATE KEY-----" => {}
        "-----BEGIN RSA PRIVATE KEY-----" => return pem_type("ssh-rsa"),
        "-----BEGIN EC PRIVATE KEY-----" => return pem_type("ecdsa"),
        "-----BEGIN DSA PRIVATE KEY-----" => return pem_type("ssh-dss"),
        _ => return None,
    }
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN "))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END "))
        .collect();
    let data = base64_decode(&body)?;
    let mut r = Reader(data.strip_prefix(b"openssh-key-v1\0")?);
    r.string()?; // cipher name
    r.string()?; // kdf name
    r.string()?; // kdf options
    let n = r.u32()?;
    if n == 0 {
        return None;
    }
    let public = r.string()?;
    let key_type = String::from_utf8(Reader(public).string()?.to_vec()).ok()?;
    let rsa_bits = if key_type == "ssh-rsa" {
        rsa_bits_of_blob(public)
    } else {
        None
    };
    Some(KeyInfo { key_type, rsa_bits })
}

/// Bits of the modulus of an `ssh-rsa` public key blob (string type, mpint e, mpint n).
fn rsa_bits_of_blob(blob: &[u8]) -> Option<u32> {
    let mut r = Reader(blob);
    if r.string()? != b"ssh-rsa" {
        return None;
    }
    r.string()?; // e
    let n = r.string()?;
    let n: &[u8] = {
        let skip = n.iter().take_while(|b| **b == 0).count();
        &n[skip..]
    };
    let first = *n.first()?;
    let bytes = u32::try_from(n.len()).ok()?;
    Some(bytes * 8 - first.leading_zeros())
}

/// A cursor over SSH wire-format data.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.0.split_at_checked(4)?;
        self.0 = rest;
        Some(u32::from_be_bytes(head.try_into().ok()?))
    }

    fn string(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.u32()?).ok()?;
        let (s, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(s)
    }
}

/// Standard base64 (white space ignored, padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    crate::base64::decode(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ED25519_PUB: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBf8P1yq2uJ4gkC8MHW7ukhZBMLw2uDukoIcXrAqJQ5y root@host\n";

    #[test]
    fn public_lines() {
        let k = from_public_line(ED25519_PUB).unwrap();
        assert_eq!(k.key_type, "ssh-ed25519");
        assert_eq!(k.algorithms(), ["ssh-ed25519"]);
    }

    #[test]
    fn rsa_size_from_a_blob() {
        // string "ssh-rsa", mpint e = 65537, mpint n = 0x00 followed by 256 bytes (2048 bits).
        let mut blob = Vec::new();
        for part in [b"ssh-rsa".to_vec(), vec![1, 0, 1], {
            let mut n = vec![0u8, 0xc0];
            n.extend(std::iter::repeat_n(0xab, 255));
            n
        }] {
            blob.extend((part.len() as u32).to_be_bytes());
            blob.extend(part);
        }
        assert_eq!(rsa_bits_of_blob(&blob), Some(2048));
    }

    fn base64_encode(data: &[u8]) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for chunk in data.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    fn ssh_string(out: &mut Vec<u8>, s: &[u8]) {
        out.extend((s.len() as u32).to_be_bytes());
        out.extend(s);
    }

    #[test]
    fn openssh_private_key_header_gives_the_type() {
        let mut public = Vec::new();
        ssh_string(&mut public, b"ssh-ed25519");
        ssh_string(&mut public, &[7u8; 32]);
        let mut blob = b"openssh-key-v1\0".to_vec();
        ssh_string(&mut blob, b"none");
        ssh_string(&mut blob, b"none");
        ssh_string(&mut blob, b"");
        blob.extend(1u32.to_be_bytes());
        ssh_string(&mut blob, &public);
        ssh_string(&mut blob, b"private part, never decoded");
        let b64 = base64_encode(&blob);
        let pem = format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{}\n{}\n-----END OPENSSH PRIVATE KEY-----\n",
            &b64[..40],
            &b64[40..]
        );
        assert_eq!(from_private(&pem).unwrap().key_type, "ssh-ed25519");
        assert_eq!(
            from_private("-----BEGIN EC PRIVATE KEY-----\nxx\n-----END EC PRIVATE KEY-----\n")
                .unwrap()
                .algorithms()
                .len(),
            3
        );
        assert!(from_private(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
        )
        .is_none());
    }

    #[test]
    fn base64_round_trip_of_known_text() {
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base64_decode("aGVsbG8").unwrap(), b"hello");
        assert!(base64_decode("a*b").is_none());
    }

    proptest! {
        #[test]
        fn base64_decodes_what_was_encoded(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(base64_decode(&base64_encode(&data)).unwrap(), data);
        }

        #[test]
        fn key_parsers_never_panic(s in "\\PC{0,300}") {
            let _ = from_public_line(&s);
            let _ = from_private(&s);
            let _ = from_private(&format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{s}\n-----END OPENSSH PRIVATE KEY-----\n"));
        }
    }
}
