//! The production form of an application unit's command: every address its app server binds
//! moved to loopback, `--reload` and `--debug` removed, `reload = True` turned off. SVC-BIND-ALL
//! and SVC-DEV-MODE both fix the same command line, so both ask [`rewrite`] for the whole
//! production form of a unit: their intents are then identical and compose (a rule fixed alone
//! still gets the other change: the summary says so).
//!
//! Where each change goes follows where the audit found the setting: an `ExecStart=` of the main
//! unit file is replaced by a drop-in (`ExecStart=` reset, then the new command); a line of a
//! drop-in, an EnvironmentFile or gunicorn's config file is edited in place.

use crate::change::Intent;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::services::appserver::{bind_host, Bind, Origin, ServerKind};
use rempart_audit::rules::services::discovery::AppUnit;

/// The drop-in that replaces a unit's command.
pub fn exec_dropin(unit: &str) -> String {
    format!("/etc/systemd/system/{unit}.d/90-rempart-exec.conf")
}

/// The production form of one unit.
#[derive(Debug, Default)]
pub struct Rewrite {
    pub intents: Vec<Intent>,
    /// What changes, for the summary.
    pub changes: Vec<String>,
    /// Exposed binds that could not be moved, with why.
    pub manual_binds: Vec<String>,
    /// Development flags that could not be removed, with why.
    pub manual_dev: Vec<String>,
}

/// The loopback form of a bind address (`0.0.0.0:8000` -> `127.0.0.1:8000`).
pub fn loopback_addr(addr: &str) -> String {
    let a = addr.trim();
    let (prefix, a) = a
        .strip_prefix("tcp:")
        .map_or(("", a), |rest| ("tcp:", rest));
    let port = if let Some(rest) = a.strip_prefix('[') {
        rest.split_once("]:").map(|(_, p)| p)
    } else if a.matches(':').count() == 1 {
        a.rsplit_once(':').map(|(_, p)| p)
    } else if a.chars().all(|c| c.is_ascii_digit()) {
        Some(a)
    } else {
        None
    };
    match port {
        Some(p) if !p.is_empty() => format!("{prefix}127.0.0.1:{p}"),
        _ => format!("{prefix}127.0.0.1"),
    }
}

fn boundary_before(text: &str, at: usize) -> bool {
    at == 0 || text[..at].ends_with([' ', '\t', '=', '"', '\'']) || text[..at].ends_with("-b")
}

fn boundary_after(text: &str, end: usize) -> bool {
    end == text.len() || text[end..].starts_with([' ', '\t', '"', '\'', ','])
}

/// Replace whole-word occurrences of `from` (optionally only right after one of `after`).
fn replace_word(text: &str, from: &str, to: &str, after: &[&str]) -> Option<String> {
    if from.is_empty() {
        return None;
    }
    let mut out = String::new();
    let mut rest = 0;
    let mut done = false;
    let mut search = 0;
    while let Some(i) = text[search..].find(from).map(|i| i + search) {
        let end = i + from.len();
        let ok = boundary_before(text, i)
            && boundary_after(text, end)
            && (after.is_empty() || after.iter().any(|a| text[..i].ends_with(a)));
        if ok {
            out.push_str(&text[rest..i]);
            out.push_str(to);
            rest = end;
            done = true;
        }
        search = end;
    }
    out.push_str(&text[rest..]);
    done.then_some(out)
}

/// A line (or command) with the address `addr` moved to loopback.
pub fn loopback_line(text: &str, addr: &str) -> Option<String> {
    if let Some(out) = replace_word(text, addr, &loopback_addr(addr), &[]) {
        return Some(out);
    }
    let host = bind_host(addr)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    replace_word(
        text,
        host,
        "127.0.0.1",
        &[
            "--host ", "--host=", "-h ", "HOST=", "HOST=\"", "HOST='", "--bind ", "--bind=", "-b ",
            "-b",
        ],
    )
}

/// A command (or `GUNICORN_CMD_ARGS` value) without the word `flag`.
pub fn without_flag(text: &str, flag: &str) -> Option<String> {
    let mut words: Vec<&str> = text.split(' ').collect();
    let before = words.len();
    words.retain(|w| *w != flag);
    (words.len() < before).then(|| words.join(" "))
}

/// One line being rewritten.
struct LineEdit {
    path: String,
    line: u32,
    old: String,
    new: String,
}

/// The changes to one unit, accumulated so that two changes of the same line compose.
struct Pending<'a> {
    ctx: &'a Ctx<'a>,
    unit: &'a AppUnit,
    /// The winning `ExecStart=`, and whether it is in the main unit file.
    exec: Option<(String, u32)>,
    exec_in_main: bool,
    /// The command the drop-in will carry (when the ExecStart is in the main file).
    command: String,
    command_changed: bool,
    env_overrides: Vec<(String, String)>,
    edits: Vec<LineEdit>,
}

