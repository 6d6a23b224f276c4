//! The daemon's side of the control socket: binding it (root-only), and answering
//! [`crate::control::Request`]s between two passes of the loop.

use super::{record_of, Daemon, DaemonError};
use crate::addr::Cidr;
use crate::config::Ports;
use crate::control::{BanStatus, JailStatus, Request, Response, MAX_MESSAGE};
use crate::events::Event;
use crate::jail::Decision;
use jiff::Timestamp;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::Duration;

/// Binds the control socket (replacing a stale one), mode 0600.
pub(super) fn bind(path: &Path) -> Result<UnixListener, DaemonError> {
    let err = |what, source| DaemonError::Socket {
        what,
        path: path.display().to_string(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err("creating the directory of", e))?;
    }
    if path.exists() {
        if UnixStream::connect(path).is_ok() {
            return Err(err(
                "another daemon answers on",
                std::io::Error::new(std::io::ErrorKind::AddrInUse, "socket in use"),
            ));
        }
        std::fs::remove_file(path).map_err(|e| err("removing the stale socket", e))?;
    }
    let l = UnixListener::bind(path).map_err(|e| err("binding", e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| err("restricting", e))?;
    l.set_nonblocking(true).map_err(|e| err("configuring", e))?;
    Ok(l)
}

/// Answers every pending request.
pub(super) fn serve(d: &mut Daemon) {
    while let Ok((s, _)) = d.listener.accept() {
        let _ = s.set_nonblocking(false);
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
        let mut line = String::new();
        let read = BufReader::new(&s)
            .take(MAX_MESSAGE as u64)
            .read_line(&mut line);
        let resp = match read {
            Ok(_) => match serde_json::from_str::<Request>(&line) {
                Ok(req) => answer(d, req),
                Err(e) => Response::Error {
                    message: format!("bad request: {e}"),
                },
            },
            Err(e) => Response::Error {
                message: e.to_string(),
            },
        };
        if let Ok(mut out) = serde_json::to_vec(&resp) {
            out.push(b'\n');
            let _ = (&s).write_all(&out);
        }
    }
}

fn answer(d: &mut Daemon, req: Request) -> Response {
    match req {
        Request::Status => status(d),
        Request::Ban {
            target,
            jail,
            bantime,
        } => ban(d, &target, jail.as_deref(), bantime.as_deref()),
        Request::Unban { target } => unban(d, &target),
    }
}

fn status(d: &mut Daemon) -> Response {
    d.refresh_gauges();
    let jails = d
        .engine
        .jails
        .iter()
        .map(|j| {
            let name = j.jail.spec().name.to_string();
            let mut sources = j.config.logpath.clone();
            if let Some(m) = &j.config.journal {
                let mut what: Vec<String> = m.units.clone();
                what.extend(m.identifiers.iter().cloned());
                sources.push(format!("journal:{}", what.join(",")));
            }
            if j.watches_bans {
                sources.push("bans of the other jails".to_string());
            }
            JailStatus {
                active: d.active.keys().filter(|(jn, _)| *jn == name).count() as u64,
                filter: j.config.filter.clone(),
                lines: j.lines,
                matches: j.matches,
                bans: j.jail.bans,
                tracked: j.jail.tracked() as u64,
                sources,
                name,
            }
        })
        .collect();
    let bans = d
        .active
        .values()
        .map(|b| BanStatus {
            jail: b.jail.clone(),
            target: b.target.to_string(),
            at: b.at.to_string(),
            until: b.until.to_string(),
            count: b.count,
        })
        .collect();
    Response::Status {
        backend: d.backend.name().to_string(),
        jails,
        bans,
        files: d.files.len() as u64,
        journal: d.journal.is_some(),
    }
}

fn ban(d: &mut Daemon, target: &str, jail: Option<&str>, bantime: Option<&str>) -> Response {
    let target: Cidr = match target.parse() {
        Ok(t) => t,
        Err(e) => return Response::Error { message: e },
    };
    let now = Timestamp::now();
    let length = match bantime.map(crate::config::parse_duration) {
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return Response::Error { message: e },
        None => None,
    };
    let jail_name = jail.unwrap_or("manual");
    let decision = match d.engine.index(jail_name) {
        Some(i) => {
            let mut dec = d.engine.jails[i].jail.force_ban(target, now);
            if let Some(l) = length {
                dec.until = Timestamp::from_second(now.as_second() + l.as_secs() as i64)
                    .unwrap_or(dec.until);
            }
            dec
        }
        None if jail.is_some() => {
            return Response::Error {
                message: format!("no jail `{jail_name}`"),
            }
        }
        None => Decision {
            jail: "manual".into(),
            target,
            at: now,
            until: Timestamp::from_second(
                now.as_second() + length.map_or(3600, |l| l.as_secs() as i64),
            )
            .unwrap_or(Timestamp::MAX),
            count: 1,
            ports: Ports::All,
        },
    };
    let rec = record_of(&decision);
    let before = d.active.len();
    d.apply(vec![decision], true);
    if d.active.len() > before || d.active.contains_key(&(rec.jail.clone(), rec.target)) {
        Response::Done {
            message: format!(
                "banned {} until {} (jail {})",
                rec.target, rec.until, rec.jail
            ),
        }
    } else {
        Response::Error {
            message: "the firewall refused the ban (see the daemon's log)".to_string(),
        }
    }
}

fn unban(d: &mut Daemon, target: &str) -> Response {
    let target: Cidr = match target.parse() {
        Ok(t) => t,
        Err(e) => return Response::Error { message: e },
    };
    let hits: Vec<_> = d
        .active
        .iter()
        .filter(|(_, b)| b.target.contains(target.addr) || target.contains(b.target.addr))
        .map(|(k, b)| (k.clone(), b.clone()))
        .collect();
    if hits.is_empty() {
        return Response::Error {
            message: format!("{target} is not banned"),
        };
    }
    let records: Vec<_> = hits.iter().map(|(_, b)| b.clone()).collect();
    if let Err(e) = d.backend.unban(&records) {
        Event::BackendFailed {
            op: "unban",
            error: e.to_string(),
        }
        .emit(&mut d.metrics);
        return Response::Error {
            message: format!("the firewall refused: {e}"),
        };
    }
    for (k, b) in hits {
        d.active.remove(&k);
        if let Some(i) = d.engine.index(&b.jail) {
            d.engine.jails[i].jail.lift(&b.target);
        }
        Event::Unbanned {
            ban: &b,
            manual: true,
        }
        .emit(&mut d.metrics);
    }
    d.bans_dirty = true;
    Response::Done {
        message: format!("unbanned {} ({} ban(s))", target, records.len()),
    }
}
