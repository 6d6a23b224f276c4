//! The app family: the applications discovered on the host (see
//! [`crate::rules::services::discovery`]) judged from their own configuration, read without
//! running it: Django settings ([`django`]), FastAPI apps and session middleware, the secrets in
//! their environment files (permissions, presence, strength) and their dependency pins. The
//! Python reader ([`pyread`]) and the per-app environment ([`env`]) live here; the secret
//! strength rules ([`strength`]) are shared with the containers family.

pub mod django;
pub mod env;
pub mod pyread;
pub mod requirements;
pub mod strength;
pub mod web;

pub mod deps_pinned;
pub mod env_perms;
pub mod env_secrets;
pub mod venv;