impl Pending<'_> {
    /// Apply `f` to the text `o` names.
    fn change(&mut self, o: &Origin, f: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
        let is_exec = self
            .exec
            .as_ref()
            .is_some_and(|(p, l)| o.path == *p && o.line == Some(*l));
        if is_exec && self.exec_in_main {
            self.command = f(&self.command).ok_or("not found in the command")?;
            self.command_changed = true;
            return Ok(());
        }
        if o.how == "environment" && o.path == self.unit.unit.path {
            // `Environment=` of the main unit file: overridden in the drop-in.
            let var = self
                .unit
                .env
                .iter()
                .find(|e| &e.origin == o)
                .ok_or("variable not found")?;
            let current = self
                .env_overrides
                .iter()
                .find(|(k, _)| *k == var.key)
                .map_or(var.value.clone(), |(_, v)| v.clone());
            let new = f(&current).ok_or("not found in the variable")?;
            self.env_overrides.retain(|(k, _)| *k != var.key);
            self.env_overrides.push((var.key.clone(), new));
            return Ok(());
        }
        let line = o.line.ok_or("no line")?;
        let text = o.text.clone().ok_or("no text")?;
        if let Some(e) = self
            .edits
            .iter_mut()
            .find(|e| e.path == o.path && e.line == line)
        {
            e.new = f(&e.new).ok_or("not found in the line")?;
            return Ok(());
        }
        let new = f(&text).ok_or("not found in the line")?;
        self.edits.push(LineEdit {
            path: o.path.clone(),
            line,
            old: text,
            new,
        });
        Ok(())
    }
}

