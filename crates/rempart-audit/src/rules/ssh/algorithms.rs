//! Algorithm lists of sshd 9.2 (Debian 12): what it supports, its defaults, how a configured list
//! (`aes256-ctr,...`, `+ssh-rsa`, `-*sha1*`, `^curve25519-sha256`) becomes the list it offers
//! (`kex_assemble_names`), and the hardening policy each algorithm is graded against.
//!
//! The policy is ssh-audit's built-in "Hardened Debian 12 (version 2)" policy
//! (github.com/jtesta/ssh-audit, `builtin_policies.py`), the reference the sshaudit.com Debian 12
//! hardening guide produces. Lists here were printed by Debian's `ssh -Q` and `sshd -T`.

use super::matching::match_pattern_list;

/// Which list a keyword configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlgoKind {
    Cipher,
    Mac,
    Kex,
    /// `GSSAPIKexAlgorithms` (Debian's GSSAPI key exchange patch).
    GssKex,
    /// Host key, public key, host-based and CA signature algorithms.
    Key,
}

pub const ALL_CIPHERS: &[&str] = &[
    "3des-cbc",
    "aes128-cbc",
    "aes192-cbc",
    "aes256-cbc",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
];

pub const DEFAULT_CIPHERS: &[&str] = &[
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes192-ctr",
    "aes256-ctr",
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
];

pub const ALL_MACS: &[&str] = &[
    "hmac-sha1",
    "hmac-sha1-96",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-md5",
    "hmac-md5-96",
    "umac-64@openssh.com",
    "umac-128@openssh.com",
    "hmac-sha1-etm@openssh.com",
    "hmac-sha1-96-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-md5-etm@openssh.com",
    "hmac-md5-96-etm@openssh.com",
    "umac-64-etm@openssh.com",
    "umac-128-etm@openssh.com",
];

pub const DEFAULT_MACS: &[&str] = &[
    "umac-64-etm@openssh.com",
    "umac-128-etm@openssh.com",
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "hmac-sha1-etm@openssh.com",
    "umac-64@openssh.com",
    "umac-128@openssh.com",
    "hmac-sha2-256",
    "hmac-sha2-512",
    "hmac-sha1",
];

pub const ALL_KEX: &[&str] = &[
    "diffie-hellman-group1-sha1",
    "diffie-hellman-group14-sha1",
    "diffie-hellman-group14-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group-exchange-sha1",
    "diffie-hellman-group-exchange-sha256",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
];

pub const DEFAULT_KEX: &[&str] = &[
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384",
    "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group14-sha256",
];

/// GSSAPI key exchange name prefixes (the names carry a mechanism hash after the dash).
const GSS_KEX_PREFIXES: &[&str] = &[
    "gss-gex-sha1-",
    "gss-group1-sha1-",
    "gss-group14-sha1-",
    "gss-group14-sha256-",
    "gss-group16-sha512-",
    "gss-nistp256-sha256-",
    "gss-curve25519-sha256-",
];

pub const DEFAULT_GSS_KEX: &[&str] = &[
    "gss-group14-sha256-",
    "gss-group16-sha512-",
    "gss-nistp256-sha256-",
    "gss-curve25519-sha256-",
    "gss-group14-sha1-",
    "gss-gex-sha1-",
];

/// Every key and signature algorithm (`sshkey_alg_list(0, 0, 1)`), the universe of
/// HostKeyAlgorithms, PubkeyAcceptedAlgorithms and HostbasedAcceptedAlgorithms.
pub const ALL_KEYS: &[&str] = &[
    "ssh-ed25519",
    "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
    "ssh-dss-cert-v01@openssh.com",
    "ssh-rsa",
    "ssh-rsa-cert-v01@openssh.com",
    "rsa-sha2-256",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-512-cert-v01@openssh.com",
];

pub const DEFAULT_KEYS: &[&str] = &[
    "ssh-ed25519-cert-v01@openssh.com",
    "ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "ecdsa-sha2-nistp384-cert-v01@openssh.com",
    "ecdsa-sha2-nistp521-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-256",
];

/// Plain signature algorithms (`sshkey_alg_list(0, 1, 1)`), the universe of
/// CASignatureAlgorithms.
pub const ALL_SIGS: &[&str] = &[
    "ssh-ed25519",
    "sk-ssh-ed25519@openssh.com",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
    "ssh-rsa",
    "rsa-sha2-256",
    "rsa-sha2-512",
];

pub const DEFAULT_SIGS: &[&str] = &[
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "rsa-sha2-512",
    "rsa-sha2-256",
];

/// Short key type names sshd also accepts (case-insensitively) as key types.
const KEY_SHORTNAMES: &[&str] = &["ED25519", "ED25519-SK", "ECDSA", "ECDSA-SK", "DSA", "RSA"];

