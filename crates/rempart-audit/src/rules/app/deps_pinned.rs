//! APP-DEPS-PINNED: applications install exact dependency versions.

use super::requirements::{self, Pin, Requirement};
use crate::host::Host;
use crate::model::{Evidence, Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};
use crate::rules::app::pyread::eval::{dirname, join_path, normalise};
use crate::rules::services::discovery::Discovery;

pub const RULE: Rule = Rule {
    id: "APP-DEPS-PINNED",
    name: "app-dependencies-unpinned",
    family: Family::App,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Applications pin their Python dependencies to exact versions",
    doc: RuleDoc {
        what: "In every discovered application: each requirements file (`requirements*.txt` \
               and `requirements/*.txt`, except development ones such as \
               `requirements-dev.txt`, `requirements/local.txt`, `-test`, `-lint`, `-docs`), \
               with its `-r` includes followed, pins each requirement with `==` to \
               one version (no `>=`, `~=`, `==1.*` or bare name), unless a `-c` constraints \
               file pins it; direct references must name a tag, a commit or an archive. A \
               `pyproject.toml` or `Pipfile` is judged the same way unless a lock file sits \
               beside it (`poetry.lock`, `uv.lock`, `pdm.lock`, `Pipfile.lock`) or the app \
               installs from a fully pinned requirements file. `-e .` (the project itself) is \
               accepted.",
        why: "Unpinned dependencies install whatever is newest at deployment time: a \
              restored backup or a second server runs code nobody tested, a compromised or \
              hijacked release goes straight to production, and a vulnerability audit \
              (`pip-audit -r requirements.txt`) cannot say what is really installed.",
        remediation: "From the application's virtualenv: `pip freeze > requirements.txt` (or \
                      `pip-compile --generate-hashes` from a requirements.in, or commit the \
                      lock file of poetry/uv/pdm), install with `pip install -r \
                      requirements.txt`, then run `pip-audit -r requirements.txt`.",
        verify: "grep -vnE '^\\s*(#|$|-)|==' APPDIR/requirements.txt   # no output expected",
        references: &[
            "seed 002 Phase 2 §5 Sécurité des dépendances Python (requirements.txt figé, versions exactes; pip-audit)",
            "seed 000 §9 Mises à jour de sécurité (Dépendances Python: safety check)",
            "pip docs: Repeatable installs, hash-checking mode",
        ],
    },
    check,
};

/// Requirements files that only serve development (`requirements-dev.txt`,
/// `requirements/local.txt`, `test-requirements.txt`).
fn is_dev_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    let stem = name.trim_end_matches(".txt");
    stem.split(['-', '_', '.'])
        .filter(|w| *w != "requirements")
        .any(|w| {
            matches!(
                w,
                "dev"
                    | "develop"
                    | "development"
                    | "test"
                    | "tests"
                    | "testing"
                    | "lint"
                    | "doc"
                    | "docs"
                    | "ci"
                    | "local"
            )
        })
}

/// The app's requirements files: those discovery found, and the `requirements/` directory
/// layout (`requirements/base.txt`, `requirements/production.txt`).
fn requirement_files(ctx: &Ctx, app: &crate::rules::services::discovery::App) -> Vec<String> {
    let mut files = app.requirement_files.clone();
    let dir = format!("{}/requirements", app.dir);
    if let Ok(Some(names)) = ctx.host.read_dir(&dir) {
        for n in names.iter().filter(|n| n.ends_with(".txt")).take(50) {
            let p = format!("{dir}/{n}");
            if !files.contains(&p) {
                files.push(p);
            }
        }
    }
    files
}

struct Walk<'a> {
    host: &'a Host,
    reqs: Vec<(String, Requirement)>,
    pinned_by_constraint: Vec<String>,
    errors: Vec<Evidence>,
    seen: Vec<String>,
}

