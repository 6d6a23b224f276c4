//! What sshd uses when a keyword is not set: the compiled-in defaults of OpenSSH 9.2p1 as Debian 12
//! builds it (`fill_default_server_options`, checked against `sshd -T` on an empty file), and the
//! version detection that says whether those defaults fit the host.
//!
//! These are compiled defaults, not Debian's stock `/etc/ssh/sshd_config`, which sets
//! `KbdInteractiveAuthentication no`, `UsePAM yes` and `X11Forwarding yes` on top of them.

use super::effective::Value;
use super::keywords::Kw;

/// The OpenSSH release whose defaults this module holds.
pub const DEFAULTS_VERSION: &str = "9.2";

/// Host keys sshd loads when no `HostKey` is set.
pub const DEFAULT_HOST_KEYS: &[&str] = &[
    "/etc/ssh/ssh_host_rsa_key",
    "/etc/ssh/ssh_host_ecdsa_key",
    "/etc/ssh/ssh_host_ed25519_key",
];

/// `AuthorizedKeysFile` when not set.
pub const DEFAULT_AUTHORIZED_KEYS: &[&str] = &[".ssh/authorized_keys", ".ssh/authorized_keys2"];

/// The compiled-in default of a keyword, `None` for keywords whose default is "nothing"
/// (lists such as `AllowUsers`) or is derived elsewhere (algorithms, listen addresses).
pub fn default(kw: Kw) -> Option<Value> {
    use Kw::*;
    let b = |v: bool| Some(Value::Bool(v));
    let n = |v: i64| Some(Value::Num(v));
    let t = |v: &str| Some(Value::Text(v.to_string()));
    let l = |v: &[&str]| Some(Value::List(v.iter().map(|s| s.to_string()).collect()));
    match kw {
        UsePam => b(false),
        Port => l(&["22"]),
        HostKey => l(DEFAULT_HOST_KEYS),
        LoginGraceTime => n(120),
        PermitRootLogin => t("without-password"),
        SyslogFacility => t("AUTH"),
        LogLevel => t("INFO"),
        HostbasedAuthentication | HostbasedUsesNameFromPacketOnly => b(false),
        PubkeyAuthentication => b(true),
        KerberosAuthentication => b(false),
        KerberosOrLocalPasswd | KerberosTicketCleanup => b(true),
        GssapiAuthentication => b(false),
        GssapiCleanupCredentials | GssapiStrictAcceptorCheck => b(true),
        GssapiKeyExchange | GssapiStoreCredentialsOnRekey => b(false),
        PasswordAuthentication => b(true),
        // Upstream's default since OpenSSH 8.7; Debian's stock sshd_config sets it to no.
        KbdInteractiveAuthentication => b(true),
        AddressFamily => t("any"),
        PrintMotd | PrintLastLog => b(true),
        IgnoreRhosts => t("yes"),
        IgnoreUserKnownHosts => b(false),
        X11Forwarding => b(false),
        X11DisplayOffset => n(10),
        X11UseLocalhost => b(true),
        XAuthLocation => t("/usr/bin/xauth"),
        StrictModes => b(true),
        PermitEmptyPasswords => b(false),
        PermitUserEnvironment => t("no"),
        Compression => t("yes"),
        TcpKeepAlive => b(true),
        AllowTcpForwarding | AllowStreamLocalForwarding => t("yes"),
        AllowAgentForwarding => b(true),
        GatewayPorts => t("no"),
        MaxStartups => t("10:30:100"),
        MaxAuthTries => n(6),
        MaxSessions => n(10),
        Banner
        | ForceCommand
        | ChrootDirectory
        | TrustedUserCaKeys
        | RevokedKeys
        | AuthorizedPrincipalsFile
        | AuthorizedKeysCommand
        | AuthorizedKeysCommandUser
        | AuthorizedPrincipalsCommand
        | AuthorizedPrincipalsCommandUser
        | HostKeyAgent
        | VersionAddendum => t("none"),
        UseDns => b(false),
        ClientAliveInterval => n(0),
        ClientAliveCountMax => n(3),
        AuthorizedKeysFile => l(DEFAULT_AUTHORIZED_KEYS),
        PermitTunnel => t("no"),
        PermitTty | PermitUserRc => b(true),
        AuthenticationMethods => l(&["any"]),
        StreamLocalBindUnlink => b(false),
        DisableForwarding | ExposeAuthInfo => b(false),
        RequiredRsaSize => n(1024),
        PidFile => t("/run/sshd.pid"),
        ModuliFile => t("/etc/ssh/moduli"),
        SecurityKeyProvider => t("internal"),
        FingerprintHash => t("SHA256"),
        UnusedConnectionTimeout => n(0),
        DebianBanner => b(true),
        _ => None,
    }
}

/// The upstream OpenSSH version (`9.2`) of a Debian package version (`1:9.2p1-2+deb12u3`).
pub fn upstream_version(debian: &str) -> Option<String> {
    let no_epoch = debian.split_once(':').map_or(debian, |(_, v)| v);
    let upstream = no_epoch.split(['p', '-']).next()?;
    let mut parts = upstream.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next().unwrap_or("0").parse().ok()?;
    Some(format!("{major}.{minor}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_debian_packages() {
        assert_eq!(
            upstream_version("1:9.2p1-2+deb12u3").as_deref(),
            Some("9.2")
        );
        assert_eq!(
            upstream_version("1:8.4p1-5+deb11u1").as_deref(),
            Some("8.4")
        );
        assert_eq!(upstream_version("10.0p1-7").as_deref(), Some("10.0"));
        assert_eq!(upstream_version("garbage"), None);
    }

    #[test]
    fn every_judged_keyword_has_a_default() {
        for kw in [
            Kw::PermitRootLogin,
            Kw::PasswordAuthentication,
            Kw::KbdInteractiveAuthentication,
            Kw::PermitEmptyPasswords,
            Kw::MaxAuthTries,
            Kw::LoginGraceTime,
            Kw::X11Forwarding,
            Kw::LogLevel,
            Kw::UsePam,
            Kw::HostKey,
            Kw::AuthorizedKeysFile,
        ] {
            assert!(default(kw).is_some(), "{kw:?}");
        }
    }
}
