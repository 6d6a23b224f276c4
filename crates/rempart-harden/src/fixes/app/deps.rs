//! APP-DEPS-PINNED's fix: each loose line of a requirements file pinned to the version
//! installed in the application's virtualenv, read from the packages' own metadata
//! (`venv/lib/python3*/site-packages/*.dist-info/METADATA`, `Name:` and `Version:`), which is
//! what `pip freeze` prints for them. pyproject.toml and Pipfile dependencies are left to the
//! project's lock tool.

use crate::change::{Fix, Intent, Safety};
use crate::fixes::web::line_at;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;
use rempart_audit::rules::app::requirements::normalise;
use rempart_audit::rules::services::discovery::Discovery;
use std::collections::HashMap;

/// Directories a project keeps its virtualenv in, relative to the app directory.
const VENV_DIRS: &[&str] = &["venv", ".venv", "env"];

/// `Name` and `Version` of a METADATA file (an RFC 822 header block).
pub fn metadata_name_version(text: &str) -> Option<(String, String)> {
    let mut name = None;
    let mut version = None;
    for line in text.lines() {
        if line.trim().is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Name:") {
            name.get_or_insert_with(|| v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version.get_or_insert_with(|| v.trim().to_string());
        }
    }
    let (n, v) = (name?, version?);
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+' | '!'))
    };
    (ok(&n) && ok(&v)).then_some((n, v))
}

/// The packages installed in the virtualenv at `venv`: normalised name -> (Name, Version).
fn installed(ctx: &Ctx, venv: &str) -> HashMap<String, (String, String)> {
    let mut out = HashMap::new();
    let pattern = format!("{venv}/lib/python3*/site-packages/*.dist-info/METADATA");
    for path in ctx
        .host
        .glob(&pattern)
        .unwrap_or_default()
        .into_iter()
        .take(5000)
    {
        let Ok(Some(t)) = ctx.host.read_text(&path) else {
            continue;
        };
        if let Some((n, v)) = metadata_name_version(&t.text) {
            out.insert(normalise(&n), (n, v));
        }
    }
    out
}

/// The line with its version specifier replaced by `==version` and the project name written as
/// its metadata has it; extras, environment markers and comments kept. `None` for lines that
/// are not a plain `name[extras] specifier` (direct references, options, hashes).
pub fn pin_line(line: &str, name: &str, version: &str) -> Option<String> {
    let t = line.trim_start();
    if t.starts_with('-') || line.contains("--hash") || line.contains('@') {
        return None;
    }
    let lead = line.len() - t.len();
    let comment = t
        .char_indices()
        .find(|(i, c)| *c == '#' && (*i == 0 || t[..*i].ends_with([' ', '\t'])))
        .map_or(t.len(), |(i, _)| i);
    let marker = t[..comment].find(';').unwrap_or(comment);
    let spec = t[..marker].trim_end();
    let name_end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(spec.len());
    if name_end == 0 || normalise(&spec[..name_end]) != normalise(name) {
        return None;
    }
    let mut rest = &spec[name_end..];
    let mut extras = "";
    if rest.starts_with('[') {
        let close = rest.find(']')? + 1;
        extras = &rest[..close];
        rest = &rest[close..];
    }
    let ok_spec = rest.chars().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '<' | '>' | '=' | '!' | '~' | '*' | '.' | ',' | ' ' | '\t' | '+'
            )
    });
    if !ok_spec {
        return None;
    }
    Some(format!(
        "{}{name}{extras}=={version}{}",
        &line[..lead],
        &t[spec.len()..]
    ))
}

/// The virtualenv of the application holding `path`.
fn venv_for(ctx: &Ctx, path: &str) -> Result<(String, String), String> {
    let d = ctx.fact::<Discovery>();
    let app = d
        .apps
        .iter()
        .filter(|a| path.starts_with(&format!("{}/", a.dir.trim_end_matches('/'))))
        .max_by_key(|a| a.dir.len())
        .ok_or_else(|| format!("{path}: no discovered application holds it"))?;
    VENV_DIRS
        .iter()
        .map(|v| format!("{}/{v}", app.dir.trim_end_matches('/')))
        .find(|v| ctx.host.exists(&format!("{v}/pyvenv.cfg")))
        .map(|v| (app.dir.clone(), v))
        .ok_or_else(|| {
            format!(
                "{}: no virtualenv (venv/, .venv/ or env/ with pyvenv.cfg): the installed \
                 versions are unknown, pin them with `pip freeze` where the app runs",
                app.dir
            )
        })
}

