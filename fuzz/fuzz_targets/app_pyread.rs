//! The Python configuration reader: lexing, statements, expressions and evaluation of every
//! assignment must never panic, whatever the module text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::app::pyread::{self, EnvHit, EnvRead, Eval, Scope, StmtKind, Val};
use std::collections::HashMap;

struct S(HashMap<String, (Val, Vec<EnvRead>)>);

impl Scope for S {
    fn name(&self, n: &str) -> Option<(Val, Vec<EnvRead>)> {
        self.0.get(n).cloned()
    }
    fn env(&self, var: &str) -> Option<EnvHit> {
        (var.len() % 2 == 0).then(|| EnvHit {
            value: var.to_lowercase(),
            path: "/opt/app/.env".into(),
            line: 1,
            text: String::new(),
        })
    }
    fn file(&self) -> &str {
        "/opt/app/proj/settings.py"
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(m) = pyread::read(&text) else { return };
    let mut scope = S(HashMap::new());
    for s in &m.stmts {
        if let StmtKind::Assign { targets, value } = &s.kind {
            let mut ev = Eval::new(&scope);
            let v = ev.eval(value);
            let reads = ev.reads;
            for t in targets {
                if let Some(n) = t.dotted() {
                    scope.0.insert(n, (v.clone(), reads.clone()));
                }
            }
        }
    }
    let _ = pyread::find_calls(&m, "FastAPI");
    let _ = pyread::env_names(&m);
});
