//! harden's line edits on arbitrary files: a drop-in line set in any format, a value or a field
//! of any line replaced (a compose environment value too), an intent applied to any content. No
//! panic; setting twice is a no-op; an edited line keeps the other lines byte for byte; a block
//! of lines inserted twice alike (two fixes planning the same compose service) is written once.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_harden::change::{FieldSep, FileState, Intent, LineFormat};
use rempart_harden::edit::{compose_value_span, field, set_field, set_value, ValueStyle};
use rempart_harden::plan::{apply_intent, set_line};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for format in [
        LineFormat::Sshd,
        LineFormat::KeyEquals,
        LineFormat::Systemd,
        LineFormat::Ini,
    ] {
        let once = set_line(&text, format, "mysqld/key", "v1");
        assert_eq!(set_line(&once, format, "mysqld/key", "v1"), once);
    }
    for line in text.lines().take(50) {
        for style in [ValueStyle::RestOfLine, ValueStyle::Postgres, ValueStyle::Option] {
            let _ = set_value(line, style, "'x'");
        }
        // A compose environment value: in bounds, on character boundaries, and replacing it
        // leaves a line that gives the new value back.
        for key in ["K", "POSTGRES_PASSWORD"] {
            if let Some((a, b)) = compose_value_span(line, key) {
                assert!(a <= b && b <= line.len());
                let out = format!("{}${{V}}{}", &line[..a], &line[b..]);
                let (c, d) = compose_value_span(&out, key).expect("an edited line still reads");
                assert_eq!(&out[c..d], "${V}");
            }
        }
        for sep in [FieldSep::Blank, FieldSep::Colon] {
            if let Some(f) = field(line, sep, 1).map(String::from) {
                let out = set_field(line, sep, 1, &f, "new").expect("the field read is settable");
                assert_eq!(field(&out, sep, 1), Some("new"));
                assert_eq!(field(&out, sep, 0), field(line, sep, 0));
            }
        }
    }
    let n = text.lines().count() as u32;
    let first = text.lines().next().unwrap_or("").to_string();
    for intent in [
        Intent::EditLine {
            path: "/x".into(),
            line: 1,
            old: first.clone(),
            new: "edited".into(),
        },
        Intent::SetField {
            path: "/x".into(),
            line: n.max(1),
            sep: FieldSep::Blank,
            index: 2,
            old: "a".into(),
            new: "b".into(),
        },
        Intent::InsertLine {
            path: "/x".into(),
            before: 2,
            text: "inserted".into(),
        },
    ] {
        let mut state = FileState::File {
            content: data.to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        if apply_intent(&mut state, &intent).is_ok() {
            if let Intent::EditLine { .. } = intent {
                let after = state.text();
                assert_eq!(after.lines().skip(1).collect::<Vec<_>>(), text.lines().skip(1).collect::<Vec<_>>());
            }
        }
    }
    for before in [1, n / 2 + 1, u32::MAX] {
        let block = Intent::InsertLine {
            path: "/x".into(),
            before,
            text: "  socket-proxy:\n    image: p:v1".into(),
        };
        let mut state = FileState::File {
            content: data.to_vec(),
            mode: 0o644,
            uid: 0,
            gid: 0,
        };
        if apply_intent(&mut state, &block).is_ok() {
            let once = state.clone();
            apply_intent(&mut state, &block).expect("applied once, applies again");
            assert_eq!(state, once, "a block inserted twice alike is written once");
        }
    }
});