/// APP-DEPS-PINNED: every loose requirement line the audit reports becomes `Name==VERSION`
/// with the version installed in the app's virtualenv, as seed 002 Phase 2 §5 asks (« un
/// requirements.txt figé », i.e. `pip freeze`). Declines when the app has no virtualenv, when
/// a requirement is not installed there, and for pyproject.toml/Pipfile (a lock file is the
/// pin there). Unsafe: the next `pip install -r` installs exactly these versions, which may
/// hold back security releases until the pins are raised.
pub fn deps_pinned(ctx: &Ctx, f: &Finding) -> Result<Option<Fix>, String> {
    let mut intents = Vec::new();
    let mut pinned = Vec::new();
    let mut cache: HashMap<String, HashMap<String, (String, String)>> = HashMap::new();
    for e in &f.evidence {
        let (Some(path), Some(line), Some(key)) = (e.path.as_deref(), e.line, e.key.as_deref())
        else {
            continue;
        };
        if !path.ends_with(".txt") {
            return Err(format!(
                "{path}: dependencies of a pyproject.toml or Pipfile are pinned by a lock file \
                 (uv lock, poetry lock, pipenv lock): generate it by hand"
            ));
        }
        let (_, venv) = venv_for(ctx, path)?;
        let pkgs = cache
            .entry(venv.clone())
            .or_insert_with(|| installed(ctx, &venv));
        let (name, version) = pkgs.get(&normalise(key)).ok_or_else(|| {
            format!("{path}:{line}: {key} is not installed in {venv}: install it (or remove the line) first")
        })?;
        let (real, old) = line_at(ctx, path, line)?;
        let new = pin_line(&old, name, version).ok_or_else(|| {
            format!(
                "{path}:{line} (`{}`): not a plain requirement line: pin it by hand",
                old.trim()
            )
        })?;
        intents.push(Intent::EditLine {
            path: real,
            line,
            old,
            new,
        });
        pinned.push(format!("{name}=={version}"));
    }
    if intents.is_empty() {
        return Ok(None);
    }
    Ok(Some(Fix {
        rule: f.id.clone(),
        summary: format!("pinned to the installed versions: {}", pinned.join(", ")),
        safety: Safety::Unsafe(
            "the next `pip install -r` installs exactly these versions: raise the pins for \
             security releases (pip list --outdated) from now on"
                .into(),
        ),
        intents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn loose_lines_are_pinned_keeping_extras_markers_and_comments() {
        assert_eq!(
            pin_line("fastapi>=0.110", "fastapi", "0.115.6").unwrap(),
            "fastapi==0.115.6"
        );
        assert_eq!(
            pin_line("uvicorn[standard]", "uvicorn", "0.32.1").unwrap(),
            "uvicorn[standard]==0.32.1"
        );
        assert_eq!(
            pin_line("sqlalchemy~=2.0  # ORM", "SQLAlchemy", "2.0.36").unwrap(),
            "SQLAlchemy==2.0.36  # ORM"
        );
        assert_eq!(
            pin_line("tomli>=1 ; python_version < \"3.11\"", "tomli", "2.0.1").unwrap(),
            "tomli==2.0.1 ; python_version < \"3.11\""
        );
        assert_eq!(pin_line("pkg @ https://x/y.whl", "pkg", "1"), None);
        assert_eq!(pin_line("-r base.txt", "base", "1"), None);
        assert_eq!(pin_line("other>=1", "pkg", "1"), None);
        assert_eq!(pin_line("pkg>=1 --hash=sha256:ab", "pkg", "1"), None);
    }

    #[test]
    fn metadata_gives_name_and_version_from_the_header_only() {
        let m = "Metadata-Version: 2.1\nName: SQLAlchemy\nVersion: 2.0.36\nSummary: x\n\nName: not-this\n";
        assert_eq!(
            metadata_name_version(m).unwrap(),
            ("SQLAlchemy".into(), "2.0.36".into())
        );
        assert_eq!(metadata_name_version("Name: a b\nVersion: 1\n"), None);
        assert_eq!(metadata_name_version("Version: 1\n"), None);
    }

    proptest! {
        /// Any line: no panic; a pinned line pins to the version given and pins again the same.
        #[test]
        fn pinning_converges(line in "\\PC{0,60}", v in "[0-9]{1,3}\\.[0-9]{1,3}") {
            let _ = metadata_name_version(&line);
            if let Some(out) = pin_line(&line, "pkg", &v) {
                let pin = format!("=={v}");
                prop_assert!(out.contains(&pin));
                prop_assert_eq!(pin_line(&out, "pkg", &v), Some(out.clone()));
            }
        }
    }
}
