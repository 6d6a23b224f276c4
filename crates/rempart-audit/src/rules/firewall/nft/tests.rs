//! Tests of the nft configuration parser on configurations written the way admins and Debian
//! write them.

use super::*;
use crate::rules::firewall::eval::analyse;
use crate::rules::firewall::model::{Cond, Ip, L4};
use proptest::prelude::*;

fn no_includes(spec: &str) -> Result<Included, IncludeFailure> {
    Err(IncludeFailure::NotFound(spec.to_string()))
}

fn parse_str(text: &str) -> Result<Ruleset, ParseFailure> {
    parse("/etc/nftables.conf", text, &mut no_includes)
}

const DEBIAN_DEFAULT: &str = "#!/usr/sbin/nft -f

flush ruleset

table inet filter {
\tchain input {
\t\ttype filter hook input priority filter;
\t}
\tchain forward {
\t\ttype filter hook forward priority filter;
\t}
\tchain output {
\t\ttype filter hook output priority filter;
\t}
}
";

const HARDENED: &str = r#"#!/usr/sbin/nft -f
flush ruleset

define ADMIN_NET = { 10.0.0.0/8, 192.168.0.0/16 }
define WEB = { http, https }

table inet filter {
    set admin_ports {
        type inet_service
        elements = { 5432, 8000 }
    }

    chain input {
        type filter hook input priority filter; policy drop;

        ct state vmap { established : accept, related : accept, invalid : drop }
        iif "lo" accept
        meta l4proto { icmp, ipv6-icmp } accept
        tcp dport ssh ct state new limit rate 10/minute accept
        tcp dport $WEB accept
        ip saddr $ADMIN_NET tcp dport @admin_ports accept
        udp dport 60000-61000 accept comment "mosh"
        counter drop
    }
}
"#;

#[test]
fn debian_default_config_accepts_everything() {
    let rs = parse_str(DEBIAN_DEFAULT).unwrap();
    assert_eq!(rs.chains.len(), 3);
    let a = analyse(&rs).unwrap();
    let d = a.default_for(Ip::V4).unwrap().accepting().unwrap();
    assert_eq!(d.loc.line, 6, "the input chain without a policy");
}

#[test]
fn hardened_config_opens_ssh_web_and_mosh() {
    let rs = parse_str(HARDENED).unwrap();
    let a = analyse(&rs).unwrap();
    for ip in Ip::BOTH {
        assert!(a.default_for(ip).unwrap().accepting().is_none());
    }
    assert_eq!(
        a.open_ports(L4::Tcp).ranges(),
        &[(22, 22), (80, 80), (443, 443)]
    );
    assert_eq!(a.open_ports(L4::Udp).ranges(), &[(60000, 61000)]);
    let restricted: Vec<_> = a
        .restricted
        .iter()
        .filter(|r| r.ports.contains(5432))
        .collect();
    assert_eq!(restricted[0].loc.line, 21);
    assert!(
        restricted[0].what.contains("10.0.0.0/8"),
        "{}",
        restricted[0].what
    );
    let mosh = a.open.iter().find(|o| o.l4 == L4::Udp).unwrap();
    assert_eq!(
        mosh.by.loc.text,
        "udp dport 60000-61000 accept comment \"mosh\""
    );
}

#[test]
fn command_forms_and_includes() {
    let mut files = |spec: &str| -> Result<Included, IncludeFailure> {
        match spec {
            "/etc/nftables.d/*.nft" => Ok(vec![
                (
                    "/etc/nftables.d/10-base.nft".into(),
                    "add table inet fw\nadd chain inet fw in { type filter hook input priority 0 ; policy drop ; }\n".into(),
                ),
                (
                    "/etc/nftables.d/20-web.nft".into(),
                    "add rule inet fw in tcp dport { 80, 443 } accept\ninsert rule inet fw in tcp dport 22 accept\n".into(),
                ),
            ]),
            other => Err(IncludeFailure::NotFound(other.into())),
        }
    };
    let rs = parse(
        "/etc/nftables.conf",
        "flush ruleset\ninclude \"/etc/nftables.d/*.nft\"\n",
        &mut files,
    )
    .unwrap();
    let chain = &rs.chains[0];
    assert_eq!(chain.rules.len(), 2);
    assert_eq!(
        chain.rules[0].loc.path.as_deref(),
        Some("/etc/nftables.d/20-web.nft")
    );
    assert_eq!(chain.rules[0].loc.line, 2, "insert puts the rule first");
    let a = analyse(&rs).unwrap();
    assert_eq!(
        a.open_ports(L4::Tcp).ranges(),
        &[(22, 22), (80, 80), (443, 443)]
    );
}

