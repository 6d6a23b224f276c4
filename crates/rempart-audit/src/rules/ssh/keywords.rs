//! The keywords sshd 9.2 (Debian 12, `openssh-server 1:9.2p1`) accepts, with their aliases, the
//! context where each is allowed (anywhere, or only outside `Match`), and how a repeated keyword
//! combines (first value wins, values accumulate, only the first line counts, last value wins).
//! The table was checked keyword by keyword against Debian's `sshd -T`.
//!
//! Parsing the values lives in [`super::values`]; this module only names things.

/// Where a keyword may appear (`SSHCFG_GLOBAL` / `SSHCFG_ALL` in servconf.c).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only outside `Match` blocks (or after `Match all`).
    Global,
    /// Anywhere, including `Match` blocks.
    All,
}

/// What a keyword does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Set(Kw),
    Include,
    Match,
    /// Accepted and ignored with the log line "Deprecated option".
    Deprecated,
    /// Accepted and ignored with the log line "Unsupported option" (not compiled in).
    Unsupported,
    /// Accepted and ignored silently (`Protocol`).
    Ignore,
}

/// How repeated settings of one keyword combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Combine {
    /// The first value sshd reads wins (most keywords).
    First,
    /// Every line adds its values (`AllowUsers`, `HostKey`, `Port` ...).
    Accumulate,
    /// Only the first line counts, with all its values (`AuthorizedKeysFile` ...).
    FirstLine,
    /// Each line overwrites the previous one (`MaxStartups`, `IPQoS` ...).
    Last,
}

macro_rules! keywords {
    ($($kw:ident => $name:literal, $combine:ident;)*) => {
        /// A setting of sshd, under its canonical (`sshd -T`) name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Kw { $($kw),* }

        impl Kw {
            pub const ALL: &'static [Kw] = &[$(Kw::$kw),*];

            /// The lowercase name `sshd -T` prints.
            pub fn name(self) -> &'static str {
                match self { $(Kw::$kw => $name),* }
            }

            pub fn combine(self) -> Combine {
                match self { $(Kw::$kw => Combine::$combine),* }
            }
        }
    };
}

