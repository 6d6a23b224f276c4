//! The parts of docker compose files the Traefik rules need: where compose files usually live,
//! the services that run the Traefik image, their command-line flags, volumes (bind mounts and
//! named volumes mapped to host paths) and Docker labels. Other compose matters (privileged
//! containers, published ports ...) belong to the containers family.

use super::tree::{self, Node, Val};
use crate::host::Host;

/// Directories searched for compose files (globs), besides the configured application paths.
pub const COMPOSE_DIRS: &[&str] = &[
    "/etc/traefik",
    "/opt/*",
    "/opt/*/*",
    "/srv/*",
    "/srv/*/*",
    "/root",
    "/root/*",
    "/home/*",
    "/home/*/*",
    "/etc/docker/compose/*",
];
pub const COMPOSE_NAMES: &[&str] = &[
    "docker-compose.yml",
    "docker-compose.yaml",
    "compose.yml",
    "compose.yaml",
];
/// At most this many compose files are read.
const MAX_COMPOSE_FILES: usize = 200;

/// Compose files present on the host, sorted and deduplicated.
pub fn find(host: &Host, extra_dirs: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let dirs = COMPOSE_DIRS
        .iter()
        .map(|d| d.to_string())
        .chain(extra_dirs.iter().cloned());
    for dir in dirs {
        for name in COMPOSE_NAMES {
            if let Ok(found) = host.glob(&format!("{}/{name}", dir.trim_end_matches('/'))) {
                out.extend(found);
            }
        }
    }
    out.sort();
    out.dedup();
    out.truncate(MAX_COMPOSE_FILES);
    out
}

/// A volume of a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// Host path (bind mounts resolved against the compose file's directory; named volumes as
    /// `/var/lib/docker/volumes/<project>_<name>/_data`).
    pub source: String,
    pub target: String,
    pub read_only: bool,
    pub line: u32,
}

/// The directory and project name of a compose file.
pub fn project_of(path: &str, root: &Node) -> (String, String) {
    let dir = path
        .rsplit_once('/')
        .map_or("/", |(d, _)| if d.is_empty() { "/" } else { d });
    let project = root
        .get("name")
        .and_then(Node::str)
        .map(str::to_string)
        .unwrap_or_else(|| dir.rsplit('/').next().unwrap_or("").to_ascii_lowercase());
    (dir.to_string(), project)
}

