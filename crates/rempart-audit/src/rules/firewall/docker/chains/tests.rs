use super::*;
use proptest::prelude::*;

/// `iptables-legacy-save` of Docker's rules for three published ports (8080 -> nginx,
/// 5432 -> postgres, 127.0.0.1:6379 -> redis), captured in a network namespace.
const LEGACY: &str = "*nat
:PREROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 172.17.0.3:5432
-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p tcp -m tcp --dport 6379 -j DNAT --to-destination 172.17.0.4:6379
COMMIT
*filter
:INPUT DROP [0:0]
:DOCKER-USER - [0:0]
-A DOCKER-USER -j RETURN
COMMIT
";

/// Two rules of the same capture through iptables-nft (`nft -j list ruleset`).
const NFT: &str = r#"{"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", "json_schema_version": 1}},
{"chain": {"family": "ip", "table": "nat", "name": "DOCKER", "handle": 5}},
{"chain": {"family": "ip", "table": "filter", "name": "DOCKER-USER", "handle": 9}},
{"rule": {"family": "ip", "table": "nat", "chain": "DOCKER", "handle": 14, "expr": [{"match": {"op": "!=", "left": {"meta": {"key": "iifname"}}, "right": "docker0"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 5432}}, {"counter": {"packets": 0, "bytes": 0}}, {"xt": {"type": "target", "name": "DNAT"}}]}},
{"rule": {"family": "ip", "table": "nat", "chain": "DOCKER", "handle": 15, "expr": [{"match": {"op": "!=", "left": {"meta": {"key": "iifname"}}, "right": "docker0"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "daddr"}}, "right": "127.0.0.1"}}, {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 6379}}, {"counter": {"packets": 0, "bytes": 0}}, {"xt": {"type": "target", "name": "DNAT"}}]}},
{"rule": {"family": "ip", "table": "filter", "chain": "DOCKER-USER", "handle": 26, "expr": [{"counter": {"packets": 0, "bytes": 0}}, {"return": null}]}}]}"#;

#[test]
fn legacy_save_published_ports() {
    let d = from_iptables_save(LEGACY, "iptables-legacy");
    assert!(d.present);
    let ports: Vec<(u16, bool)> = d
        .published
        .iter()
        .map(|p| (p.port, p.local_only()))
        .collect();
    assert_eq!(ports, [(8080, false), (5432, false), (6379, true)]);
    assert_eq!(d.published[0].dest.as_deref(), Some("172.17.0.2:80"));
    assert_eq!(d.published[0].container_port(), Some(80));
    let user = d.user.as_deref().unwrap();
    assert_eq!(user.len(), 1);
    assert_eq!(user[0].verdict, Verdict::Return);
    assert_eq!(filtering(Some(user), &d.published[1]), Filtering::Open);
}

