//! Python dependency declarations: pip requirements files (`name==1.2`, extras, environment
//! markers, `--hash`, `-r`/`-c` includes, `-e` and direct URL references, backslash
//! continuations, comments), and the dependency lists of `pyproject.toml` (PEP 621
//! `[project].dependencies`, Poetry's `[tool.poetry.dependencies]`) and `Pipfile`. Each
//! requirement says whether it pins one exact version.

/// How a requirement constrains its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// `==1.2.3` or `===1.2.3`: one version.
    Exact,
    /// A range (`>=1.2`, `~=1.2`, `^1.2`, `==1.*`, `*`) or nothing.
    Range(String),
    /// A direct reference (`name @ https://...`, `git+https://...@v1`): pinned when it names a
    /// commit, a tag or a file.
    Direct { pinned: bool },
    /// `-e path`: installed from a local working tree (the project itself, usually).
    Editable,
}

/// One requirement with its line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub name: String,
    pub pin: Pin,
    pub line: u32,
    /// The line as written (first physical line of a continued one).
    pub text: String,
    /// `--hash=` options follow it.
    pub hashed: bool,
}

/// A parsed requirements file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requirements {
    pub reqs: Vec<Requirement>,
    /// Files named by `-r` (requirements) and `-c` (constraints), as written.
    pub includes: Vec<(String, u32)>,
    pub constraints: Vec<(String, u32)>,
}

/// PEP 503 normalisation (`Django_Rest.framework` -> `django-rest-framework`).
pub fn normalise(name: &str) -> String {
    let mut out = String::new();
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Parse a PEP 508 requirement string (`fastapi[all]>=0.110,<1 ; python_version >= "3.9"`).
pub fn parse_spec(spec: &str) -> Option<(String, Pin)> {
    let spec = spec.split(';').next().unwrap_or("").trim();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(spec.len());
    let name = &spec[..end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rest = spec[end..].trim_start();
    if rest.starts_with('[') {
        rest = rest.split_once(']').map_or("", |(_, r)| r).trim_start();
    }
    if let Some(url) = rest.strip_prefix('@') {
        return Some((
            normalise(name),
            Pin::Direct {
                pinned: direct_pinned(url.trim()),
            },
        ));
    }
    let rest = rest.trim_start_matches('(').trim_end_matches(')').trim();
    Some((normalise(name), version_pin(rest)))
}

/// Judge a version specifier list (`==1.2`, `>=1,<2`, empty).
pub fn version_pin(spec: &str) -> Pin {
    let parts: Vec<&str> = spec
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() == 1 {
        let p = parts[0];
        if let Some(v) = p.strip_prefix("===").or_else(|| p.strip_prefix("==")) {
            let v = v.trim();
            if !v.is_empty() && !v.contains('*') {
                return Pin::Exact;
            }
        }
    }
    Pin::Range(if spec.trim().is_empty() {
        "any version".into()
    } else {
        spec.trim().to_string()
    })
}

fn direct_pinned(url: &str) -> bool {
    let url = url.split_whitespace().next().unwrap_or("");
    let path = url.split('#').next().unwrap_or(url);
    if url.contains("#sha256=")
        || path.ends_with(".whl")
        || path.ends_with(".tar.gz")
        || path.ends_with(".zip")
    {
        return true;
    }
    // A VCS reference pins when it names a commit or a tag: `repo.git@<ref>`.
    let after_scheme = path.split_once("://").map_or(path, |(_, r)| r);
    match after_scheme.rsplit_once('@') {
        Some((repo, r)) => {
            repo.contains('/')
                && !r.is_empty()
                && !matches!(r, "main" | "master" | "HEAD" | "develop")
        }
        None => false,
    }
}

/// Parse a pip requirements file.
pub fn parse_requirements(text: &str) -> Requirements {
    let mut out = Requirements::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let first = i;
        let mut logical = String::new();
        loop {
            let raw = lines[i];
            // A comment starts at `#` at the line start or after whitespace.
            let no_comment = match raw.find(" #").or_else(|| raw.find("\t#")) {
                Some(p) => &raw[..p],
                None if raw.trim_start().starts_with('#') => "",
                None => raw,
            };
            let t = no_comment.trim_end();
            i += 1;
            if let Some(cont) = t.strip_suffix('\\') {
                logical.push_str(cont);
                logical.push(' ');
                if i < lines.len() {
                    continue;
                }
            } else {
                logical.push_str(t);
            }
            break;
        }
        let line = logical.trim();
        let line_no = first as u32 + 1;
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let opt_value = |long: &str, short: &str| -> Option<String> {
            let w0 = words[0];
            if w0 == long || w0 == short {
                return words.get(1).map(|s| s.to_string());
            }
            w0.strip_prefix(&format!("{long}="))
                .or_else(|| {
                    if short.is_empty() {
                        None
                    } else {
                        w0.strip_prefix(short)
                    }
                })
                .filter(|v| !v.is_empty())
                .map(String::from)
        };
        if let Some(f) = opt_value("--requirement", "-r") {
            out.includes.push((f, line_no));
            continue;
        }
        if let Some(f) = opt_value("--constraint", "-c") {
            out.constraints.push((f, line_no));
            continue;
        }
        if let Some(target) = opt_value("--editable", "-e") {
            let remote = target.contains("://") || target.starts_with("git+");
            let name = target
                .split("#egg=")
                .nth(1)
                .map(|n| normalise(n.split('&').next().unwrap_or(n)))
                .unwrap_or_else(|| target.clone());
            out.reqs.push(Requirement {
                name,
                pin: if remote {
                    Pin::Direct {
                        pinned: direct_pinned(target.split("#egg=").next().unwrap_or("")),
                    }
                } else {
                    Pin::Editable
                },
                line: line_no,
                text: lines[first].to_string(),
                hashed: false,
            });
            continue;
        }
        if words[0].starts_with('-') {
            // --index-url, --extra-index-url, --find-links, --hash alone, --pre ...
            continue;
        }
        let hashed = words.iter().any(|w| w.starts_with("--hash"));
        let spec: String = words
            .iter()
            .take_while(|w| !w.starts_with("--"))
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        if spec.contains("://") && !spec.contains('@') {
            // A bare URL or path: pip installs that exact archive.
            out.reqs.push(Requirement {
                name: spec.clone(),
                pin: Pin::Direct {
                    pinned: direct_pinned(&spec),
                },
                line: line_no,
                text: lines[first].to_string(),
                hashed,
            });
            continue;
        }
        if let Some((name, pin)) = parse_spec(&spec) {
            out.reqs.push(Requirement {
                name,
                pin,
                line: line_no,
                text: lines[first].to_string(),
                hashed,
            });
        }
    }
    out
}

/// The line (1-based) of the first occurrence of `needle` in `text`.
fn line_of(text: &str, needle: &str) -> u32 {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i as u32 + 1)
}