fn normalise(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The volumes of a service.
pub fn mounts(root: &Node, service: &Node, dir: &str, project: &str) -> Vec<Mount> {
    let source_path = |src: &str| -> String {
        if src.starts_with('/') {
            normalise(src)
        } else if src.starts_with('.') {
            normalise(&format!("{dir}/{src}"))
        } else if src.starts_with('~') {
            src.to_string()
        } else {
            let external = root
                .path(&format!("volumes.{src}.name"))
                .and_then(Node::str)
                .map(str::to_string);
            let vol = external.unwrap_or_else(|| format!("{project}_{src}"));
            format!("/var/lib/docker/volumes/{vol}/_data")
        }
    };
    let mut out = Vec::new();
    let Some(vols) = service.get("volumes") else {
        return out;
    };
    for v in vols.items() {
        match &v.val {
            Val::Scalar(s) => {
                let parts: Vec<&str> = s.split(':').collect();
                let (src, target, mode) = match parts.as_slice() {
                    [t] => (None, *t, ""),
                    [s, t] => (Some(*s), *t, ""),
                    [s, t, m, ..] => (Some(*s), *t, *m),
                    [] => continue,
                };
                let Some(src) = src else { continue };
                out.push(Mount {
                    source: source_path(src),
                    target: target.to_string(),
                    read_only: mode.split(',').any(|m| m == "ro"),
                    line: v.line,
                });
            }
            Val::Map(_) => {
                let (Some(src), Some(target)) = (
                    v.get("source").and_then(Node::str),
                    v.get("target").and_then(Node::str),
                ) else {
                    continue;
                };
                out.push(Mount {
                    source: source_path(src),
                    target: target.to_string(),
                    read_only: v.get("read_only").is_some_and(Node::truthy),
                    line: v.line,
                });
            }
            _ => {}
        }
    }
    out
}

/// Words of a service's `command:` (a list, or a string split on blanks with simple quoting).
pub fn command_words(service: &Node) -> Vec<(String, u32)> {
    let Some(cmd) = service.get("command") else {
        return Vec::new();
    };
    match &cmd.val {
        Val::Scalar(s) => split_words(s).into_iter().map(|w| (w, cmd.line)).collect(),
        Val::Seq(items) => items
            .iter()
            .filter_map(|n| Some((n.str()?.to_string(), n.line)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Blank-separated words, with `"..."` and `'...'` grouping (as a shell would for flags).
pub fn split_words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in s.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `traefik.*` labels of a service (list or map form), without the prefix, with their lines.
pub fn traefik_labels(service: &Node) -> Vec<(String, String, u32)> {
    let Some(labels) = service.get("labels") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut push = |k: &str, v: &str, line: u32| {
        let k = k.trim();
        if let Some(rest) = k
            .strip_prefix("traefik.")
            .or_else(|| k.strip_prefix("Traefik."))
        {
            out.push((rest.to_string(), v.trim().to_string(), line));
        }
    };
    match &labels.val {
        Val::Seq(items) => {
            for n in items {
                if let Some((k, v)) = n.str().and_then(|s| s.split_once('=')) {
                    push(k, v, n.line);
                }
            }
        }
        // Map keys were lowercased by the tree; labels are case-insensitive for Traefik.
        Val::Map(m) => {
            for (k, n) in m {
                if let Some(v) = n.str() {
                    push(k, v, n.line);
                }
            }
        }
        _ => {}
    }
    out
}

/// Flags (`--a.b=c`, `--a.b c`, `--flag`) as `(a.b, c, line)`; other words ignored.
pub fn flags(words: &[(String, u32)]) -> Vec<(String, String, u32)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let (w, line) = &words[i];
        i += 1;
        let Some(flag) = w.strip_prefix("--").or_else(|| w.strip_prefix('-')) else {
            continue;
        };
        if let Some((k, v)) = flag.split_once('=') {
            out.push((k.to_ascii_lowercase(), v.to_string(), *line));
        } else if words.get(i).is_some_and(|(n, _)| !n.starts_with('-')) {
            out.push((flag.to_ascii_lowercase(), words[i].0.clone(), *line));
            i += 1;
        } else {
            out.push((flag.to_ascii_lowercase(), "true".into(), *line));
        }
    }
    out
}

/// Parse a compose file's text.
pub fn parse(text: &str) -> Result<Node, tree::TreeError> {
    tree::from_yaml(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_flags_labels() {
        let text = "name: edge\nservices:\n  traefik:\n    image: traefik:v3.1\n    command:\n      - --api.insecure=true\n      - --providers.docker\n    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro\n      - ./traefik.yml:/etc/traefik/traefik.yml\n      - letsencrypt:/letsencrypt\n    labels:\n      - traefik.http.routers.dash.service=api@internal\nvolumes:\n  letsencrypt: {}\n";
        let root = parse(text).unwrap();
        let svc = root.path("services.traefik").unwrap();
        let (dir, project) = project_of("/opt/edge/compose.yml", &root);
        assert_eq!((dir.as_str(), project.as_str()), ("/opt/edge", "edge"));
        let m = mounts(&root, svc, &dir, &project);
        assert!(m[0].read_only && m[0].source == "/var/run/docker.sock" && m[0].line == 9);
        assert_eq!(m[1].source, "/opt/edge/traefik.yml");
        assert_eq!(
            m[2].source,
            "/var/lib/docker/volumes/edge_letsencrypt/_data"
        );
        let f = flags(&command_words(svc));
        assert_eq!(f[0], ("api.insecure".into(), "true".into(), 6));
        assert_eq!(f[1].1, "true");
        let l = traefik_labels(svc);
        assert_eq!(l[0].0, "http.routers.dash.service");
        assert_eq!(l[0].2, 13);
    }

    #[test]
    fn words_and_relative_paths() {
        assert_eq!(
            split_words("traefik --a=1 \"--b=x y\""),
            ["traefik", "--a=1", "--b=x y"]
        );
        assert_eq!(normalise("/opt/app/../x/./y"), "/opt/x/y");
    }
}