impl Walk<'_> {
    fn file(&mut self, path: &str, depth: usize) {
        if depth > 4 || self.seen.iter().any(|s| s == path) {
            return;
        }
        self.seen.push(path.to_string());
        let text = match self.host.read_text(path) {
            Ok(Some(t)) => t.text,
            Ok(None) => return,
            Err(e) => {
                self.errors.push(Evidence::file(path).note(e.to_string()));
                return;
            }
        };
        let r = requirements::parse_requirements(&text);
        let dir = dirname(path);
        for (c, _) in &r.constraints {
            let cpath = normalise(&join_path(&dir, c));
            if let Ok(Some(t)) = self.host.read_text(&cpath) {
                for q in requirements::parse_requirements(&t.text).reqs {
                    if q.pin == Pin::Exact {
                        self.pinned_by_constraint.push(q.name);
                    }
                }
            }
        }
        for q in r.reqs {
            self.reqs.push((path.to_string(), q));
        }
        for (inc, _) in &r.includes {
            let ipath = normalise(&join_path(&dir, inc));
            self.file(&ipath, depth + 1);
        }
    }
}

fn unpinned_evidence(path: &str, q: &Requirement) -> Option<Evidence> {
    let actual = match &q.pin {
        Pin::Exact | Pin::Editable | Pin::Direct { pinned: true } => return None,
        Pin::Range(r) => r.clone(),
        Pin::Direct { pinned: false } => "a direct reference to a moving branch".into(),
    };
    Some(
        Evidence::file(path)
            .line(q.line)
            .snippet(q.text.trim_end())
            .key(&q.name)
            .actual(actual)
            .expected("==VERSION"),
    )
}

fn check(ctx: &Ctx) -> Outcome {
    let d = ctx.fact::<Discovery>();
    let mut bad = Vec::new();
    let mut errors = Vec::new();
    let mut judged_files = 0usize;
    for app in &d.apps {
        let files = requirement_files(ctx, app);
        let txt: Vec<&String> = files
            .iter()
            .filter(|f| f.ends_with(".txt") && !is_dev_file(f))
            .collect();
        let mut w = Walk {
            host: ctx.host,
            reqs: Vec::new(),
            pinned_by_constraint: Vec::new(),
            errors: Vec::new(),
            seen: Vec::new(),
        };
        for f in &txt {
            w.file(f, 0);
        }
        judged_files += w.seen.len();
        errors.extend(w.errors);
        let mut app_bad = Vec::new();
        for (path, q) in &w.reqs {
            if w.pinned_by_constraint.contains(&q.name) {
                continue;
            }
            app_bad.extend(unpinned_evidence(path, q));
        }
        let txt_pinned = !w.reqs.is_empty() && app_bad.is_empty();
        bad.extend(app_bad);
        for f in app
            .requirement_files
            .iter()
            .filter(|f| !f.ends_with(".txt"))
        {
            let dir = dirname(f);
            let locked = ["poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock"]
                .iter()
                .any(|l| ctx.host.exists(&format!("{dir}/{l}")));
            if locked || txt_pinned {
                judged_files += 1;
                continue;
            }
            let text = match ctx.host.read_text(f) {
                Ok(Some(t)) => t.text,
                Ok(None) => continue,
                Err(e) => {
                    errors.push(Evidence::file(f).note(e.to_string()));
                    continue;
                }
            };
            let parsed = if f.ends_with("Pipfile") {
                requirements::parse_pipfile(&text)
            } else {
                requirements::parse_pyproject(&text)
            };
            judged_files += 1;
            match parsed {
                Ok(reqs) => {
                    for q in &reqs {
                        if let Some(ev) = unpinned_evidence(f, q) {
                            bad.push(ev.note("no lock file beside it"));
                        }
                    }
                }
                Err(e) => errors.push(Evidence::file(f).note(format!("not valid TOML: {e}"))),
            }
        }
    }
    if !bad.is_empty() {
        return Outcome::fail(format!(
            "{} application dependencies are not pinned to one version",
            bad.len()
        ))
        .with_all(bad)
        .with_all(errors);
    }
    if !errors.is_empty() {
        return Outcome::error("a dependency file could not be read").with_all(errors);
    }
    if judged_files == 0 {
        return Outcome::not_applicable("no Python dependency file found in the applications");
    }
    Outcome::pass(format!(
        "{judged_files} dependency file(s) pin exact versions"
    ))
}
