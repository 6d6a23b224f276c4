//! MariaDB/MySQL fixes: options in a `[mysqld]` drop-in in the directory `/etc/mysql/my.cnf`
//! includes (Debian: `mariadb.conf.d`), read after what sets them today, or the winning line
//! edited in place when a later file would override the drop-in.

use super::base;
use crate::change::{Fix, Intent, LineFormat, Safety};
use crate::edit::{self, ValueStyle};
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::database::mycnf::{self, normalise, MyItem, MyOption, ROOT_FILES};
use rempart_audit::rules::database::pgconf::{absolute, parent_dir};
use rempart_audit::rules::database::servers::MyServer;
use rempart_audit::rules::database::{Databases, DbKind, DbServer};

/// The drop-in's name in the included directory.
const DROPIN: &str = "90-rempart.cnf";

/// Directories the root files include, preferred first: (root file, its line, directory, the
/// directories that root file includes before it).
struct Included {
    root: String,
    line: u32,
    dir: String,
    earlier: Vec<String>,
}

fn included_dir(ctx: &Ctx) -> Option<Included> {
    let mut found: Vec<Included> = Vec::new();
    for root in ROOT_FILES {
        let Ok(Some(f)) = ctx.host.read_text(root) else {
            continue;
        };
        let (lines, _) = mycnf::parse(root, &f.text);
        let mut earlier = Vec::new();
        for l in lines {
            if let MyItem::IncludeDir(d) = &l.item {
                let d = absolute(&parent_dir(root), d);
                let d = d.trim_end_matches('/').to_string();
                if ctx.host.exists(&d) {
                    found.push(Included {
                        root: root.to_string(),
                        line: l.line,
                        dir: d.clone(),
                        earlier: earlier.clone(),
                    });
                }
                earlier.push(d);
            }
        }
    }
    let pos = |i: &Included| match i.dir.as_str() {
        "/etc/mysql/mariadb.conf.d" => 0,
        "/etc/mysql/conf.d" => 1,
        _ => 2,
    };
    found.into_iter().min_by_key(pos)
}

/// Whether option line `w` is read before a drop-in in `inc`.
fn read_before(inc: &Included, w: &MyOption) -> bool {
    let dir = parent_dir(&w.path);
    (dir == inc.dir && base(&w.path) < DROPIN)
        || (w.path == inc.root && w.line < inc.line)
        || inc.earlier.contains(&dir)
        || (w.path == ROOT_FILES[0] && inc.root != ROOT_FILES[0])
}

fn server(ctx: &Ctx) -> Option<(DbServer, MyServer)> {
    let dbs = ctx.fact::<Databases>();
    let s = dbs.of_kind(DbKind::MariaDb).next()?;
    Some((s.clone(), s.mariadb()?.clone()))
}

/// The intent that makes option `name` = `value` win for the server, and where it goes.
fn set(
    ctx: &Ctx,
    my: &MyServer,
    name: &str,
    value: &str,
    rule: &str,
) -> Result<(Intent, String), String> {
    let inc = included_dir(ctx);
    let winner = my.conf.effective(name, &my.groups).map(|e| e.set_by);
    let dropin = inc.as_ref().map(|i| format!("{}/{DROPIN}", i.dir));
    let dropin_wins = match (&inc, winner) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(i), Some(w)) => Some(&w.path) == dropin.as_ref() || read_before(i, w),
    };
    if let (true, Some(path)) = (dropin_wins, dropin) {
        return Ok((
            Intent::SetLine {
                path: path.clone(),
                format: LineFormat::Ini,
                key: format!("mysqld/{name}"),
                value: value.into(),
                header: crate::fixes::header("#", rule),
                mode: 0o644,
            },
            path,
        ));
    }
    let Some(w) = winner else {
        return Err(format!(
            "no directory is included from {}: add `{name} = {value}` under [mysqld] by hand",
            ROOT_FILES.join(" or ")
        ));
    };
    let path = ctx.host.canonical(&w.path).map_err(|e| e.to_string())?;
    // `name = x` and `loose-name = x` keep their form; `enable-name` and the like are rewritten.
    let bare = w.name.strip_prefix("loose-").unwrap_or(&w.name);
    let new = if bare == normalise(name) && w.text.contains('=') {
        edit::set_value(&w.text, ValueStyle::Option, value)
    } else {
        None
    }
    .unwrap_or_else(|| {
        let indent = &w.text[..w.text.len() - w.text.trim_start().len()];
        format!("{indent}{name} = {value}")
    });
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

fn option_fix(
    ctx: &Ctx,
    f: &Finding,
    name: &str,
    value: &str,
    safety: Safety,
    why: &str,
) -> Result<Option<Fix>, String> {
    let Some((_, my)) = server(ctx) else {
        return Ok(None);
    };
    let (intent, at) = set(ctx, &my, name, value, &f.id)?;
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("{name} = {value} in {at} ({why})"),
        safety,
        intents: vec![intent],
    }))
}

/// DB-MY-BIND: `bind-address = 127.0.0.1`. Unsafe: accounts that connect from other hosts lose
/// the database.
pub fn bind(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    option_fix(
        ctx,
        f,
        "bind-address",
        "127.0.0.1",
        Safety::Unsafe(
            "clients on other hosts (accounts with a host other than localhost) lose the \
             database"
                .into(),
        ),
        "takes effect at the next restart",
    )
}

/// DB-MY-LOCAL-INFILE: `local-infile = 0`.
pub fn local_infile(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    option_fix(
        ctx,
        f,
        "local-infile",
        "0",
        Safety::Safe,
        "imports with LOAD DATA LOCAL stop working; takes effect at the next restart",
    )
}

/// DB-MY-SYMLINKS: `symbolic-links = 0`.
pub fn symlinks(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    option_fix(
        ctx,
        f,
        "symbolic-links",
        "0",
        Safety::Safe,
        "tables placed elsewhere with DATA DIRECTORY links stop opening; takes effect at the next restart",
    )
}

/// DB-MY-DATADIR-PERMS: no group or other write on the data directory and option files, no
/// access for others to the database directories.
pub fn datadir(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let Some((s, _)) = server(ctx) else {
        return Ok(None);
    };
    let intents = super::datadir_modes(ctx, &s, "mysql", 0o022, Some(0o007))?;
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
