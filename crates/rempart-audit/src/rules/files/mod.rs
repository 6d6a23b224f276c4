//! The files family.
