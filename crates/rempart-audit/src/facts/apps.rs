//! The vocabulary shared by application discovery (`Discovery`, in the services family) and the
//! families whose configurations name applications (web servers, compose files): a reference to
//! an application found in some configuration file.

/// What kind of reference a configuration makes to an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AppRefKind {
    /// A WSGI script (Apache `WSGIScriptAlias / /srv/app/app/wsgi.py`): its directory tree is an app.
    WsgiScript,
    /// A Python path given to the server (`WSGIDaemonProcess ... python-path=/srv/app`).
    PythonPath,
    /// A backend the server proxies to (`ProxyPass / http://127.0.0.1:8000/`, nginx `proxy_pass`,
    /// a Traefik service URL).
    ProxyTarget,
    /// A uWSGI backend (`uwsgi_pass unix:/run/app.sock`).
    UwsgiTarget,
    /// A docker compose file.
    ComposeFile,
    /// A unit's `WorkingDirectory=`.
    WorkingDirectory,
    /// A unit's `EnvironmentFile=`.
    EnvironmentFile,
    /// A document root served directly.
    DocumentRoot,
}

/// One reference, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRef {
    pub kind: AppRefKind,
    /// The path, URL or address as written (paths are host paths).
    pub value: String,
    /// Host path of the configuration file holding the reference.
    pub source: String,
    pub line: Option<u32>,
}
