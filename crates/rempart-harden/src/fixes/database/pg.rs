//! PostgreSQL fixes: settings through the cluster's `include_dir` (Debian's `conf.d`), or the
//! winning line where a later file would override the drop-in (`postgresql.auto.conf`, written
//! by ALTER SYSTEM, is read last); pg_hba.conf records edited one field at a time.

use super::base;
use crate::change::{FieldSep, Fix, Intent, LineFormat, Safety};
use crate::edit::{self, ValueStyle};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::database::pgconf::{self, absolute, parent_dir, IncludeKind, PgItem};
use rempart_audit::rules::database::pghba::{prefix_len, ConnType, HbaLine};
use rempart_audit::rules::database::servers::PgCluster;
use rempart_audit::rules::database::{Databases, DbKind, DbServer};

/// The drop-in's name in the cluster's include directory.
const DROPIN: &str = "90-rempart.conf";

fn clusters(ctx: &Ctx) -> Vec<(DbServer, PgCluster)> {
    ctx.fact::<Databases>()
        .of_kind(DbKind::Postgres)
        .filter_map(|s| s.postgres().map(|p| (s.clone(), p.clone())))
        .collect()
}

/// The include directory of the main file and the line of its `include_dir`.
fn include_dir(ctx: &Ctx, main: &str) -> Option<(String, u32)> {
    let text = ctx.host.read_text(main).ok()??.text;
    let (items, _) = pgconf::parse(main, &text);
    items.into_iter().find_map(|i| match i {
        PgItem::Include {
            kind: IncludeKind::Dir,
            target,
            line,
        } => {
            let dir = absolute(&parent_dir(main), &target);
            let dir = dir.trim_end_matches('/').to_string();
            ctx.host.exists(&dir).then_some((dir, line))
        }
        _ => None,
    })
}

/// The intents that make `name` take `literal` (a postgresql.conf value as written, quoted) in a
/// cluster, and where they go.
fn set(
    ctx: &Ctx,
    s: &DbServer,
    pg: &PgCluster,
    name: &str,
    literal: &str,
    rule: &str,
) -> Result<(Intent, String), String> {
    let inc = include_dir(ctx, &s.main_config);
    let dropin = inc.as_ref().map(|(d, _)| format!("{d}/{DROPIN}"));
    let winner = pg.conf.get(name);
    // The drop-in wins when the current winner is read before it.
    let dropin_wins = match (&inc, winner) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some((dir, line)), Some(w)) => {
            Some(&w.path) == dropin.as_ref()
                || (w.path == s.main_config && w.line < *line)
                || (parent_dir(&w.path) == *dir && base(&w.path) < DROPIN)
        }
    };
    if let (true, Some(path)) = (dropin_wins, dropin) {
        return Ok((
            Intent::SetLine {
                path: path.clone(),
                format: LineFormat::KeyEquals,
                key: name.into(),
                value: literal.into(),
                header: crate::fixes::header("#", rule),
                mode: 0o644,
            },
            path,
        ));
    }
    match winner {
        Some(w) => {
            let path = ctx.host.canonical(&w.path).map_err(|e| e.to_string())?;
            let new = edit::set_value(&w.text, ValueStyle::Postgres, literal)
                .ok_or_else(|| format!("{}:{}: cannot edit `{}`", w.path, w.line, w.text))?;
            Ok((
                Intent::EditLine {
                    path: path.clone(),
                    line: w.line,
                    old: w.text.clone(),
                    new,
                },
                format!("{path}:{}", w.line),
            ))
        }
        // No include directory and nothing sets it: a line at the end of the main file.
        None => Ok((
            Intent::InsertLine {
                path: s.main_config.clone(),
                before: u32::MAX,
                text: format!("{name} = {literal}"),
            },
            s.main_config.clone(),
        )),
    }
}

/// pg_hba.conf records for clients on other hosts (not `reject`).
fn remote_records(pg: &PgCluster) -> Vec<&HbaLine> {
    pg.hba
        .lines
        .iter()
        .filter(|l| l.conn != ConnType::Local && l.method != "reject" && !l.local_only())
        .collect()
}