/// ssh-audit "Hardened Debian 12 (version 2)": acceptable ciphers.
pub const POLICY_CIPHERS: &[&str] = &[
    "chacha20-poly1305@openssh.com",
    "aes256-gcm@openssh.com",
    "aes256-ctr",
    "aes192-ctr",
    "aes128-gcm@openssh.com",
    "aes128-ctr",
];

/// ssh-audit "Hardened Debian 12 (version 2)": acceptable MACs (encrypt-then-MAC only).
pub const POLICY_MACS: &[&str] = &[
    "hmac-sha2-256-etm@openssh.com",
    "hmac-sha2-512-etm@openssh.com",
    "umac-128-etm@openssh.com",
];

/// ssh-audit "Hardened Debian 12 (version 2)": acceptable key exchanges (the policy's
/// `kex-strict-s-v00@openssh.com` marker is not configurable and is left out;
/// `sntrup761x25519-sha512` is the same method under its newer name).
pub const POLICY_KEX: &[&str] = &[
    "sntrup761x25519-sha512",
    "sntrup761x25519-sha512@openssh.com",
    "curve25519-sha256",
    "curve25519-sha256@libssh.org",
    "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512",
    "diffie-hellman-group-exchange-sha256",
];

/// ssh-audit "Hardened Debian 12 (version 2)": acceptable host key algorithms (required and
/// optional ones).
pub const POLICY_HOST_KEYS: &[&str] = &[
    "ssh-ed25519",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "sk-ssh-ed25519@openssh.com",
    "ssh-ed25519-cert-v01@openssh.com",
    "sk-ssh-ed25519-cert-v01@openssh.com",
    "rsa-sha2-256-cert-v01@openssh.com",
    "rsa-sha2-512-cert-v01@openssh.com",
];

/// The smallest RSA host key ssh-audit's policy accepts, in bits.
pub const POLICY_RSA_BITS: u32 = 4096;

/// The supported list and the compiled-in default of a kind, for one keyword.
pub fn universe(kind: AlgoKind, ca: bool) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        AlgoKind::Cipher => (ALL_CIPHERS, DEFAULT_CIPHERS),
        AlgoKind::Mac => (ALL_MACS, DEFAULT_MACS),
        AlgoKind::Kex => (ALL_KEX, DEFAULT_KEX),
        AlgoKind::GssKex => (DEFAULT_GSS_KEX, DEFAULT_GSS_KEX),
        AlgoKind::Key if ca => (ALL_SIGS, DEFAULT_SIGS),
        AlgoKind::Key => (ALL_KEYS, DEFAULT_KEYS),
    }
}

fn known_name(kind: AlgoKind, name: &str) -> bool {
    match kind {
        AlgoKind::Cipher => ALL_CIPHERS.contains(&name),
        AlgoKind::Mac => ALL_MACS.contains(&name),
        AlgoKind::Kex => {
            ALL_KEX.contains(&name) || GSS_KEX_PREFIXES.iter().any(|p| name.starts_with(p))
        }
        AlgoKind::GssKex => GSS_KEX_PREFIXES.iter().any(|p| name.starts_with(p)),
        AlgoKind::Key => {
            ALL_KEYS.contains(&name)
                || KEY_SHORTNAMES.iter().any(|s| s.eq_ignore_ascii_case(name))
                // A wildcard component is accepted when it matches (or negates) some key type.
                || ALL_KEYS.iter().any(|k| match_pattern_list(k, name, false) != 0)
        }
    }
}

/// The parse-time check sshd makes on a list (`ciphers_valid`, `mac_valid`, `kex_names_valid`,
/// `sshkey_names_valid2`): a `-` list is not checked; otherwise every name up to the first empty
/// one must be known.
pub fn validate_spec(kind: AlgoKind, spec: &str) -> Result<(), String> {
    if spec.starts_with('-') {
        return Ok(());
    }
    let names = spec
        .strip_prefix('+')
        .or_else(|| spec.strip_prefix('^'))
        .unwrap_or(spec);
    let ok = !names.is_empty()
        && names
            .split(',')
            .take_while(|n| !n.is_empty())
            .all(|n| known_name(kind, n));
    if ok {
        Ok(())
    } else {
        Err(match kind {
            AlgoKind::Cipher => format!("Bad SSH2 cipher spec '{spec}'."),
            AlgoKind::Mac => format!("Bad SSH2 mac spec '{spec}'."),
            AlgoKind::Kex => format!("Bad SSH2 KexAlgorithms '{spec}'."),
            AlgoKind::GssKex => format!("Bad GSSAPI KexAlgorithms '{spec}'."),
            AlgoKind::Key => format!("Bad key types '{spec}'."),
        })
    }
}