#[test]
fn structure_errors_name_file_and_line() {
    let cases = [
        ("table inet f {\n chain input {\n type filter hook input priority 0;\n", 2, "not closed"),
        ("table inet f {\n chain c {\n  tcp dport 22 accept\n }\n}\nbogus statement\n", 6, "unknown statement"),
        ("table inet f {\n chain c {\n  tcp dport $NOPE accept\n }\n}\n", 3, "undefined variable"),
        ("include \"missing.nft\"\n", 1, "missing.nft does not exist"),
        ("table inet f {\n chain c {\n  tcp dport nosuchservice accept\n }\n}\n", 3, "nosuchservice"),
        ("table inet f {\n chain c {\n  type filter hook input priority 0; policy maybe;\n }\n}\n", 3, "policy"),
        ("add rule inet f c tcp dport 22 accept\n", 1, "does not exist"),
        ("table inet f {\n chain c {\n  comment \"open\n }\n}\n", 3, "unterminated"),
    ];
    for (text, line, want) in cases {
        match parse_str(text) {
            Err(ParseFailure::Parse(e)) => {
                assert_eq!(e.line, Some(line), "{text:?}: {e}");
                assert!(e.to_string().contains(want), "{text:?}: {e}");
            }
            other => panic!("{text:?}: expected a parse error, got {other:?}"),
        }
    }
}

#[test]
fn catch_all_accept_and_negated_interfaces() {
    let rs = parse_str(
        "table ip f {\n chain input {\n  type filter hook input priority 0; policy drop;\n  iifname != \"lo\" tcp dport != 22 drop\n  accept\n }\n}\n",
    )
    .unwrap();
    let a = analyse(&rs).unwrap();
    // The catch-all accept on line 5 opens what the drop rule leaves: 22 over TCP, all of UDP,
    // and everything over IPv6, which an `ip` table does not see.
    assert_eq!(a.open_ports_of(Ip::V4, L4::Tcp).ranges(), &[(22, 22)]);
    assert_eq!(a.open_ports_of(Ip::V4, L4::Udp).count(), 65536);
    assert_eq!(a.open_ports_of(Ip::V6, L4::Tcp).count(), 65536);
    assert_eq!(
        a.default_for(Ip::V4).unwrap().accepting().unwrap().loc.line,
        5
    );
    assert!(matches!(
        rs.chains[0].rules[0].conds[0],
        Cond::Iif { negated: true, .. }
    ));
}

#[test]
fn unknown_expressions_are_kept_not_fatal() {
    let rs = parse_str(
        "table inet f {\n chain input {\n  type filter hook input priority 0; policy drop;\n  meta pkttype host tcp dport 8080 accept\n  ip saddr . tcp dport { 1.2.3.4 . 22 } accept\n }\n}\n",
    )
    .unwrap();
    let a = analyse(&rs).unwrap();
    let web = a.open.iter().find(|o| o.ports.contains(8080)).unwrap();
    assert!(
        !web.by.sure,
        "pkttype is not interpreted: the accept is uncertain"
    );
}

#[test]
fn doubling_variables_stop_before_exhausting_memory() {
    let mut text = String::from("define v0 = 22\n");
    for i in 1..40 {
        text.push_str(&format!("define v{i} = {{ $v{}, $v{} }}\n", i - 1, i - 1));
    }
    match parse_str(&text) {
        Err(ParseFailure::Parse(e)) => assert!(e.message.contains("expands"), "{e}"),
        other => panic!("{other:?}"),
    }
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,400}") {
        let _ = parse_str(&s);
    }

    #[test]
    fn never_panics_on_nft_like_text(words in proptest::collection::vec(
        "(table|inet|ip|chain|input|\\{|\\}|;|\n|type|filter|hook|priority|0|policy|drop|accept|tcp|dport|22|\\$x|define|x|=|@s|set|elements|ct|state|vmap|:|,|\"lo\"|iif|include|flush|ruleset|add|rule|f|c)",
        0..60)) {
        let text = words.join(" ");
        if let Ok(rs) = parse_str(&text) {
            // Whatever parses can be evaluated, and an open port is inside 0..=65535.
            let a = analyse(&rs).unwrap();
            for o in &a.open {
                prop_assert!(!o.ports.is_empty());
            }
        }
    }
}
