//! The accounts family.