/// `kex_names_cat`: `a` followed by the names of `b` not already in it (stopping at an empty name).
fn names_cat(a: &[String], b: &[String]) -> Vec<String> {
    let mut out = a.to_vec();
    for n in b {
        if n.is_empty() {
            break;
        }
        if !out.contains(n) {
            out.push(n.clone());
        }
    }
    out
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// `kex_assemble_names`: the list sshd offers for a configured spec (`None` = not configured).
/// sshd -T assembles twice, so a `-` list that removes everything falls back to the default.
pub fn assemble(kind: AlgoKind, ca: bool, spec: Option<&str>) -> Result<Vec<String>, String> {
    let (all, def) = universe(kind, ca);
    let Some(spec) = spec.filter(|s| !s.is_empty()) else {
        return Ok(strings(def));
    };
    let list: Vec<String> = if let Some(rest) = spec.strip_prefix('+') {
        names_cat(&strings(def), &split(rest))
    } else if let Some(rest) = spec.strip_prefix('-') {
        let out: Vec<String> = def
            .iter()
            .filter(|n| match_pattern_list(n, rest, false) != 1)
            .map(|s| s.to_string())
            .collect();
        return Ok(if out.is_empty() { strings(def) } else { out });
    } else if let Some(rest) = spec.strip_prefix('^') {
        names_cat(&split(rest), &strings(def))
    } else {
        split(spec)
    };
    let mut out: Vec<String> = Vec::new();
    for pattern in &list {
        if pattern.starts_with('!') {
            return Err(format!(
                "negated algorithm `{pattern}` is not allowed in this list"
            ));
        }
        let matching: Vec<String> = all
            .iter()
            .filter(|n| match_pattern_list(n, pattern, false) == 1)
            .map(|s| s.to_string())
            .collect();
        out = names_cat(&out, &matching);
    }
    if out.is_empty() {
        return Err(format!("`{spec}` leaves no supported algorithm"));
    }
    Ok(out)
}

fn split(s: &str) -> Vec<String> {
    s.split(',').map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asm(kind: AlgoKind, spec: &str) -> Result<String, String> {
        assemble(kind, false, Some(spec)).map(|v| v.join(","))
    }

    #[test]
    fn assembly_matches_sshd_t() {
        assert_eq!(
            asm(AlgoKind::Cipher, "+3des-cbc").unwrap(),
            "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com,3des-cbc"
        );
        assert_eq!(
            asm(AlgoKind::Mac, "-*sha1*").unwrap(),
            "umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,hmac-sha2-256,hmac-sha2-512"
        );
        assert!(asm(AlgoKind::Kex, "^diffie-hellman-group1-sha1")
            .unwrap()
            .starts_with("diffie-hellman-group1-sha1,sntrup761x25519-sha512,"));
        assert_eq!(
            asm(AlgoKind::Key, "*ed25519*").unwrap(),
            "ssh-ed25519,ssh-ed25519-cert-v01@openssh.com,sk-ssh-ed25519@openssh.com,sk-ssh-ed25519-cert-v01@openssh.com"
        );
        assert_eq!(
            asm(AlgoKind::Cipher, "aes128-ctr,,bogus").unwrap(),
            "aes128-ctr"
        );
        assert_eq!(
            asm(AlgoKind::Cipher, "-*").unwrap(),
            DEFAULT_CIPHERS.join(",")
        );
        assert!(asm(AlgoKind::Key, "RSA").is_err());
        assert!(asm(AlgoKind::Key, "ssh-ed25519,!ssh-rsa").is_err());
        assert!(asm(AlgoKind::Kex, "gss-group14-sha256-").is_err());
    }

    #[test]
    fn parse_time_validation_matches_sshd() {
        assert!(validate_spec(AlgoKind::Cipher, "aes128-ctr,,bogus").is_ok());
        assert!(validate_spec(AlgoKind::Cipher, "aes128-ctr,!aes256-ctr").is_err());
        assert!(validate_spec(AlgoKind::Cipher, "AES128-CTR").is_err());
        assert!(validate_spec(AlgoKind::Cipher, "+").is_err());
        assert!(validate_spec(AlgoKind::Cipher, "-anything").is_ok());
        assert!(validate_spec(AlgoKind::Key, "RSA").is_ok());
        assert!(validate_spec(AlgoKind::Key, "*ed25519*").is_ok());
        assert!(validate_spec(AlgoKind::Key, "ssh-ed25519,!ssh-rsa").is_ok());
        assert!(validate_spec(AlgoKind::Key, "nothing*").is_err());
        assert!(validate_spec(AlgoKind::Kex, "gss-group14-sha256-").is_ok());
        assert!(validate_spec(AlgoKind::GssKex, "gss-group14-sha256-,bogus").is_err());
    }
}
