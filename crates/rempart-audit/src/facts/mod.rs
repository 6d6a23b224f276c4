//! Facts shared by several families: installed packages (dpkg) and systemd units. A family's own
//! configuration format is parsed in its folder under `rules/`, not here.

pub mod apps;
pub mod packages;
pub mod systemd;

pub use packages::Packages;
pub use systemd::Units;

use crate::host::Users;
use crate::rule::{Ctx, Fact};

/// The host's own account databases, read once per run.
impl Fact for Users {
    fn collect(ctx: &Ctx) -> Users {
        Users::load(ctx.host)
    }
}