/// DB-PG-LISTEN: `listen_addresses = 'localhost'`. Unsafe when pg_hba.conf admits clients from
/// other hosts: they lose the database.
pub fn listen(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut places = Vec::new();
    let mut remote = Vec::new();
    for (s, pg) in clusters(ctx) {
        if !s.listens_beyond_loopback() {
            continue;
        }
        let (i, at) = set(ctx, &s, &pg, "listen_addresses", "'localhost'", &f.id)?;
        intents.push(i);
        places.push(at);
        remote.extend(
            remote_records(&pg)
                .iter()
                .map(|l| format!("{}:{}", l.path, l.line)),
        );
    }
    if intents.is_empty() {
        return Ok(None);
    }
    let safety = if remote.is_empty() {
        Safety::Safe
    } else {
        Safety::Unsafe(format!(
            "clients on other hosts lose the database (pg_hba.conf admits them at {})",
            remote.join(", ")
        ))
    };
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "listen_addresses = 'localhost' in {} (takes effect at the next restart)",
            places.join(", ")
        ),
        safety,
        intents,
    }))
}

/// DB-PG-PASSWORD-ENCRYPTION: `password_encryption = 'scram-sha-256'` (new passwords only).
pub fn password_encryption(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut places = Vec::new();
    for (s, pg) in clusters(ctx) {
        let major: u32 = s
            .version
            .as_deref()
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let current = pg.conf.get("password_encryption").map_or_else(
            || if major >= 14 { "scram-sha-256" } else { "md5" }.to_string(),
            |v| v.value.to_ascii_lowercase(),
        );
        if current == "scram-sha-256" {
            continue;
        }
        if major < 10 {
            return Err(format!("{}: SCRAM needs PostgreSQL 10 or later", s.label()));
        }
        let (i, at) = set(
            ctx,
            &s,
            &pg,
            "password_encryption",
            "'scram-sha-256'",
            &f.id,
        )?;
        intents.push(i);
        places.push(at);
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "password_encryption = 'scram-sha-256' in {} (passwords set from now on; existing \
             MD5 hashes stay until each password is set again)",
            places.join(", ")
        ),
        safety: Safety::Safe,
        intents,
    }))
}

/// The field number of a record's method and address (`None` for `local`), or why the record
/// is not edited automatically.
fn fields(l: &HbaLine) -> Result<(usize, Option<usize>), String> {
    if l.text.contains('\n') {
        return Err(format!(
            "{}:{}: a record continued over several lines: edit it by hand",
            l.path, l.line
        ));
    }
    let (method, address) = match (&l.conn, &l.address) {
        (ConnType::Local, _) => (3, None),
        (_, Some(a)) if a.contains(' ') => (5, Some(3)),
        _ => (4, Some(3)),
    };
    if edit::field(&l.text, FieldSep::Blank, method) != Some(l.method.as_str()) {
        return Err(format!(
            "{}:{}: the record's fields are not plain words (lists with blanks, quotes): edit it by hand",
            l.path, l.line
        ));
    }
    Ok((method, address))
}

fn set_hba_field(
    ctx: &Ctx,
    l: &HbaLine,
    index: usize,
    old: &str,
    new: &str,
) -> Result<Intent, String> {
    Ok(Intent::SetField {
        path: ctx.host.canonical(&l.path).map_err(|e| e.to_string())?,
        line: l.line,
        sep: FieldSep::Blank,
        index,
        old: old.into(),
        new: new.into(),
    })
}

/// Replace the method of the records `pick` selects with what it returns.
fn hba_methods(
    ctx: &Ctx,
    pick: fn(&HbaLine) -> Option<&'static str>,
) -> Result<(Vec<Intent>, Vec<String>), String> {
    let mut intents = Vec::new();
    let mut changed = Vec::new();
    for (_, pg) in clusters(ctx) {
        for l in &pg.hba.lines {
            let Some(new) = pick(l) else { continue };
            let (method, _) = fields(l)?;
            intents.push(set_hba_field(ctx, l, method, &l.method, new)?);
            changed.push(format!("{}:{} {} -> {new}", l.path, l.line, l.method));
        }
    }
    Ok((intents, changed))
}

