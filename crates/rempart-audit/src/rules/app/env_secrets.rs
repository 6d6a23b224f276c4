//! APP-ENV-SECRETS: the secrets applications need are set, and are not placeholders.

use super::django::DjangoProjects;
use super::env::{AppEnvs, EnvEntry};
use super::pyread;
use super::strength::{judge, secret_kind, url_password, SecretKind};
use super::web::WebModules;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "APP-ENV-SECRETS",
    name: "app-secret-missing-or-weak",
    family: Family::App,
    severity: Severity::High,
    level: Level::Sme,
    title: "Applications' secrets are set and strong",
    doc: RuleDoc {
        what: "For each discovered application: every secret-looking variable (a name with \
               SECRET, TOKEN, PASSWORD, or ending in _KEY; not ..._FILE, ..._ID, PUBLIC...) \
               set by its units (`Environment=`, `EnvironmentFile=`) or in its `.env` files, \
               and every password inside a URL (`DATABASE_URL=postgresql://user:PASS@...`), is \
               not empty, not a placeholder or vendor default (`changeme`, `secret`, \
               `secret_genere_aleatoirement`, `admin`, `your-...`), and long enough: 32 \
               characters for keys and tokens, 20 for passwords. Also, every `*SECRET*` \
               variable the app's code reads (Django settings, the web app module, pydantic \
               `BaseSettings` fields) is set somewhere the service sees. Values are never \
               shown, only what is wrong with them.",
        why: "A placeholder copied from a template or a guide is public knowledge: anyone \
              can sign sessions or log in to the database with it. A missing signing secret \
              makes apps fall back to a hard-coded default or generate one at each start \
              (seed 000: sessions lost at every restart).",
        remediation: "Generate each secret (`python3 -c 'import secrets; \
                      print(secrets.token_urlsafe(32))'`, `openssl rand -base64 24` for \
                      passwords), set it in the app's .env (mode 600), change the matching \
                      account's password where the secret is a password (database, SMTP), \
                      and restart the service.",
        verify: "awk -F= '/SECRET|PASSWORD|TOKEN|_KEY/ {print $1, length($2)}' APPDIR/.env",
        references: &[
            "seed 000 §6 Gestion des secrets (DATABASE_URL, SESSION_SECRET)",
            "seed 000 Risques résiduels §5 (stocker SESSION_SECRET dans .env)",
            "seed 001 Security Checklist (Generate strong passwords, min 20 chars)",
        ],
    },
    check,
};

fn redacted(e: &EnvEntry, what: String, kind: SecretKind) -> Evidence {
    Evidence::file(&e.path)
        .line(e.line)
        .snippet(format!("{}=<redacted>", e.key))
        .key(&e.key)
        .actual(what)
        .expected(format!(
            "a random value of at least {} characters",
            kind.min_len()
        ))
}

fn check(ctx: &Ctx) -> Outcome {
    let envs = ctx.fact::<AppEnvs>();
    let django = ctx.fact::<DjangoProjects>();
    let web = ctx.fact::<WebModules>();
    let mut bad = Vec::new();
    let mut judged = 0usize;
    for (i, env) in envs.apps.iter().enumerate() {
        // Every assignment the service or the app sees, each judged once.
        let mut entries: Vec<&EnvEntry> = env.entries.iter().collect();
        for f in &env.files {
            entries.extend(f.entries.iter());
        }
        let mut done: Vec<(&str, u32)> = Vec::new();
        for e in entries {
            if done.contains(&(e.path.as_str(), e.line)) {
                continue;
            }
            done.push((e.path.as_str(), e.line));
            if let Some(kind) = secret_kind(&e.key) {
                judged += 1;
                if let Some(w) = judge(&e.value, kind) {
                    bad.push(redacted(e, w.describe(), kind));
                }
            } else if let Some(pass) = url_password(&e.value) {
                judged += 1;
                if let Some(w) = judge(pass, SecretKind::Password) {
                    bad.push(
                        Evidence::file(&e.path)
                            .line(e.line)
                            .snippet(format!("{}=<redacted URL>", e.key))
                            .key(&e.key)
                            .actual(format!("password in the URL is {}", w.describe()))
                            .expected("a random password of at least 20 characters"),
                    );
                }
            }
        }
        // Signing secrets the code reads.
        let mut reads: Vec<(String, String, u32)> = Vec::new();
        for p in django.projects.iter().filter(|p| p.app == i) {
            reads.extend(p.env_names.iter().cloned());
        }
        for m in web.modules.iter().filter(|m| m.app == i) {
            if let Ok(module) = &m.module {
                for (v, line) in pyread::env_names(module) {
                    reads.push((v, m.path.clone(), line));
                }
                for c in &module.classes {
                    if !c.bases.iter().any(|b| b.ends_with("BaseSettings")) {
                        continue;
                    }
                    for f in &c.fields {
                        reads.push((f.name.to_ascii_uppercase(), m.path.clone(), f.line));
                    }
                }
            }
        }
        let mut reported: Vec<String> = Vec::new();
        for (var, path, line) in reads {
            let signing = var.to_ascii_uppercase().contains("SECRET")
                && secret_kind(&var) == Some(SecretKind::Key);
            if !signing || reported.contains(&var) {
                continue;
            }
            judged += 1;
            let set = env.entries.iter().any(|e| e.key.eq_ignore_ascii_case(&var))
                || env
                    .files
                    .iter()
                    .any(|f| f.entries.iter().any(|e| e.key.eq_ignore_ascii_case(&var)));
            if !set {
                reported.push(var.clone());
                let snippet = ctx
                    .host
                    .read_text(&path)
                    .ok()
                    .flatten()
                    .and_then(|t| t.line(line).map(|l| l.trim_end().to_string()))
                    .unwrap_or_default();
                bad.push(
                    Evidence::file(&path)
                        .line(line)
                        .snippet(snippet)
                        .key(&var)
                        .actual("read by the code, set nowhere the service sees")
                        .expected("set in the unit's environment or the app's .env"),
                );
            }
        }
    }
    if !bad.is_empty() {
        return Outcome::fail(format!(
            "{} application secret(s) missing, empty, placeholder or too short",
            bad.len()
        ))
        .with_all(bad);
    }
    if judged == 0 {
        return Outcome::not_applicable("no application secret found in units or .env files");
    }
    Outcome::pass(format!("{judged} application secret(s) set and strong"))
}