keywords! {
    UsePam => "usepam", First;
    Port => "port", Accumulate;
    HostKey => "hostkey", Accumulate;
    HostKeyAgent => "hostkeyagent", First;
    PidFile => "pidfile", First;
    ModuliFile => "modulifile", First;
    LoginGraceTime => "logingracetime", First;
    PermitRootLogin => "permitrootlogin", First;
    SyslogFacility => "syslogfacility", First;
    LogLevel => "loglevel", First;
    LogVerbose => "logverbose", FirstLine;
    HostbasedAuthentication => "hostbasedauthentication", First;
    HostbasedUsesNameFromPacketOnly => "hostbasedusesnamefrompacketonly", First;
    HostbasedAcceptedAlgorithms => "hostbasedacceptedalgorithms", First;
    HostKeyAlgorithms => "hostkeyalgorithms", First;
    PubkeyAuthentication => "pubkeyauthentication", First;
    PubkeyAcceptedAlgorithms => "pubkeyacceptedalgorithms", First;
    PubkeyAuthOptions => "pubkeyauthoptions", First;
    KerberosAuthentication => "kerberosauthentication", First;
    KerberosOrLocalPasswd => "kerberosorlocalpasswd", First;
    KerberosTicketCleanup => "kerberosticketcleanup", First;
    GssapiAuthentication => "gssapiauthentication", First;
    GssapiCleanupCredentials => "gssapicleanupcredentials", First;
    GssapiStrictAcceptorCheck => "gssapistrictacceptorcheck", First;
    GssapiKeyExchange => "gssapikeyexchange", First;
    GssapiStoreCredentialsOnRekey => "gssapistorecredentialsonrekey", First;
    GssapiKexAlgorithms => "gssapikexalgorithms", First;
    PasswordAuthentication => "passwordauthentication", First;
    KbdInteractiveAuthentication => "kbdinteractiveauthentication", First;
    ListenAddress => "listenaddress", Accumulate;
    AddressFamily => "addressfamily", First;
    PrintMotd => "printmotd", First;
    PrintLastLog => "printlastlog", First;
    IgnoreRhosts => "ignorerhosts", First;
    IgnoreUserKnownHosts => "ignoreuserknownhosts", First;
    X11Forwarding => "x11forwarding", First;
    X11DisplayOffset => "x11displayoffset", First;
    X11UseLocalhost => "x11uselocalhost", First;
    XAuthLocation => "xauthlocation", First;
    StrictModes => "strictmodes", First;
    PermitEmptyPasswords => "permitemptypasswords", First;
    PermitUserEnvironment => "permituserenvironment", First;
    Compression => "compression", First;
    RekeyLimit => "rekeylimit", First;
    TcpKeepAlive => "tcpkeepalive", First;
    AllowTcpForwarding => "allowtcpforwarding", First;
    AllowAgentForwarding => "allowagentforwarding", First;
    AllowUsers => "allowusers", Accumulate;
    DenyUsers => "denyusers", Accumulate;
    AllowGroups => "allowgroups", Accumulate;
    DenyGroups => "denygroups", Accumulate;
    Ciphers => "ciphers", First;
    Macs => "macs", First;
    GatewayPorts => "gatewayports", First;
    Subsystem => "subsystem", Accumulate;
    MaxStartups => "maxstartups", Last;
    PerSourceMaxStartups => "persourcemaxstartups", Last;
    PerSourceNetBlockSize => "persourcenetblocksize", Last;
    MaxAuthTries => "maxauthtries", First;
    MaxSessions => "maxsessions", First;
    Banner => "banner", First;
    UseDns => "usedns", First;
    ClientAliveInterval => "clientaliveinterval", First;
    ClientAliveCountMax => "clientalivecountmax", First;
    AuthorizedKeysFile => "authorizedkeysfile", FirstLine;
    AcceptEnv => "acceptenv", Accumulate;
    SetEnv => "setenv", FirstLine;
    PermitTunnel => "permittunnel", First;
    PermitTty => "permittty", First;
    PermitUserRc => "permituserrc", First;
    PermitOpen => "permitopen", FirstLine;
    PermitListen => "permitlisten", FirstLine;
    ForceCommand => "forcecommand", First;
    ChrootDirectory => "chrootdirectory", First;
    HostCertificate => "hostcertificate", Accumulate;
    RevokedKeys => "revokedkeys", First;
    TrustedUserCaKeys => "trustedusercakeys", First;
    AuthorizedPrincipalsFile => "authorizedprincipalsfile", First;
    KexAlgorithms => "kexalgorithms", First;
    IpQos => "ipqos", Last;
    AuthorizedKeysCommand => "authorizedkeyscommand", First;
    AuthorizedKeysCommandUser => "authorizedkeyscommanduser", First;
    AuthorizedPrincipalsCommand => "authorizedprincipalscommand", First;
    AuthorizedPrincipalsCommandUser => "authorizedprincipalscommanduser", First;
    VersionAddendum => "versionaddendum", First;
    AuthenticationMethods => "authenticationmethods", FirstLine;
    StreamLocalBindMask => "streamlocalbindmask", Last;
    StreamLocalBindUnlink => "streamlocalbindunlink", First;
    AllowStreamLocalForwarding => "allowstreamlocalforwarding", First;
    FingerprintHash => "fingerprinthash", Last;
    DisableForwarding => "disableforwarding", First;
    ExposeAuthInfo => "exposeauthinfo", First;
    CaSignatureAlgorithms => "casignaturealgorithms", First;
    SecurityKeyProvider => "securitykeyprovider", First;
    RequiredRsaSize => "requiredrsasize", First;
    ChannelTimeout => "channeltimeout", FirstLine;
    UnusedConnectionTimeout => "unusedconnectiontimeout", First;
    DebianBanner => "debianbanner", First;
    RDomain => "rdomain", First;
}

