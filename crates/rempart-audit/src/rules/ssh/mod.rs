//! The ssh family.
