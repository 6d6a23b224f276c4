//! APP-DJANGO-ALLOWED-HOSTS: ALLOWED_HOSTS names the site, not `*`.

use super::{judge_projects, Setting, Verdict};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::pyread::Val;

pub const RULE: Rule = Rule {
    id: "APP-DJANGO-ALLOWED-HOSTS",
    name: "django-allowed-hosts-wildcard",
    family: Family::App,
    severity: Severity::Medium,
    level: Level::Sme,
    title: "Django's ALLOWED_HOSTS names the site's hosts, without `*`",
    doc: RuleDoc {
        what: "The effective `ALLOWED_HOSTS` (read as APP-DJANGO-DEBUG reads DEBUG, list \
               methods such as `.append()` and `+=` followed) contains no `*` entry. A plain \
               string instead of a list (an environment value without a list cast) is judged \
               character by character, as Django does, so `\"*\"` or `\"*,example.org\"` \
               fails. Unset or empty is Django's default: with DEBUG off Django then refuses \
               every request, which is safe.",
        why: "Django builds absolute URLs (password-reset links, redirects) from the Host \
              header. With `*` any Host is accepted, so an attacker can make the site send \
              password-reset mails pointing to their own domain (host-header poisoning) and \
              poison caches.",
        remediation: "List the site's names: `ALLOWED_HOSTS = [\"ton.domaine.tld\"]` (or \
                      `.domaine.tld` for subdomains), or `ALLOWED_HOSTS = \
                      os.environ[\"ALLOWED_HOSTS\"].split(\",\")` with the names in the \
                      service's environment. Restart the service.",
        verify: "curl -s -o /dev/null -w '%{http_code}\\n' -H 'Host: evil.example' https://SITE/ \
                 # 400 expected",
        references: &[
            "seed 002 Phase 1 §5 (ALLOWED_HOSTS = ['ton.domaine.tld'])",
            "Django docs: ALLOWED_HOSTS, host header validation",
        ],
    },
    check,
};

/// Entries of ALLOWED_HOSTS as Django iterates them.
fn entries(v: &Val) -> Option<Vec<String>> {
    match v {
        Val::List(items) => items.iter().map(|i| i.as_str().map(String::from)).collect(),
        Val::Str(s) => Some(s.chars().map(String::from).collect()),
        Val::None => Some(Vec::new()),
        _ => None,
    }
}

fn check(ctx: &Ctx) -> Outcome {
    judge_projects(
        ctx,
        "Django accepts any Host header (`*` in ALLOWED_HOSTS)",
        "ALLOWED_HOSTS names the site's hosts",
        |p| {
            let mut v = Verdict::default();
            match p.get("ALLOWED_HOSTS") {
                Setting::Set(b) => match entries(&b.val) {
                    Some(hosts) if hosts.iter().any(|h| h == "*") => {
                        v.fails.push(b.evidence().expected("the site's host names"));
                        v.fails.extend(b.env_evidence(false));
                    }
                    Some(_) => {
                        v.seen.push(b.evidence());
                        v.seen.extend(b.env_evidence(false));
                    }
                    None => v.unknown.push(b.evidence()),
                },
                Setting::Unset => v.seen.push(p.unset_evidence("ALLOWED_HOSTS", "[]")),
            }
            v.seen.extend(p.conditional_evidence("ALLOWED_HOSTS"));
            v
        },
    )
}
