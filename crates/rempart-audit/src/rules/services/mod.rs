//! The services family: the systemd units that run the host's applications, judged the way seed
//! 000 §2 sets them up (a dedicated non-root account without a shell, systemd sandboxing,
//! listening on 127.0.0.1 behind the reverse proxy, no development server in production). Also
//! owns application discovery ([`discovery::Discovery`]), which the app-level families share.

pub mod appserver;
pub mod discovery;
pub mod live;
pub mod unit;

pub mod account_shell;
pub mod bind_all;
pub mod config_drift;
pub mod dev_mode;
pub mod listen_public;
pub mod root_process;
pub mod runs_as_root;
pub mod sandboxing;

use crate::rule::{Ctx, Outcome};
use discovery::{AppUnit, Discovery};
use std::sync::Arc;

/// The units that run applications (not container engines, not one-shot admin jobs): the ones
/// these rules judge. `Err` is the not-applicable outcome when there are none.
pub fn app_units(ctx: &Ctx) -> Result<(Arc<Discovery>, Vec<usize>), Outcome> {
    let d = ctx.fact::<Discovery>();
    let idx: Vec<usize> = d
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| is_app(u))
        .map(|(i, _)| i)
        .collect();
    if idx.is_empty() {
        return Err(Outcome::not_applicable(
            "no application unit found (no systemd unit runs an app server or an app directory)",
        ));
    }
    Ok((d, idx))
}

pub(crate) fn is_app(u: &AppUnit) -> bool {
    use appserver::ServerKind;
    match &u.server {
        Some(s) => s.kind != ServerKind::DockerCompose,
        None => {
            let oneshot = u
                .unit
                .get("Service", "Type")
                .is_some_and(|t| t.value == "oneshot");
            !oneshot
                && u.working_dir.as_deref().is_some_and(|w| {
                    ["/opt/", "/srv/", "/home/", "/var/www/"]
                        .iter()
                        .any(|p| w.starts_with(p))
                })
        }
    }
}
