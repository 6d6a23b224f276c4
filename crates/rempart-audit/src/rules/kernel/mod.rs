//! The kernel family.