/// The production form of unit `u`.
pub fn rewrite(ctx: &Ctx, u: &AppUnit) -> Rewrite {
    let mut r = Rewrite::default();
    let Some(server) = &u.server else {
        return r;
    };
    let exec = u.unit.all("Service", "ExecStart").last().copied().cloned();
    let mut p = Pending {
        ctx,
        unit: u,
        exec_in_main: exec.as_ref().is_some_and(|s| s.path == u.unit.path),
        command: exec.as_ref().map(|s| s.value.clone()).unwrap_or_default(),
        exec: exec.map(|s| (s.path, s.line)),
        command_changed: false,
        env_overrides: Vec::new(),
        edits: Vec::new(),
    };
    for b in server.binds.iter().filter(|b| b.is_exposed()) {
        let res = bind_change(server.kind, b).and_then(|f| {
            p.change(&b.origin, &*f).or_else(|why| {
                // `--host ${HOST}`: the address is the value of a variable.
                let var = variable_with(u, &b.origin, &b.addr).ok_or(why)?;
                p.change(&var, &*f)
            })
        });
        match res {
            Ok(()) => r.changes.push(format!(
                "{} listens on {}",
                u.unit.name,
                loopback_addr(&b.addr)
            )),
            Err(why) => r.manual_binds.push(format!(
                "{}: {} from {} ({why}): bind it to 127.0.0.1 by hand",
                u.unit.name, b.addr, b.origin.path
            )),
        }
    }
    for d in &server.dev_flags {
        let flag = d.flag.clone();
        let res = match flag.as_str() {
            "--reload" | "--debug" => p.change(&d.origin, &|t: &str| without_flag(t, &flag)),
            "reload = True" => p.change(&d.origin, &|t: &str| {
                t.contains("True").then(|| t.replacen("True", "False", 1))
            }),
            _ => Err("a development server: run the app under gunicorn or uvicorn".into()),
        };
        match res {
            Ok(()) => r
                .changes
                .push(format!("{} without {}", u.unit.name, d.flag)),
            Err(why) => r
                .manual_dev
                .push(format!("{}: {} ({why})", u.unit.name, d.flag)),
        }
    }
    if p.command_changed || !p.env_overrides.is_empty() {
        let mut text = crate::fixes::header("#", "SVC-BIND-ALL, SVC-DEV-MODE");
        text.push_str("[Service]\n");
        if p.command_changed {
            text.push_str(&format!("ExecStart=\nExecStart={}\n", p.command));
        }
        for (k, v) in &p.env_overrides {
            text.push_str(&format!("Environment=\"{k}={v}\"\n"));
        }
        r.intents.push(Intent::Write {
            path: exec_dropin(&u.unit.name),
            content: text.into_bytes(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        });
    }
    for e in p.edits {
        match p.ctx.host.canonical(&e.path) {
            Ok(path) => r.intents.push(Intent::EditLine {
                path,
                line: e.line,
                old: e.old,
                new: e.new,
            }),
            Err(err) => r.manual_binds.push(format!("{}: {err}", e.path)),
        }
    }
    r
}

/// The origin of the environment variable a command line uses for address `addr`.
fn variable_with(u: &AppUnit, o: &Origin, addr: &str) -> Option<Origin> {
    let text = o.text.as_deref()?;
    u.env
        .iter()
        .rev()
        .filter(|e| {
            text.contains(&format!("${{{}}}", e.key)) || text.contains(&format!("${}", e.key))
        })
        .find(|e| {
            loopback_line(&e.value, addr).is_some() || bind_host(addr).is_some_and(|h| e.value == h)
        })
        .map(|e| e.origin.clone())
}

/// A change of one line or command's text (`None` when it does not apply).
type LineChange = Box<dyn Fn(&str) -> Option<String>>;

/// How one exposed bind moves to loopback, or why it cannot.
fn bind_change(kind: ServerKind, b: &Bind) -> Result<LineChange, String> {
    match b.origin.how {
        "default" if kind == ServerKind::FastapiCli => Ok(Box::new(|t: &str| {
            replace_word(t, "run", "run --host 127.0.0.1", &[])
        })),
        "default" => Err("the server's default address".into()),
        "environment"
            if b.origin
                .text
                .as_deref()
                .is_some_and(|t| t.starts_with("PORT=")) =>
        {
            Err("gunicorn binds 0.0.0.0:$PORT: add --bind 127.0.0.1:$PORT".into())
        }
        _ => {
            let addr = b.addr.clone();
            Ok(Box::new(move |t: &str| loopback_line(t, &addr)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn rewrites_never_panic_and_converge(
            text in "\\PC{0,120}",
            host in prop_oneof![Just("0.0.0.0"), Just("[::]"), Just(""), Just("10.1.2.3")],
            port in "[0-9]{1,5}",
        ) {
            let addr = format!("{host}:{port}");
            if let Some(once) = loopback_line(&text, &addr) {
                // Nothing exposed is left where it was replaced: a second pass changes nothing.
                prop_assert!(once.contains("127.0.0.1"));
                prop_assert_eq!(loopback_line(&once, &addr).is_some_and(|t| t != once), false);
            }
            if let Some(once) = without_flag(&text, "--reload") {
                prop_assert_eq!(without_flag(&once, "--reload"), None);
            }
            let _ = loopback_addr(&text);
        }

        #[test]
        fn a_written_command_is_rewritten(
            prefix in "[a-z/ ._:-]{0,30}",
            port in "[0-9]{1,5}",
        ) {
            let cmd = format!("{prefix} --host 0.0.0.0 --port {port}");
            let out = loopback_line(&cmd, &format!("0.0.0.0:{port}")).unwrap();
            prop_assert_eq!(out, format!("{prefix} --host 127.0.0.1 --port {port}"));
        }
    }

    #[test]
    fn addresses_move_to_loopback() {
        assert_eq!(loopback_addr("0.0.0.0:8000"), "127.0.0.1:8000");
        assert_eq!(loopback_addr("[::]:8000"), "127.0.0.1:8000");
        assert_eq!(loopback_addr(":8000"), "127.0.0.1:8000");
        assert_eq!(loopback_addr("8000"), "127.0.0.1:8000");
        assert_eq!(loopback_addr("0.0.0.0"), "127.0.0.1");
        assert_eq!(loopback_addr("tcp:0.0.0.0:8000"), "tcp:127.0.0.1:8000");
    }

    #[test]
    fn lines_keep_everything_but_the_address() {
        let cmd =
            "/v/bin/uvicorn app.main:app --host 0.0.0.0 --port 8000 --forwarded-allow-ips 0.0.0.0";
        assert_eq!(
            loopback_line(cmd, "0.0.0.0:8000").unwrap(),
            "/v/bin/uvicorn app.main:app --host 127.0.0.1 --port 8000 --forwarded-allow-ips 0.0.0.0"
        );
        assert_eq!(
            loopback_line("gunicorn -b 0.0.0.0:8000 app:app", "0.0.0.0:8000").unwrap(),
            "gunicorn -b 127.0.0.1:8000 app:app"
        );
        assert_eq!(
            loopback_line("gunicorn -b0.0.0.0:8000 app:app", "0.0.0.0:8000").unwrap(),
            "gunicorn -b127.0.0.1:8000 app:app"
        );
        assert_eq!(
            loopback_line("bind = \"0.0.0.0:8000\"", "0.0.0.0:8000").unwrap(),
            "bind = \"127.0.0.1:8000\""
        );
        assert_eq!(
            loopback_line("HOST=0.0.0.0", "0.0.0.0:8000").unwrap(),
            "HOST=127.0.0.1"
        );
        assert_eq!(
            loopback_line("python manage.py runserver 0.0.0.0:8000", "0.0.0.0:8000").unwrap(),
            "python manage.py runserver 127.0.0.1:8000"
        );
        assert_eq!(loopback_line("PORT=8000", "0.0.0.0:8000"), None);
        assert_eq!(
            without_flag("uvicorn app:app --reload --port 8000", "--reload").unwrap(),
            "uvicorn app:app --port 8000"
        );
        assert_eq!(
            without_flag("uvicorn app:app --reload-dir x", "--reload"),
            None
        );
    }
}
