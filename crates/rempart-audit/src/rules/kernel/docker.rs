//! Whether Docker is installed: Docker turns IP forwarding on for its bridge networks, so the
//! kernel family expects forwarding there. Read from the dpkg database, the systemd units and the
//! daemon binary (a static install has no package).

use crate::facts::packages::DPKG_STATUS;
use crate::facts::{Packages, Units};
use crate::model::Evidence;
use crate::rule::Ctx;

/// Debian packages that ship the Docker daemon.
const PACKAGES: &[&str] = &["docker.io", "docker-ce", "moby-engine", "docker-engine"];
const BINARIES: &[&str] = &["/usr/bin/dockerd", "/usr/local/bin/dockerd"];

/// Evidence that Docker is installed, or `None`.
pub fn docker(ctx: &Ctx) -> Option<Evidence> {
    let pkgs = ctx.fact::<Packages>();
    if let Some(p) = PACKAGES.iter().find(|p| pkgs.is_installed(p)) {
        return Some(
            Evidence::file(DPKG_STATUS)
                .key(*p)
                .actual("installed")
                .note("Docker enables IP forwarding for its bridge networks"),
        );
    }
    let units = ctx.fact::<Units>();
    if let Some(path) = units
        .path("docker.service")
        .filter(|_| units.exists("docker.service"))
    {
        return Some(
            Evidence::file(path)
                .key("docker.service")
                .actual("present")
                .note("Docker enables IP forwarding for its bridge networks"),
        );
    }
    BINARIES.iter().find(|b| ctx.host.exists(b)).map(|b| {
        Evidence::file(*b)
            .key("dockerd")
            .actual("present")
            .note("Docker enables IP forwarding for its bridge networks")
    })
}
