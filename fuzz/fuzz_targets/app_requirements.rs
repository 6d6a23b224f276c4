//! Python dependency files: requirements.txt, pyproject.toml and Pipfile parsers never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::app::requirements;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let r = requirements::parse_requirements(&text);
    for q in &r.reqs {
        assert!(q.line >= 1);
    }
    let _ = requirements::parse_pyproject(&text);
    let _ = requirements::parse_pipfile(&text);
});