use Op::{Deprecated, Ignore, Set, Unsupported};
use Scope::{All as A, Global as G};

/// Every keyword sshd 9.2 on Debian accepts (lowercase), with what it does and where.
pub const TABLE: &[(&str, Op, Scope)] = &[
    ("usepam", Set(Kw::UsePam), G),
    ("pamauthenticationviakbdint", Deprecated, G),
    ("port", Set(Kw::Port), G),
    ("hostkey", Set(Kw::HostKey), G),
    ("hostdsakey", Set(Kw::HostKey), G),
    ("hostkeyagent", Set(Kw::HostKeyAgent), G),
    ("pidfile", Set(Kw::PidFile), G),
    ("modulifile", Set(Kw::ModuliFile), G),
    ("serverkeybits", Deprecated, G),
    ("logingracetime", Set(Kw::LoginGraceTime), G),
    ("keyregenerationinterval", Deprecated, G),
    ("permitrootlogin", Set(Kw::PermitRootLogin), A),
    ("syslogfacility", Set(Kw::SyslogFacility), G),
    ("loglevel", Set(Kw::LogLevel), A),
    ("logverbose", Set(Kw::LogVerbose), A),
    ("rhostsauthentication", Deprecated, G),
    ("rhostsrsaauthentication", Deprecated, A),
    (
        "hostbasedauthentication",
        Set(Kw::HostbasedAuthentication),
        A,
    ),
    (
        "hostbasedusesnamefrompacketonly",
        Set(Kw::HostbasedUsesNameFromPacketOnly),
        A,
    ),
    (
        "hostbasedacceptedalgorithms",
        Set(Kw::HostbasedAcceptedAlgorithms),
        A,
    ),
    (
        "hostbasedacceptedkeytypes",
        Set(Kw::HostbasedAcceptedAlgorithms),
        A,
    ),
    ("hostkeyalgorithms", Set(Kw::HostKeyAlgorithms), G),
    ("rsaauthentication", Deprecated, A),
    ("pubkeyauthentication", Set(Kw::PubkeyAuthentication), A),
    (
        "pubkeyacceptedalgorithms",
        Set(Kw::PubkeyAcceptedAlgorithms),
        A,
    ),
    (
        "pubkeyacceptedkeytypes",
        Set(Kw::PubkeyAcceptedAlgorithms),
        A,
    ),
    ("pubkeyauthoptions", Set(Kw::PubkeyAuthOptions), A),
    ("dsaauthentication", Set(Kw::PubkeyAuthentication), G),
    ("kerberosauthentication", Set(Kw::KerberosAuthentication), A),
    ("kerberosorlocalpasswd", Set(Kw::KerberosOrLocalPasswd), G),
    ("kerberosticketcleanup", Set(Kw::KerberosTicketCleanup), G),
    ("kerberosgetafstoken", Unsupported, G),
    ("kerberostgtpassing", Unsupported, G),
    ("afstokenpassing", Unsupported, G),
    ("gssapiauthentication", Set(Kw::GssapiAuthentication), A),
    (
        "gssapicleanupcredentials",
        Set(Kw::GssapiCleanupCredentials),
        G,
    ),
    ("gssapicleanupcreds", Set(Kw::GssapiCleanupCredentials), G),
    (
        "gssapistrictacceptorcheck",
        Set(Kw::GssapiStrictAcceptorCheck),
        G,
    ),
    ("gssapikeyexchange", Set(Kw::GssapiKeyExchange), G),
    (
        "gssapistorecredentialsonrekey",
        Set(Kw::GssapiStoreCredentialsOnRekey),
        G,
    ),
    ("gssapikexalgorithms", Set(Kw::GssapiKexAlgorithms), G),
    ("gssusesessionccache", Unsupported, G),
    ("gssapiusesessioncredcache", Unsupported, G),
    ("passwordauthentication", Set(Kw::PasswordAuthentication), A),
    (
        "kbdinteractiveauthentication",
        Set(Kw::KbdInteractiveAuthentication),
        A,
    ),
    (
        "challengeresponseauthentication",
        Set(Kw::KbdInteractiveAuthentication),
        A,
    ),
    (
        "skeyauthentication",
        Set(Kw::KbdInteractiveAuthentication),
        A,
    ),
    ("checkmail", Deprecated, G),
    ("listenaddress", Set(Kw::ListenAddress), G),
    ("addressfamily", Set(Kw::AddressFamily), G),
    ("printmotd", Set(Kw::PrintMotd), G),
    ("printlastlog", Set(Kw::PrintLastLog), G),
    ("ignorerhosts", Set(Kw::IgnoreRhosts), A),
    ("ignoreuserknownhosts", Set(Kw::IgnoreUserKnownHosts), G),
    ("x11forwarding", Set(Kw::X11Forwarding), A),
    ("x11displayoffset", Set(Kw::X11DisplayOffset), A),
    ("x11uselocalhost", Set(Kw::X11UseLocalhost), A),
    ("xauthlocation", Set(Kw::XAuthLocation), G),
    ("strictmodes", Set(Kw::StrictModes), G),
    ("permitblacklistedkeys", Deprecated, G),
    ("permitemptypasswords", Set(Kw::PermitEmptyPasswords), A),
    ("permituserenvironment", Set(Kw::PermitUserEnvironment), G),
    ("uselogin", Deprecated, G),
    ("compression", Set(Kw::Compression), G),
    ("rekeylimit", Set(Kw::RekeyLimit), A),
    ("tcpkeepalive", Set(Kw::TcpKeepAlive), G),
    ("keepalive", Set(Kw::TcpKeepAlive), G),
    ("allowtcpforwarding", Set(Kw::AllowTcpForwarding), A),
    ("allowagentforwarding", Set(Kw::AllowAgentForwarding), A),
    ("allowusers", Set(Kw::AllowUsers), A),
    ("denyusers", Set(Kw::DenyUsers), A),
    ("allowgroups", Set(Kw::AllowGroups), A),
    ("denygroups", Set(Kw::DenyGroups), A),
    ("ciphers", Set(Kw::Ciphers), G),
    ("macs", Set(Kw::Macs), G),
    ("protocol", Ignore, G),
    ("gatewayports", Set(Kw::GatewayPorts), A),
    ("subsystem", Set(Kw::Subsystem), G),
    ("maxstartups", Set(Kw::MaxStartups), G),
    ("persourcemaxstartups", Set(Kw::PerSourceMaxStartups), G),
    ("persourcenetblocksize", Set(Kw::PerSourceNetBlockSize), G),
    ("maxauthtries", Set(Kw::MaxAuthTries), A),
    ("maxsessions", Set(Kw::MaxSessions), A),
    ("banner", Set(Kw::Banner), A),
    ("usedns", Set(Kw::UseDns), G),
    ("verifyreversemapping", Deprecated, G),
    ("reversemappingcheck", Deprecated, G),
    ("clientaliveinterval", Set(Kw::ClientAliveInterval), A),
    ("clientalivecountmax", Set(Kw::ClientAliveCountMax), A),
    ("authorizedkeysfile", Set(Kw::AuthorizedKeysFile), A),
    ("authorizedkeysfile2", Deprecated, A),
    ("useprivilegeseparation", Deprecated, G),
    ("acceptenv", Set(Kw::AcceptEnv), A),
    ("setenv", Set(Kw::SetEnv), A),
    ("permittunnel", Set(Kw::PermitTunnel), A),
    ("permittty", Set(Kw::PermitTty), A),
    ("permituserrc", Set(Kw::PermitUserRc), A),
    ("match", Op::Match, A),
    ("permitopen", Set(Kw::PermitOpen), A),
    ("permitlisten", Set(Kw::PermitListen), A),
    ("forcecommand", Set(Kw::ForceCommand), A),
    ("chrootdirectory", Set(Kw::ChrootDirectory), A),
    ("hostcertificate", Set(Kw::HostCertificate), G),
    ("revokedkeys", Set(Kw::RevokedKeys), A),
    ("trustedusercakeys", Set(Kw::TrustedUserCaKeys), A),
    (
        "authorizedprincipalsfile",
        Set(Kw::AuthorizedPrincipalsFile),
        A,
    ),
    ("kexalgorithms", Set(Kw::KexAlgorithms), G),
    ("include", Op::Include, A),
    ("ipqos", Set(Kw::IpQos), A),
    ("authorizedkeyscommand", Set(Kw::AuthorizedKeysCommand), A),
    (
        "authorizedkeyscommanduser",
        Set(Kw::AuthorizedKeysCommandUser),
        A,
    ),
    (
        "authorizedprincipalscommand",
        Set(Kw::AuthorizedPrincipalsCommand),
        A,
    ),
    (
        "authorizedprincipalscommanduser",
        Set(Kw::AuthorizedPrincipalsCommandUser),
        A,
    ),
    ("versionaddendum", Set(Kw::VersionAddendum), G),
    ("authenticationmethods", Set(Kw::AuthenticationMethods), A),
    ("streamlocalbindmask", Set(Kw::StreamLocalBindMask), A),
    ("streamlocalbindunlink", Set(Kw::StreamLocalBindUnlink), A),
    (
        "allowstreamlocalforwarding",
        Set(Kw::AllowStreamLocalForwarding),
        A,
    ),
    ("fingerprinthash", Set(Kw::FingerprintHash), G),
    ("disableforwarding", Set(Kw::DisableForwarding), A),
    ("exposeauthinfo", Set(Kw::ExposeAuthInfo), A),
    ("rdomain", Set(Kw::RDomain), A),
    ("casignaturealgorithms", Set(Kw::CaSignatureAlgorithms), A),
    ("securitykeyprovider", Set(Kw::SecurityKeyProvider), G),
    ("requiredrsasize", Set(Kw::RequiredRsaSize), A),
    ("channeltimeout", Set(Kw::ChannelTimeout), A),
    (
        "unusedconnectiontimeout",
        Set(Kw::UnusedConnectionTimeout),
        A,
    ),
    ("debianbanner", Set(Kw::DebianBanner), G),
];

