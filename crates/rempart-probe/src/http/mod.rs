//! The probe's HTTP layer: [`url`] parsing, the response [`parse`]r, [`headers`] parsers for the
//! security headers judged, and a one-request-per-connection [`client`] over TCP or openssl.

pub mod client;
pub mod headers;
pub mod parse;
pub mod url;

pub use client::{Connector, FetchError};
pub use parse::Response;
pub use url::{Scheme, Url};