/// DB-PG-HBA-TRUST: `trust` becomes `peer` on local records (the Unix account must match the
/// role, as Debian sets up `postgres`) and `scram-sha-256` on host records.
pub fn hba_trust(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let (intents, changed) = hba_methods(ctx, |l| {
        (l.method == "trust").then_some(if l.conn == ConnType::Local {
            "peer"
        } else {
            "scram-sha-256"
        })
    })?;
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("{} (reload PostgreSQL)", changed.join(", ")),
        safety: Safety::Unsafe(
            "clients that connected without a password must now prove who they are: a local \
             Unix account must match its role, a network client needs a SCRAM password"
                .into(),
        ),
        intents,
    }))
}

/// DB-PG-HBA-WEAK-AUTH: `md5`, `password` and network `ident` become `scram-sha-256`.
pub fn hba_weak(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let (intents, changed) = hba_methods(ctx, |l| {
        let weak = match l.method.as_str() {
            "password" | "md5" => true,
            "ident" => l.conn != ConnType::Local,
            _ => false,
        };
        weak.then_some("scram-sha-256")
    })?;
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!(
            "{} (reload PostgreSQL; a role whose password is stored as MD5 must set it again \
             with password_encryption = 'scram-sha-256': \\password NAME)",
            changed.join(", ")
        ),
        safety: Safety::Unsafe(
            "roles whose password is still stored as an MD5 hash (set under PostgreSQL 13 or \
             with password_encryption = md5) cannot log in until it is set again"
                .into(),
        ),
        intents,
    }))
}

/// DB-PG-HBA-OPEN: records admitting every address are narrowed to this host (`0.0.0.0/0` to
/// `127.0.0.1/32`, `::/0` to `::1/128`, `all` to `samehost`). Unsafe when the cluster listens
/// beyond loopback: its remote clients lose access (naming them is the admin's job).
pub fn hba_open(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut changed = Vec::new();
    let mut listening = Vec::new();
    for (s, pg) in clusters(ctx) {
        for l in pg
            .hba
            .lines
            .iter()
            .filter(|l| l.conn != ConnType::Local && l.method != "reject" && l.from_anywhere())
        {
            let (_, address) = fields(l)?;
            let (Some(index), Some(addr)) = (address, l.address.as_deref()) else {
                continue;
            };
            if addr.contains(' ') {
                return Err(format!(
                    "{}:{}: an address with a mask: write the allowed clients by hand",
                    l.path, l.line
                ));
            }
            let new = match addr {
                "all" => "samehost",
                a if a.contains(':') && prefix_len(a) == Some(0) => "::1/128",
                a if prefix_len(a) == Some(0) => "127.0.0.1/32",
                _ => continue,
            };
            intents.push(set_hba_field(ctx, l, index, addr, new)?);
            changed.push(format!("{}:{} {addr} -> {new}", l.path, l.line));
            if s.listens_beyond_loopback() && !listening.contains(&s.label()) {
                listening.push(s.label());
            }
        }
    }
    if intents.is_empty() {
        return Ok(None);
    }
    let safety = if listening.is_empty() {
        Safety::Safe
    } else {
        Safety::Unsafe(format!(
            "{} listens beyond loopback: clients on other hosts lose access (name their \
             addresses in pg_hba.conf instead to keep them)",
            listening.join(", ")
        ))
    };
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("{} (reload PostgreSQL)", changed.join(", ")),
        safety,
        intents,
    }))
}

/// DB-PG-DATADIR-PERMS: no group write nor other access on the data directory (PostgreSQL
/// accepts 0700 and 0750), no group or other write on its configuration files.
pub fn datadir(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    for (s, _) in clusters(ctx) {
        intents.extend(super::datadir_modes(ctx, &s, "postgres", 0o027, None)?);
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("stricter modes on {} paths", intents.len()),
        safety: Safety::Safe,
        intents,
    }))
}
