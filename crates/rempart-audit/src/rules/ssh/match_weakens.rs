//! SSH-MATCH-WEAKENS: no `Match` block loosens a security setting for some users or addresses.

use super::effective::Effective;
use super::keywords::Kw;
use super::values::{log_level_rank, Val};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use std::collections::HashSet;

pub const RULE: Rule = Rule {
    id: "SSH-MATCH-WEAKENS",
    name: "match-block-weakens-ssh",
    family: Family::Ssh,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "No Match block loosens SSH security for some users or addresses",
    doc: RuleDoc {
        what: "Each `Match` block (other than `Match all`, which the other rules already judge \
               as part of the default connection), including the files it includes, is compared \
               with the default connection: a block fails when the first value it gives a \
               keyword is weaker. Judged keywords: PasswordAuthentication, \
               KbdInteractiveAuthentication, PermitEmptyPasswords, HostbasedAuthentication, \
               X11Forwarding, AllowAgentForwarding, PermitRootLogin (yes > without-password > \
               forced-commands-only > no), MaxAuthTries (higher), LogLevel (quieter than the \
               default connection's), AllowTcpForwarding, AllowStreamLocalForwarding, \
               GatewayPorts, PermitTunnel, IgnoreRhosts, DisableForwarding, AllowUsers and \
               AllowGroups (a block admitting names the global list does not), DenyUsers and \
               DenyGroups (a block dropping names), AuthenticationMethods (a block dropping the \
               key requirement), ForceCommand and ChrootDirectory (a block clearing them). \
               Each finding names the Match line and the setting's line.",
        why: "A Match block is easy to forget: `Match Address 10.0.0.0/8` with \
              `PasswordAuthentication yes` leaves passwords open to everyone who reaches the \
              host from that network (or spoofs a trusted host name with `Match Host`), while \
              `sshd -T` without `-C` shows the safe global value.",
        remediation: "Review each reported block: remove the loosened setting, or narrow the \
                      block (an exact user and a VPN address range). See what a connection gets \
                      with `rempart facts sshd -C user=U,host=H,addr=A` or \
                      `sshd -T -C user=U,host=H,addr=A`. If the exception is intended, ignore \
                      the rule in rempart.toml with the reason.",
        verify: "sshd -T -C user=USER,host=HOST,addr=ADDR | grep -Ei 'passwordauthentication|permitrootlogin'",
        references: &[
            "seed 001 §6 SSH Hardening",
            "seed 002 Phase 3 §3 (SSH only through the VPN)",
            "man sshd_config(5): Match",
        ],
    },
    check,
};

/// How much `v` opens things compared with `base`, when it does.
fn weaker(kw: Kw, v: &Val, base: &Effective) -> Option<String> {
    let rank_text = |order: &[&str], s: &str| order.iter().position(|o| o.eq_ignore_ascii_case(s));
    let text = |v: &Val| match v {
        Val::Text(t) => Some(t.clone()),
        Val::Bool(b) => Some(if *b { "yes" } else { "no" }.into()),
        Val::Num(n) => Some(n.to_string()),
        Val::Words(w) => Some(w.join(" ")),
    };
    let list = |v: &Val| match v {
        Val::Words(w) => w.clone(),
        _ => Vec::new(),
    };
    let base_text = base.render(kw).join(" ");
    use Kw::*;
    let is_weaker = match kw {
        PasswordAuthentication
        | KbdInteractiveAuthentication
        | PermitEmptyPasswords
        | HostbasedAuthentication
        | X11Forwarding
        | AllowAgentForwarding => matches!(v, Val::Bool(true)) && !base.flag(kw),
        DisableForwarding => matches!(v, Val::Bool(false)) && base.flag(kw),
        PermitRootLogin => {
            let order = ["no", "forced-commands-only", "without-password", "yes"];
            rank_text(&order, &text(v)?)? > rank_text(&order, &base_text)?
        }
        MaxAuthTries => matches!(v, Val::Num(n) if *n > base.num(kw)?),
        LogLevel => {
            let r = log_level_rank(&text(v)?);
            let b = log_level_rank(&base_text);
            r < b && b <= log_level_rank("VERBOSE")
        }
        AllowTcpForwarding | AllowStreamLocalForwarding => {
            let order = ["no", "local", "remote", "yes"];
            let (r, b) = (
                rank_text(&order, &text(v)?)?,
                rank_text(&order, &base_text)?,
            );
            r > b && !(r == 1 && b == 2) && !(r == 2 && b == 1)
        }
        GatewayPorts => base_text == "no" && text(v)? != "no",
        PermitTunnel => base_text == "no" && text(v)? != "no",
        IgnoreRhosts => text(v)? == "no" && base_text != "no",
        AllowUsers | AllowGroups => {
            let global = base.list(kw);
            !global.is_empty() && list(v).iter().any(|n| !global.contains(n))
        }
        DenyUsers | DenyGroups => {
            let mine = list(v);
            base.list(kw).iter().any(|n| !mine.contains(n))
        }
        AuthenticationMethods => {
            let needs_key = |lists: &[String]| {
                !lists.is_empty()
                    && lists
                        .iter()
                        .all(|l| l != "any" && l.split(',').any(|m| m == "publickey"))
            };
            needs_key(base.list(kw)) && !needs_key(&list(v))
        }
        ForceCommand | ChrootDirectory => {
            base_text != "none" && text(v)?.eq_ignore_ascii_case("none")
        }
        _ => false,
    };
    is_weaker.then_some(base_text)
}

fn check(ctx: &Ctx) -> Outcome {
    super::with_default(ctx, |l, base| {
        let cfg = &l.parsed;
        let mut seen: HashSet<(Option<usize>, Kw)> = HashSet::new();
        let mut findings = Vec::new();
        let mut blocks = HashSet::new();
        for (idx, d) in cfg.directives.iter().enumerate() {
            if d.block.is_none() || cfg.always_applies(d.block) {
                continue;
            }
            blocks.insert(d.block);
            if !seen.insert((d.block, d.kw)) {
                continue;
            }
            if let Some(base_value) = weaker(d.kw, &d.val, base) {
                let actual = match &d.val {
                    Val::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
                    Val::Num(n) => n.to_string(),
                    Val::Text(t) => t.clone(),
                    Val::Words(w) => w.join(" "),
                };
                findings.push((
                    d.kw,
                    l.directive_evidence(idx)
                        .actual(actual)
                        .expected(base_value),
                ));
            }
        }
        if findings.is_empty() {
            let n = cfg
                .blocks
                .iter()
                .enumerate()
                .filter(|(i, _)| !cfg.always_applies(Some(*i)))
                .count();
            return Outcome::pass(if n == 0 {
                "no Match block".to_string()
            } else {
                format!("{n} Match block(s), none loosens a judged setting")
            });
        }
        let names: Vec<&str> = findings.iter().map(|(k, _)| k.name()).collect();
        Outcome::fail(format!(
            "{} setting(s) loosened inside Match blocks: {}",
            findings.len(),
            names.join(", ")
        ))
        .with_all(findings.into_iter().map(|(_, e)| e))
    })
    .unwrap_or_else(|o| o)
}
