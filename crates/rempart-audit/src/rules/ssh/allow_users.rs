//! SSH-ALLOW-USERS: SSH logins are limited to named accounts or groups (AllowUsers/AllowGroups),
//! and, when rempart.toml names the admins, to them.

use super::keywords::Kw;
use super::matching::match_pattern;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "SSH-ALLOW-USERS",
    name: "ssh-login-not-restricted",
    family: Family::Ssh,
    severity: Severity::Medium,
    level: Level::Enterprise,
    title: "SSH logins are limited to named users or groups",
    doc: RuleDoc {
        what: "The effective `AllowUsers` or `AllowGroups` of the default connection is set \
               (several lines accumulate, a matching Match block replaces them). When \
               rempart.toml sets `admin_users`, every `AllowUsers` entry must name one of them \
               (a `user@host` entry counts by its user part; wildcard entries fail). The \
               addresses sshd listens on are shown too: the seed guide's phase 3 puts SSH \
               behind a VPN with `ListenAddress`.",
        why: "Without an allow-list, every account with a shell and a credential (service \
              accounts, forgotten users, accounts a package created) can be tried over SSH. \
              Naming the few admin accounts shrinks what an attacker can guess or reuse.",
        remediation: "Add `AllowUsers alice bob` (or `AllowGroups ssh-users` and add the admins \
                      to that group), keep your own account in it, `sshd -t && systemctl reload \
                      ssh`, and test a new login before closing the current session. To allow \
                      SSH only over the VPN, add `ListenAddress <VPN address>` or \
                      `AllowUsers alice@10.8.0.0/24`.",
        verify: "sshd -T | grep -Ei '^(allowusers|allowgroups|listenaddress) '",
        references: &[
            "seed 002 Phase 3 §3 (SSH only through the VPN: AllowUsers/ListenAddress)",
            "CIS Debian Linux 12 Benchmark, SSH server section (sshd access is configured)",
            "man sshd_config(5): AllowUsers, AllowGroups, ListenAddress",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, eff| {
        let users = eff.list(Kw::AllowUsers);
        let groups = eff.list(Kw::AllowGroups);
        let listen = eff.listen_addresses().join(" ");
        let listen_ev = Evidence::source("sshd")
            .key("listenaddress")
            .actual(listen.clone());
        if users.is_empty() && groups.is_empty() {
            return Outcome::fail(
                "neither AllowUsers nor AllowGroups is set: every account with a credential may log in over SSH",
            )
            .with(
                l.evidence(eff, Kw::AllowUsers)
                    .actual("unset")
                    .expected("AllowUsers <admins>"),
            )
            .with(listen_ev);
        }
        let admins = &ctx.config.admin_users;
        if !admins.is_empty() && !users.is_empty() {
            let extra: Vec<&String> = users
                .iter()
                .filter(|u| {
                    let name = u.split_once('@').map_or(u.as_str(), |(n, _)| n);
                    !admins.iter().any(|a| a == name)
                })
                .collect();
            if !extra.is_empty() {
                let missing: Vec<&String> = admins
                    .iter()
                    .filter(|a| {
                        !users.iter().any(|u| {
                            match_pattern(a, u.split_once('@').map_or(u.as_str(), |(n, _)| n))
                        })
                    })
                    .collect();
                let mut msg = format!(
                    "AllowUsers admits accounts that are not in admin_users: {}",
                    extra
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                if !missing.is_empty() {
                    msg.push_str(&format!(
                        " (and leaves out admin_users {})",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
                return Outcome::fail(msg).with(
                    l.evidence(eff, Kw::AllowUsers)
                        .expected(admins.join(" ")),
                );
            }
        }
        let mut what = Vec::new();
        if !users.is_empty() {
            what.push(format!("AllowUsers {}", users.join(" ")));
        }
        if !groups.is_empty() {
            what.push(format!("AllowGroups {}", groups.join(" ")));
        }
        let mut o = Outcome::pass(format!("SSH logins are limited ({}; listening on {listen})", what.join("; ")));
        if !users.is_empty() {
            o = o.with(l.evidence(eff, Kw::AllowUsers));
        }
        if !groups.is_empty() {
            o = o.with(l.evidence(eff, Kw::AllowGroups));
        }
        o.with(listen_ev)
    })
    .unwrap_or_else(|o| o)
}