#[test]
fn nft_json_published_ports() {
    let d = from_nft_json(NFT).unwrap();
    assert!(d.present);
    assert_eq!(d.published.len(), 2);
    assert_eq!(d.published[0].port, 5432);
    assert!(!d.published[0].local_only());
    assert!(d.published[1].local_only());
    assert_eq!(d.published[0].origin, "nft ip nat DOCKER handle 14");
    assert_eq!(d.user.as_deref().unwrap()[0].verdict, Verdict::Return);
    assert!(from_nft_json("{}").is_err());
    assert!(!from_nft_json(r#"{"nftables": []}"#).unwrap().present);
}

#[test]
fn docker_user_filters() {
    let p = Published {
        proto: "tcp".into(),
        port: 5432,
        host_addr: None,
        dest: Some("172.17.0.3:5432".into()),
        origin: "x".into(),
    };
    let rules = |text: &str| {
        from_iptables_save(
            &format!("*filter\n:DOCKER-USER - [0:0]\n{text}\nCOMMIT\n"),
            "t",
        )
        .user
        .unwrap()
    };
    // ufw-docker style: drop new connections from the outside interface
    let r = rules("-A DOCKER-USER -i eth0 -p tcp -m conntrack --ctorigdstport 5432 -j DROP\n-A DOCKER-USER -j RETURN");
    assert!(matches!(filtering(Some(&r), &p), Filtering::Blocked(_)));
    let r = rules(
        "-A DOCKER-USER -i eth0 -p tcp -m tcp --dport 8080 -j DROP\n-A DOCKER-USER -j RETURN",
    );
    assert_eq!(filtering(Some(&r), &p), Filtering::Open);
    let r = rules("-A DOCKER-USER ! -s 10.0.0.0/8 -j DROP");
    assert!(matches!(filtering(Some(&r), &p), Filtering::Blocked(_)));
    let r = rules("-A DOCKER-USER -s 203.0.113.7/32 -j DROP");
    assert!(matches!(filtering(Some(&r), &p), Filtering::Unsure(_)));
    let r = rules("-A DOCKER-USER -j ufw-user-forward\n-A DOCKER-USER -j RETURN");
    assert!(matches!(filtering(Some(&r), &p), Filtering::Unsure(_)));
    // A RETURN for everything before the DROP: the DROP is never reached.
    let r = rules("-A DOCKER-USER -j RETURN\n-A DOCKER-USER -j DROP");
    assert_eq!(filtering(Some(&r), &p), Filtering::Open);
    // multiport, ranges
    let r = rules("-A DOCKER-USER -p tcp -m multiport --dports 22,5000:5500 -j REJECT");
    assert!(matches!(filtering(Some(&r), &p), Filtering::Blocked(_)));
}

proptest! {
    #[test]
    fn parsers_never_panic(s in "\\PC{0,400}") {
        let _ = from_nft_json(&s);
        let d = from_iptables_save(&s, "t");
        for p in &d.published {
            let _ = filtering(d.user.as_deref(), p);
        }
    }

    #[test]
    fn every_dnat_port_is_found(ports in proptest::collection::vec(1u16.., 1..20), local in any::<bool>()) {
        let mut text = String::from("*nat\n:DOCKER - [0:0]\n");
        for (i, p) in ports.iter().enumerate() {
            let d = if local { "-d 127.0.0.1/32 " } else { "" };
            text.push_str(&format!("-A DOCKER {d}! -i docker0 -p tcp -m tcp --dport {p} -j DNAT --to-destination 172.17.0.{}:{p}\n", i % 250 + 2));
        }
        text.push_str("COMMIT\n");
        let d = from_iptables_save(&text, "t");
        let got: Vec<u16> = d.published.iter().map(|p| p.port).collect();
        prop_assert_eq!(got, ports.clone());
        prop_assert!(d.published.iter().all(|p| p.local_only() == local));
        prop_assert!(d.published.iter().all(|p| filtering(None, p) == Filtering::Open));
    }
}

#[test]
fn opaque_xt_matches_are_not_taken_for_a_drop_of_everything() {
    // `iptables-nft -I DOCKER-USER ! -i docker0 -p tcp -m conntrack --ctorigdstport 5432 -j DROP`
    // as nft's JSON shows it: the port is hidden in an xt match.
    let json = r#"{"nftables": [
{"chain": {"family": "ip", "table": "nat", "name": "DOCKER", "handle": 5}},
{"rule": {"family": "ip", "table": "nat", "chain": "DOCKER", "handle": 14, "expr": [{"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080}}, {"xt": {"type": "target", "name": "DNAT"}}]}},
{"rule": {"family": "ip", "table": "filter", "chain": "DOCKER-USER", "handle": 27, "expr": [{"match": {"op": "!=", "left": {"meta": {"key": "iifname"}}, "right": "docker0"}}, {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"xt": {"type": "match", "name": "conntrack"}}, {"counter": {"packets": 0, "bytes": 0}}, {"drop": null}]}}]}"#;
    let d = from_nft_json(json).unwrap();
    assert!(d.user.as_deref().unwrap()[0].opaque);
    assert!(matches!(
        filtering(d.user.as_deref(), &d.published[0]),
        Filtering::Unsure(_)
    ));
}
