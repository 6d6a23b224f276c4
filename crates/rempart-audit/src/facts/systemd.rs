//! systemd units of the host, from its unit directories: where each unit file is, which units are
//! enabled (linked from a `*.wants/` or `*.requires/` directory) and which are masked. Unit file
//! contents are parsed by the families that judge them.

use crate::rule::{Ctx, Fact};
use std::collections::{BTreeMap, BTreeSet};

/// Unit directories in systemd's precedence order (the first holding a name wins).
pub const UNIT_DIRS: &[&str] = &[
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/local/lib/systemd/system",
    "/lib/systemd/system",
    "/usr/lib/systemd/system",
];

/// What the host's systemd would load.
#[derive(Debug, Clone, Default)]
pub struct Units {
    /// Unit name -> host path of the unit file that wins.
    pub files: BTreeMap<String, String>,
    /// Units linked from a `*.wants/` or `*.requires/` directory of `/etc/systemd/system`
    /// (enabled by the admin) or of the vendor directories (enabled statically).
    pub enabled: BTreeSet<String>,
    /// Units linked to `/dev/null` in `/etc/systemd/system` or `/run/systemd/system`.
    pub masked: BTreeSet<String>,
}

impl Units {
    /// The unit is installed (a unit file exists) and not masked.
    pub fn exists(&self, name: &str) -> bool {
        self.files.contains_key(name) && !self.masked.contains(name)
    }

    /// The unit is enabled and not masked.
    pub fn is_enabled(&self, name: &str) -> bool {
        self.enabled.contains(name) && !self.masked.contains(name)
    }

    pub fn path(&self, name: &str) -> Option<&str> {
        self.files.get(name).map(String::as_str)
    }
}

impl Fact for Units {
    fn collect(ctx: &Ctx) -> Units {
        let host = ctx.host;
        let mut units = Units::default();
        for dir in UNIT_DIRS {
            let Ok(Some(names)) = host.read_dir(dir) else {
                continue;
            };
            for name in names {
                let path = format!("{dir}/{name}");
                let is_wants = name.ends_with(".wants") || name.ends_with(".requires");
                if is_wants {
                    if let Ok(Some(links)) = host.read_dir(&path) {
                        units.enabled.extend(links);
                    }
                    continue;
                }
                if !is_unit_name(&name) {
                    continue;
                }
                if let Ok(Some(target)) = host.read_link(&path) {
                    if target == "/dev/null" {
                        if dir.starts_with("/etc") || dir.starts_with("/run") {
                            units.masked.insert(name.clone());
                        }
                        continue;
                    }
                }
                units.files.entry(name).or_insert(path);
            }
        }
        units
    }
}

fn is_unit_name(name: &str) -> bool {
    [
        ".service", ".socket", ".timer", ".target", ".mount", ".path",
    ]
    .iter()
    .any(|s| name.ends_with(s))
}
