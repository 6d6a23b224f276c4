//! The app family.

pub mod pyread;