/// The dependencies declared by a `pyproject.toml`. `Err` when it is not valid TOML.
pub fn parse_pyproject(text: &str) -> Result<Vec<Requirement>, String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let mut out = Vec::new();
    let project_deps = doc
        .get("project")
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_array());
    for d in project_deps.into_iter().flatten() {
        let Some(s) = d.as_str() else { continue };
        if let Some((name, pin)) = parse_spec(s) {
            out.push(Requirement {
                name,
                pin,
                line: line_of(text, s),
                text: text
                    .lines()
                    .nth(line_of(text, s).saturating_sub(1) as usize)
                    .unwrap_or("")
                    .to_string(),
                hashed: false,
            });
        }
    }
    let poetry = doc
        .get("tool")
        .and_then(|t| t.get("poetry"))
        .and_then(|p| p.get("dependencies"))
        .and_then(|d| d.as_table());
    for (name, v) in poetry.into_iter().flatten() {
        if name == "python" {
            continue;
        }
        let pin = poetry_pin(v);
        let needle = format!("{name} ");
        let l = match line_of(text, &needle) {
            0 => line_of(text, name),
            n => n,
        };
        out.push(Requirement {
            name: normalise(name),
            pin,
            line: l,
            text: text
                .lines()
                .nth(l.saturating_sub(1) as usize)
                .unwrap_or("")
                .to_string(),
            hashed: false,
        });
    }
    Ok(out)
}

/// A Poetry or Pipfile version constraint: `"1.2.3"` is exact in Poetry, `"==1.2.3"` in Pipfile.
fn poetry_pin(v: &toml::Value) -> Pin {
    let version = match v {
        toml::Value::String(s) => Some(s.as_str()),
        toml::Value::Table(t) => {
            if t.contains_key("git") || t.contains_key("url") || t.contains_key("path") {
                let pinned = t.contains_key("rev") || t.contains_key("tag");
                return Pin::Direct { pinned };
            }
            t.get("version").and_then(|v| v.as_str())
        }
        _ => None,
    };
    match version {
        Some(s) => {
            let s = s.trim();
            let bare_exact = !s.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_digit())
                && !s.contains(['*', ',', '<', '>', '^', '~', ' ']);
            if bare_exact {
                Pin::Exact
            } else {
                version_pin(s)
            }
        }
        None => Pin::Range("any version".into()),
    }
}

