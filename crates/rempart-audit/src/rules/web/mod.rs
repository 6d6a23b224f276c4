//! The web family: Apache httpd, nginx and Traefik as front ends, and the certificates they
//! serve. Each server's configuration is parsed once per run in its own module (a fact); the
//! rules, one file each, judge what those facts say. [`servers::WebServers`] exposes what the
//! configurations name (applications, certificates) to other families.
//!
//! Not here: probing live TLS endpoints (testssl-style), WAF rule quality, application code.

pub mod apache;
pub mod cert;
pub mod headers;
pub mod include;
pub mod nginx;
pub mod servers;
pub mod tls;
pub mod traefik;

pub mod apache_body_limit;
pub mod apache_headers;
pub mod apache_modules;
pub mod apache_tls;
pub mod apache_tokens;
pub mod apache_trace;
pub mod apache_waf;
pub mod cert_expiry;
pub mod cert_key_perms;
pub mod cert_renewal;
pub mod http_redirect;
pub mod nginx_body_limit;
pub mod nginx_headers;
pub mod nginx_tls;
pub mod nginx_tokens;
pub mod traefik_api;
pub mod traefik_dashboard;
pub mod traefik_docker_socket;
pub mod traefik_headers;
pub mod traefik_rate_limit;
pub mod traefik_redirect;
pub mod traefik_tls;

pub use servers::WebServers;
