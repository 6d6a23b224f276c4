//! Traefik: every instance found on the host ([`Traefik`], a fact), with its static
//! configuration (a file, or command-line flags), its dynamic configuration (file provider files
//! and Docker labels of compose services) and, when it runs from a compose file, its mounts. A
//! Traefik installed on the host reads `/etc/traefik/traefik.{yml,yaml,toml}` or the unit's
//! `--configFile`; one run by compose reads what its volumes put at those paths inside the
//! container. Queries shared by the WEB-TRAEFIK-* rules: routers, middlewares (chains
//! expanded), entry points. It does not judge anything.

pub mod compose;
pub mod tree;

use crate::model::Evidence;
use crate::rule::{Ctx, Fact, Outcome};
use crate::rules::web::apache::ParseProblem;
use std::collections::BTreeSet;
use std::sync::Arc;
use tree::{Node, Val};

/// Static configuration files Traefik looks for on its own.
pub const STATIC_FILES: &[&str] = &[
    "/etc/traefik/traefik.yml",
    "/etc/traefik/traefik.yaml",
    "/etc/traefik/traefik.toml",
];
/// Where a container image reads its static file when none is named (`/etc/traefik` and the
/// working directory `/`).
const CONTAINER_STATIC: &[&str] = &[
    "/etc/traefik/traefik.yml",
    "/etc/traefik/traefik.yaml",
    "/etc/traefik/traefik.toml",
    "/traefik.yml",
    "/traefik.yaml",
    "/traefik.toml",
];

/// A configuration source: a file, flags or labels, with its text for evidence snippets.
#[derive(Debug, Clone)]
pub struct Doc {
    /// Host path of the file the values were read from.
    pub path: String,
    pub text: Arc<str>,
    pub root: Node,
}

impl Doc {
    /// Evidence pointing at a node of this document.
    pub fn evidence(&self, n: &Node) -> Evidence {
        let mut e = Evidence::file(&self.path);
        if n.line > 0 {
            e = e.line(n.line);
            if let Some(t) = self.text.lines().nth(n.line as usize - 1) {
                e = e.snippet(t.trim());
            }
        }
        e
    }
}

/// One running (or configured) Traefik.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    /// How it was found, for messages.
    pub origin: String,
    /// Static configuration: a file, or flags turned into a tree.
    pub static_doc: Option<Doc>,
    /// Dynamic configuration: file provider files, Docker labels.
    pub dynamic: Vec<Doc>,
    /// The compose file that runs it, if any.
    pub compose: Option<Doc>,
    /// Its volumes when run by compose (container paths are mapped through them).
    pub mounts: Vec<compose::Mount>,
    pub problems: Vec<ParseProblem>,
}

/// A router of the dynamic configuration.
#[derive(Debug, Clone, Copy)]
pub struct Router<'a> {
    pub name: &'a str,
    pub node: &'a Node,
    pub doc: &'a Doc,
}

/// A middleware found by name.
#[derive(Debug, Clone, Copy)]
pub struct Middleware<'a> {
    pub name: &'a str,
    pub node: &'a Node,
    pub doc: &'a Doc,
}

impl Middleware<'_> {
    /// Its type: the first key (`headers`, `basicauth`, `redirectscheme` ...).
    pub fn kind(&self) -> &str {
        self.node.entries().first().map_or("", |(k, _)| k.as_str())
    }
}

/// Strip a `@provider` suffix and lowercase.
pub fn bare_name(r: &str) -> String {
    r.split('@').next().unwrap_or(r).trim().to_ascii_lowercase()
}

impl Instance {
    /// The host path for a path seen by Traefik (identity unless it runs in a container).
    pub fn host_path(&self, p: &str) -> Option<String> {
        if self.compose.is_none() {
            return Some(p.to_string());
        }
        let best = self
            .mounts
            .iter()
            .filter(|m| {
                let t = m.target.trim_end_matches('/');
                p == t || p.starts_with(&format!("{t}/"))
            })
            .max_by_key(|m| m.target.len())?;
        let rest = &p[best.target.trim_end_matches('/').len()..];
        Some(format!("{}{rest}", best.source.trim_end_matches('/')))
    }

    pub fn static_root(&self) -> Option<&Node> {
        self.static_doc.as_ref().map(|d| &d.root)
    }