/// The packages of a `Pipfile` (`[packages]`, not `[dev-packages]`).
pub fn parse_pipfile(text: &str) -> Result<Vec<Requirement>, String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let mut out = Vec::new();
    let pkgs = doc.get("packages").and_then(|d| d.as_table());
    for (name, v) in pkgs.into_iter().flatten() {
        let pin = match v {
            toml::Value::String(s) if s.trim() == "*" => Pin::Range("*".into()),
            toml::Value::String(s) => version_pin(s),
            other => poetry_pin(other),
        };
        let l = line_of(text, name);
        out.push(Requirement {
            name: normalise(name),
            pin,
            line: l,
            text: text
                .lines()
                .nth(l.saturating_sub(1) as usize)
                .unwrap_or("")
                .to_string(),
            hashed: false,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn pip_freeze_output_is_pinned() {
        let r = parse_requirements(
            "# generated by pip freeze\nfastapi==0.115.6\nuvicorn[standard]==0.34.0 ; python_version >= \"3.9\"\nSQLAlchemy==2.0.36  # ORM\n",
        );
        assert_eq!(r.reqs.len(), 3);
        assert!(r.reqs.iter().all(|q| q.pin == Pin::Exact));
        assert_eq!(r.reqs[2].name, "sqlalchemy");
        assert_eq!(r.reqs[2].line, 4);
    }

    #[test]
    fn ranges_includes_hashes_and_references() {
        let text = "-r base.txt\n--constraint constraints.txt\n--extra-index-url https://pypi.example/simple\nDjango>=4.2,<5\nrequests\ngunicorn ~= 21.2\nmysqlclient==2.*\npsycopg2-binary==2.9.10 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\nwhitenoise==6.6.0\n-e git+https://github.com/org/lib.git@v1.4.0#egg=lib\n-e .\nmylib @ git+https://github.com/org/mylib.git\ntool @ https://files.example/tool-1.0-py3-none-any.whl\n";
        let r = parse_requirements(text);
        assert_eq!(r.includes, [("base.txt".to_string(), 1)]);
        assert_eq!(r.constraints, [("constraints.txt".to_string(), 2)]);
        let pins: Vec<(&str, &Pin, u32)> = r
            .reqs
            .iter()
            .map(|q| (q.name.as_str(), &q.pin, q.line))
            .collect();
        assert_eq!(pins[0], ("django", &Pin::Range(">=4.2,<5".into()), 4));
        assert_eq!(pins[1], ("requests", &Pin::Range("any version".into()), 5));
        assert_eq!(pins[2].1, &Pin::Range("~= 21.2".into()));
        assert_eq!(pins[3].1, &Pin::Range("==2.*".into()));
        assert_eq!(pins[4], ("psycopg2-binary", &Pin::Exact, 8));
        assert!(r.reqs[4].hashed);
        assert_eq!(pins[5], ("whitenoise", &Pin::Exact, 11));
        assert_eq!(pins[6].1, &Pin::Direct { pinned: true });
        assert_eq!(pins[6].0, "lib");
        assert_eq!(pins[7].1, &Pin::Editable);
        assert_eq!(pins[8].1, &Pin::Direct { pinned: false });
        assert_eq!(pins[9].1, &Pin::Direct { pinned: true });
    }

    #[test]
    fn pyproject_and_pipfile() {
        let text = "[project]\nname = \"backend\"\ndependencies = [\n  \"fastapi>=0.110\",\n  \"uvicorn==0.34.0\",\n]\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nhttpx = \"^0.27\"\norjson = \"3.10.7\"\nlib = { git = \"https://g/x.git\", rev = \"abc123\" }\n";
        let r = parse_pyproject(text).unwrap();
        let pins: Vec<(&str, &Pin, u32)> = r
            .iter()
            .map(|q| (q.name.as_str(), &q.pin, q.line))
            .collect();
        assert_eq!(pins[0], ("fastapi", &Pin::Range(">=0.110".into()), 4));
        assert_eq!(pins[1], ("uvicorn", &Pin::Exact, 5));
        assert_eq!(pins[2], ("httpx", &Pin::Range("^0.27".into()), 10));
        assert_eq!(pins[3], ("lib", &Pin::Direct { pinned: true }, 12));
        assert_eq!(pins[4], ("orjson", &Pin::Exact, 11));
        assert!(parse_pyproject("[project\n").is_err());
        let p = parse_pipfile("[packages]\ndjango = \"*\"\nrequests = \"==2.32.3\"\n\n[dev-packages]\npytest = \"*\"\n").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].pin, Pin::Range("*".into()));
        assert_eq!(p[1].pin, Pin::Exact);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in "\\PC{0,400}") {
            let _ = parse_requirements(&s);
            let _ = parse_pyproject(&s);
            let _ = parse_pipfile(&s);
            let _ = parse_spec(&s);
        }

        /// `name==version` lines read back pinned, named and on their line.
        #[test]
        fn exact_pins_round_trip(
            reqs in proptest::collection::vec(("[A-Za-z][A-Za-z0-9_.-]{0,15}", "[0-9]{1,3}(\\.[0-9]{1,3}){0,2}"), 1..10),
            comments in proptest::collection::vec(any::<bool>(), 10),
        ) {
            let mut text = String::new();
            let mut want = Vec::new();
            for (i, (n, v)) in reqs.iter().enumerate() {
                if comments[i] {
                    text.push_str("# a comment\n");
                }
                text.push_str(&format!("{n}=={v}\n"));
                want.push((normalise(n), text.lines().count() as u32));
            }
            let r = parse_requirements(&text);
            let got: Vec<(String, u32)> = r.reqs.iter().map(|q| (q.name.clone(), q.line)).collect();
            prop_assert_eq!(got, want);
            prop_assert!(r.reqs.iter().all(|q| q.pin == Pin::Exact));
        }
    }
}
