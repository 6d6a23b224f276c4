//! The intrusion family.