/// Look a keyword up case-insensitively, as sshd does (`strcasecmp`).
pub fn lookup(word: &str) -> Option<(Op, Scope)> {
    TABLE
        .iter()
        .find(|(name, _, _)| name.eq_ignore_ascii_case(word))
        .map(|(_, op, scope)| (*op, *scope))
}

impl Kw {
    /// Where the keyword may appear.
    pub fn scope(self) -> Scope {
        TABLE
            .iter()
            .find(|(_, op, _)| *op == Set(self))
            .map_or(Scope::All, |(_, _, s)| *s)
    }

    /// True when a matching `Match` block overrides the global value (every keyword allowed in
    /// `Match`, as `copy_set_server_options` copies them).
    pub fn per_connection(self) -> bool {
        self.scope() == Scope::All
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_has_a_table_entry_and_names_are_unique() {
        for kw in Kw::ALL {
            assert!(
                TABLE.iter().any(|(_, op, _)| *op == Set(*kw)),
                "{kw:?} has no keyword"
            );
        }
        let mut names: Vec<&str> = TABLE.iter().map(|(n, _, _)| *n).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn aliases_and_case() {
        assert_eq!(
            lookup("ChallengeResponseAuthentication"),
            Some((Set(Kw::KbdInteractiveAuthentication), Scope::All))
        );
        assert_eq!(lookup("PROTOCOL"), Some((Op::Ignore, Scope::Global)));
        assert_eq!(lookup("PasswordAuth"), None);
        assert_eq!(Kw::Ciphers.scope(), Scope::Global);
        assert!(Kw::PasswordAuthentication.per_connection());
    }
}
