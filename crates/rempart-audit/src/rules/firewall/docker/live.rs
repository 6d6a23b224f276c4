//! Reading Docker's chains from the running kernel: `nft -j list ruleset` through the nftables
//! crate (iptables-nft rules, Debian's default backend, appear there; when they hold `xt`
//! expressions, whose conditions the JSON hides, `iptables-nft-save` is read instead), and
//! `iptables-legacy-save` / `ip6tables-legacy-save` when `/proc/net/ip_tables_names` shows
//! legacy tables are loaded. These are the audit's only process spawns besides the firewall
//! family's own `nft` call, and only on the live host. In a root tree standing for a running system (tests), the outputs are
//! read from files under [`SIMULATED_DIR`] instead.

use super::chains::{from_iptables_save, from_nft_json, DockerChains};
use crate::rule::{Ctx, Fact};
use std::path::Path;

/// Recorded outputs in a simulated live tree: `nft-list-ruleset.json` (shared with the
/// firewall family's live rule), `iptables-nft-save.txt`, `iptables-legacy-save.txt`,
/// `ip6tables-...` likewise.
pub const SIMULATED_DIR: &str = "/run/rempart-test";

/// Docker's chains in the kernel, with the sources read.
#[derive(Debug, Clone, Default)]
pub struct LiveDocker {
    pub chains: DockerChains,
    /// `nftables`, `iptables-legacy` ...: what was read.
    pub sources: Vec<&'static str>,
    /// Sources that could not be read.
    pub errors: Vec<String>,
}

fn legacy_loaded(ctx: &Ctx, names: &str) -> bool {
    ctx.host
        .read_text(names)
        .ok()
        .flatten()
        .is_some_and(|f| f.text.lines().any(|l| !l.trim().is_empty()))
}

fn run(program: &str) -> Result<String, String> {
    let out = std::process::Command::new(program)
        .output()
        .map_err(|e| format!("unable to execute {program}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{program} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

impl Fact for LiveDocker {
    fn collect(ctx: &Ctx) -> LiveDocker {
        let mut out = LiveDocker::default();
        if !ctx.host.is_live() {
            return out;
        }
        let real = ctx.host.root() == Path::new("/");
        let read_sim = |name: &str| -> Option<Result<String, String>> {
            match ctx.host.read_text(&format!("{SIMULATED_DIR}/{name}")) {
                Ok(Some(f)) => Some(Ok(f.text)),
                Ok(None) => None,
                Err(e) => Some(Err(e.to_string())),
            }
        };
        let nft = if real {
            Some(
                nftables::helper::get_current_ruleset_raw(
                    None::<&str>,
                    nftables::helper::DEFAULT_ARGS,
                )
                .map_err(|e| match e {
                    nftables::helper::NftablesError::NftFailed { stderr, .. } => {
                        format!("nft -j list ruleset failed: {}", stderr.trim())
                    }
                    other => other.to_string(),
                }),
            )
        } else {
            read_sim("nft-list-ruleset.json")
        };
        match nft {
            Some(Ok(json)) => match from_nft_json(&json) {
                // Rules written by iptables-nft hold `xt` expressions whose conditions the JSON
                // does not show (`-m conntrack --ctorigdstport 5432`): iptables-nft-save prints
                // them whole, so it is read instead when it can be.
                Ok(c) if c.present && json.contains("\"xt\"") => {
                    let mut via_save = DockerChains::default();
                    let mut read = Vec::new();
                    for (tool, file) in [
                        ("iptables-nft-save", "iptables-nft-save.txt"),
                        ("ip6tables-nft-save", "ip6tables-nft-save.txt"),
                    ] {
                        let text = if real {
                            Some(run(tool))
                        } else {
                            read_sim(file)
                        };
                        if let Some(Ok(t)) = text {
                            via_save.merge(from_iptables_save(&t, tool));
                            read.push(tool);
                        }
                    }
                    if via_save.present {
                        out.chains.merge(via_save);
                        out.sources.extend(read);
                    } else {
                        out.chains.merge(c);
                        out.sources.push("nftables");
                    }
                }
                Ok(c) => {
                    out.chains.merge(c);
                    out.sources.push("nftables");
                }
                Err(e) => out.errors.push(e),
            },
            Some(Err(e)) => out.errors.push(e),
            None => {}
        }
        for (names, tool, file) in [
            (
                "/proc/net/ip_tables_names",
                "iptables-legacy-save",
                "iptables-legacy-save.txt",
            ),
            (
                "/proc/net/ip6_tables_names",
                "ip6tables-legacy-save",
                "ip6tables-legacy-save.txt",
            ),
        ] {
            if !legacy_loaded(ctx, names) {
                continue;
            }
            let text = if real {
                Some(run(tool))
            } else {
                read_sim(file)
            };
            match text {
                Some(Ok(t)) => {
                    out.chains.merge(from_iptables_save(&t, tool));
                    out.sources.push(tool);
                }
                Some(Err(e)) => out.errors.push(e),
                None => out.errors.push(format!(
                    "{names} lists legacy tables but {tool} output is missing"
                )),
            }
        }
        out
    }
}