    /// The API is enabled (`api` present and not `false`).
    pub fn api(&self) -> Option<&Node> {
        let api = self.static_root()?.get("api")?;
        match &api.val {
            Val::Scalar(s) if s.eq_ignore_ascii_case("false") => None,
            _ => Some(api),
        }
    }

    /// Entry points of the static configuration.
    pub fn entrypoints(&self) -> &[(String, Node)] {
        self.static_root()
            .and_then(|r| r.get("entrypoints"))
            .map_or(&[], |n| n.entries())
    }

    pub fn routers(&self) -> Vec<Router<'_>> {
        let mut out = Vec::new();
        for doc in &self.dynamic {
            if let Some(rs) = doc.root.path("http.routers") {
                for (name, node) in rs.entries() {
                    out.push(Router { name, node, doc });
                }
            }
        }
        out
    }

    pub fn middleware(&self, reference: &str) -> Option<Middleware<'_>> {
        let want = bare_name(reference);
        self.dynamic.iter().rev().find_map(|doc| {
            let (name, node) = doc
                .root
                .path("http.middlewares")?
                .entries()
                .iter()
                .find(|(k, _)| *k == want)?;
            Some(Middleware { name, node, doc })
        })
    }

    /// Entry points a router listens on (all of them when it names none).
    pub fn router_entrypoints(&self, r: &Router<'_>) -> Vec<String> {
        let named: Vec<String> = r
            .node
            .get("entrypoints")
            .map(|n| {
                n.list()
                    .into_iter()
                    .map(|(s, _)| s.to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        if !named.is_empty() {
            return named;
        }
        self.entrypoints().iter().map(|(k, _)| k.clone()).collect()
    }

    /// The router terminates TLS: a `tls` section, or one of its entry points carries `http.tls`
    /// (a router on several entry points serves TLS on those).
    pub fn router_tls(&self, r: &Router<'_>) -> bool {
        if let Some(t) = r.node.get("tls") {
            return !matches!(&t.val, Val::Scalar(s) if s.eq_ignore_ascii_case("false"));
        }
        let eps = self.router_entrypoints(r);
        eps.iter().any(|ep| {
            self.entrypoints()
                .iter()
                .any(|(k, n)| k == ep && n.path("http.tls").is_some())
        })
    }

    /// Every middleware applied to a router: its entry points' `http.middlewares`, then its
    /// own, with chains expanded. Names that resolve to nothing are returned in `missing`.
    pub fn router_middlewares(&self, r: &Router<'_>) -> (Vec<Middleware<'_>>, Vec<String>) {
        let mut refs: Vec<String> = Vec::new();
        for ep in self.router_entrypoints(r) {
            if let Some((_, n)) = self.entrypoints().iter().find(|(k, _)| *k == ep) {
                if let Some(m) = n.path("http.middlewares") {
                    refs.extend(m.list().into_iter().map(|(s, _)| s));
                }
            }
        }
        if let Some(m) = r.node.get("middlewares") {
            refs.extend(m.list().into_iter().map(|(s, _)| s));
        }
        let mut out = Vec::new();
        let mut missing = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(name) = refs.pop() {
            if !seen.insert(bare_name(&name)) || seen.len() > 256 {
                continue;
            }
            match self.middleware(&name) {
                Some(m) if m.kind() == "chain" => {
                    if let Some(list) = m.node.path("chain.middlewares") {
                        refs.extend(list.list().into_iter().map(|(s, _)| s));
                    }
                    out.push(m);
                }
                Some(m) => out.push(m),
                None => missing.push(name),
            }
        }
        (out, missing)
    }

    /// Evidence for the place that defines this instance's static configuration.
    pub fn static_evidence(&self, n: Option<&Node>) -> Evidence {
        match (&self.static_doc, n) {
            (Some(d), Some(n)) => d.evidence(n),
            (Some(d), None) => Evidence::file(&d.path),
            (None, _) => Evidence::file(STATIC_FILES[0]),
        }
    }
}

/// The fact: every Traefik instance found.
#[derive(Debug, Clone, Default)]
pub struct Traefik {
    pub instances: Vec<Instance>,
}

impl Traefik {
    /// The instances, or the outcome for a host without Traefik or with a broken configuration.
    pub fn require(&self, what: &str) -> Result<&[Instance], Outcome> {
        if self.instances.is_empty() {
            return Err(Outcome::not_applicable(
                "no Traefik configuration found (/etc/traefik, traefik units, compose files)",
            ));
        }
        for i in &self.instances {
            if let Some(p) = i.problems.first() {
                return Err(p.outcome(what));
            }
        }
        Ok(&self.instances)
    }
}

impl Fact for Traefik {
    fn collect(ctx: &Ctx) -> Traefik {
        let mut host = host_instance(ctx);
        let mut instances = Vec::new();
        for path in compose::find(ctx.host, &ctx.config.app_paths) {
            let mut problems = Vec::new();
            match read_doc(ctx, &path, &mut problems) {
                Some(doc) => {
                    compose_instances(ctx, &doc, &mut instances);
                    // A Traefik on the host with the docker provider reads the labels of
                    // containers started from any compose file.
                    if let Some(h) = host.as_mut() {
                        label_docs(h, &doc);
                    }
                }
                None => {
                    // A compose file that cannot be parsed matters only if it mentions Traefik.
                    let mentions = ctx
                        .host
                        .read_text(&path)
                        .ok()
                        .flatten()
                        .is_some_and(|f| f.text.contains("traefik"));
                    if mentions && !problems.is_empty() {
                        instances.push(Instance {
                            origin: format!("compose file {path}"),
                            problems,
                            ..Instance::default()
                        });
                    }
                }
            }
        }
        if let Some(h) = host {
            instances.insert(0, h);
        }
        Traefik { instances }
    }
}

fn read_doc(ctx: &Ctx, path: &str, problems: &mut Vec<ParseProblem>) -> Option<Doc> {
    let text = match ctx.host.read_text(path) {
        Ok(Some(f)) => f.text,
        Ok(None) => return None,
        Err(e) => {
            problems.push(ParseProblem::from_host(e));
            return None;
        }
    };
    match tree::parse_file(path, &text) {
        Ok(root) => Some(Doc {
            path: path.to_string(),
            text: Arc::from(text),
            root,
        }),
        Err(e) => {
            problems.push(ParseProblem {
                path: path.to_string(),
                line: e.line,
                message: e.message,
            });
            None
        }
    }
}

/// `(key, value, line)` of command-line flags.
type Flags = Vec<(String, String, u32)>;

fn flags_doc(path: &str, text: Arc<str>, flags: &[(String, String, u32)]) -> Doc {
    Doc {
        path: path.to_string(),
        text,
        root: tree::from_dotted(flags.iter().map(|(k, v, l)| (k.as_str(), v.as_str(), *l))),
    }
}

/// Traefik installed on the host: `/etc/traefik/traefik.*`, or a `traefik*.service` unit.
fn host_instance(ctx: &Ctx) -> Option<Instance> {
    let mut inst = Instance::default();
    let units = ctx.fact::<crate::facts::Units>();
    let mut unit_flags: Option<(String, Arc<str>, Flags)> = None;
    for (name, path) in &units.files {
        if !name.starts_with("traefik") || !name.ends_with(".service") {
            continue;
        }
        let Ok(Some(f)) = ctx.host.read_text(path) else {
            continue;
        };
        let mut words = Vec::new();
        for (i, line) in f.text.lines().enumerate() {
            if let Some(cmd) = line.trim().strip_prefix("ExecStart=") {
                let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
                words.extend(compose::split_words(cmd).into_iter().map(|w| (w, n)));
            }
        }
        unit_flags = Some((path.clone(), Arc::from(f.text), compose::flags(&words)));
        break;
    }
    let named = unit_flags.as_ref().and_then(|(_, _, fl)| {
        fl.iter()
            .find(|(k, _, _)| k == "configfile")
            .map(|(_, v, _)| v.clone())
    });
    let files: Vec<String> = match &named {
        Some(p) => vec![p.clone()],
        None => STATIC_FILES.iter().map(|s| s.to_string()).collect(),
    };
    for f in files {
        if let Some(doc) = read_doc(ctx, &f, &mut inst.problems) {
            inst.origin = format!("Traefik on the host ({f})");
            inst.static_doc = Some(doc);
            break;
        }
    }
    if inst.static_doc.is_none() {
        if let Some((path, text, fl)) = &unit_flags {
            if let Some(p) = &named {
                inst.problems.push(ParseProblem {
                    path: path.clone(),
                    line: None,
                    message: format!("--configFile names {p}, which does not exist"),
                });
            }
            inst.origin = format!("Traefik on the host ({path})");
            inst.static_doc = Some(flags_doc(path, text.clone(), fl));
        }
    }
    if inst.static_doc.is_none() && inst.problems.is_empty() {
        return None;
    }
    load_dynamic(ctx, &mut inst);
    Some(inst)
}

/// Traefik services of one compose file.
fn compose_instances(ctx: &Ctx, doc: &Doc, out: &mut Vec<Instance>) {
    let path = doc.path.as_str();
    let (dir, project) = compose::project_of(path, &doc.root);
    let Some(services) = doc.root.get("services") else {
        return;
    };
    for (name, svc) in services.entries() {
        let image = svc.get("image").and_then(Node::str).unwrap_or("");
        // `traefik:v3.2`, `docker.io/library/traefik`, `traefik@sha256:...`.
        let is_traefik = image
            .split('@')
            .next()
            .unwrap_or(image)
            .rsplit('/')
            .next()
            .is_some_and(|i| i.split(':').next() == Some("traefik"));
        if !is_traefik {
            continue;
        }
        let mut inst = Instance {
            origin: format!("compose service `{name}` in {path}"),
            compose: Some(doc.clone()),
            mounts: compose::mounts(&doc.root, svc, &dir, &project),
            ..Instance::default()
        };
        let fl = compose::flags(&compose::command_words(svc));
        let named = fl
            .iter()
            .find(|(k, _, _)| k == "configfile")
            .map(|(_, v, _)| v.clone());
        let candidates: Vec<String> = match &named {
            Some(p) => vec![p.clone()],
            None => CONTAINER_STATIC.iter().map(|s| s.to_string()).collect(),
        };
        for c in candidates {
            if let Some(host_path) = inst.host_path(&c) {
                if inst.mounts.iter().any(|m| host_path.starts_with(&m.source)) {
                    if let Some(d) = read_doc(ctx, &host_path, &mut inst.problems) {
                        inst.static_doc = Some(d);
                        break;
                    }
                }
            }
        }
        if inst.static_doc.is_none() {
            inst.static_doc = Some(flags_doc(path, doc.text.clone(), &fl));
        }
        load_dynamic(ctx, &mut inst);
        // Docker labels of the services of this compose file.
        label_docs(&mut inst, doc);
        out.push(inst);
    }
}

/// Docker labels of the services of a compose file, as dynamic configuration of `inst` when
/// its docker provider is on (services without `traefik.enable=true` are skipped when
/// `exposedByDefault` is false).
fn label_docs(inst: &mut Instance, compose_doc: &Doc) {
    let Some(docker) = inst.static_root().and_then(|r| r.path("providers.docker")) else {
        return;
    };
    let by_default = !docker
        .get("exposedbydefault")
        .and_then(Node::str)
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    let Some(services) = compose_doc.root.get("services") else {
        return;
    };
    let mut docs = Vec::new();
    for (_, s) in services.entries() {
        let labels = compose::traefik_labels(s);
        let enable = labels
            .iter()
            .find(|(k, _, _)| k.eq_ignore_ascii_case("enable"))
            .map(|(_, v, _)| v.eq_ignore_ascii_case("true"));
        if !enable.unwrap_or(by_default) || labels.is_empty() {
            continue;
        }
        docs.push(Doc {
            path: compose_doc.path.clone(),
            text: compose_doc.text.clone(),
            root: tree::from_dotted(labels.iter().map(|(k, v, l)| (k.as_str(), v.as_str(), *l))),
        });
    }
    inst.dynamic.extend(docs);
}

/// Files of the file provider (`providers.file.filename` / `directory`).
fn load_dynamic(ctx: &Ctx, inst: &mut Instance) {
    let Some(file) = inst
        .static_root()
        .and_then(|r| r.path("providers.file"))
        .cloned()
    else {
        return;
    };
    let mut paths = Vec::new();
    if let Some(f) = file.get("filename").and_then(Node::str) {
        if let Some(p) = inst.host_path(f) {
            paths.push(p);
        }
    }
    if let Some(d) = file.get("directory").and_then(Node::str) {
        if let Some(dir) = inst.host_path(d) {
            for ext in ["yml", "yaml", "toml"] {
                if let Ok(found) = ctx
                    .host
                    .glob(&format!("{}/*.{ext}", dir.trim_end_matches('/')))
                {
                    paths.extend(found);
                }
            }
        }
    }
    paths.sort();
    paths.dedup();
    for p in paths.into_iter().take(500) {
        if let Some(doc) = read_doc(ctx, &p, &mut inst.problems) {
            inst.dynamic.push(doc);
        }
    }
}
