//! Messages a person reads carry no Rust debug formatting: no `Some("…")`, `None`, `["a", "b"]` or
//! `Type { field: … }`. Values from the wire are shown with `evidence::quote` (between backticks,
//! control characters escaped), lists as comma-separated quoted values, enums by `Display`.
//!
//! Two guards: the source of `src/` outside tests has no `{…:?}` format specification, and every
//! text of a report (checked by `fault_injection` for each injected fault, whose findings are the
//! Fail messages) has none of the marks debug formatting leaves.

use std::path::{Path, PathBuf};

use crate::common::root;

/// Files whose messages still use debug formatting and are to be rewritten like the rest. A file
/// leaves the list when it is clean (the test says so).
const NOT_YET_REWRITTEN: &[&str] = &[];

/// Check ids whose messages come from the files of [`NOT_YET_REWRITTEN`]: their findings are not
/// scanned by [`debug_marks`] until those files are rewritten.
const CHECKS_NOT_YET_REWRITTEN: &[&str] = &[];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n != "tests") {
                rust_files(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "rs")
            && p.file_name().is_some_and(|n| n != "tests.rs")
        {
            out.push(p);
        }
    }
}

/// The lines of a source file outside `#[cfg(test)]` items, with their numbers.
fn non_test_lines(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            out.push((n + 1, line));
            continue;
        }
        // Skip the item the attribute applies to: up to its `;`, or its balanced braces.
        let mut depth = 0i64;
        let mut opened = false;
        for (_, l) in lines.by_ref() {
            for c in l.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if (opened && depth <= 0) || (!opened && l.trim_end().ends_with(';')) {
                break;
            }
        }
    }
    out
}

/// The debug format specifications of a line (`{:?}`, `{x:?}`, `{0:#?}`), outside comments.
fn debug_specs(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    let mut found = Vec::new();
    for (at, _) in code.match_indices('}') {
        let head = &code[..at];
        let spec = if let Some(h) = head.strip_suffix(":?") {
            h
        } else if let Some(h) = head.strip_suffix(":#?") {
            h
        } else {
            continue;
        };
        let name_len = spec
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
            .count();
        let before = &spec[..spec.len() - name_len];
        if before.ends_with('{') && !before.ends_with("{{") {
            found.push(code[before.len() - 1..=at].to_string());
        }
    }
    found
}

#[test]
fn debug_specs_are_found() {
    assert_eq!(
        debug_specs(r#"format!("a {x:?} b {:#?}", y)"#),
        ["{x:?}", "{:#?}"]
    );
    assert_eq!(debug_specs(r#"format!("{0:?}")"#), ["{0:?}"]);
    assert!(debug_specs(r#"format!("{{x:?}} {x}")"#).is_empty());
    assert!(debug_specs("// {x:?} in a comment").is_empty());
    let text = "fn a() {\n    f(\"{x:?}\");\n}\n#[cfg(test)]\nmod tests {\n    fn t() {\n        g(\"{y:?}\");\n    }\n}\nfn b() {}\n";
    let kept: Vec<&str> = non_test_lines(text).into_iter().map(|(_, l)| l).collect();
    assert!(kept.iter().any(|l| l.contains("{x:?}")));
    assert!(!kept.iter().any(|l| l.contains("{y:?}")));
    assert!(kept.contains(&"fn b() {}"));
}

#[test]
fn no_debug_formatting_in_the_source() {
    let base = root();
    let mut files = Vec::new();
    rust_files(&base.join("src"), &mut files);
    files.sort();
    assert!(files.len() > 50, "src/ not found under {}", base.display());
    let mut problems = Vec::new();
    let mut clean_listed = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&base)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let mut hits = Vec::new();
        for (n, l) in non_test_lines(&text) {
            for s in debug_specs(l) {
                hits.push(format!("{rel}:{n}: {s}"));
            }
        }
        let listed = NOT_YET_REWRITTEN.contains(&rel.as_str());
        if listed && hits.is_empty() {
            clean_listed.push(rel);
        } else if !listed {
            problems.extend(hits);
        }
    }
    assert!(
        problems.is_empty(),
        "debug formatting in messages (show values with evidence::quote or Display):\n{}",
        problems.join("\n")
    );
    assert!(
        clean_listed.is_empty(),
        "no debug formatting left in {}: remove them from NOT_YET_REWRITTEN",
        clean_listed.join(", ")
    );
}

/// The marks debug formatting leaves in a text: `Some(`, `None`, `Ok(`, `Err(`, a debug list
/// `["a", "b"]` or `[("a", "b")]`, an escaped quote, a struct `Name { field: … }`.
fn marks(text: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for (mark, what) in [
        ("Some(", "Some("),
        ("Ok(", "Ok("),
        ("Err(", "Err("),
        ("[\"", "a debug list"),
        ("\", \"", "a debug list"),
        ("[(\"", "a debug list"),
        ("\\\"", "an escaped quote"),
    ] {
        if text.match_indices(mark).any(|(at, _)| {
            // `Some(`, `Ok(`, `Err(` as words, not the end of another word.
            !mark.ends_with('(')
                || !text[..at]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
        }) && !found.contains(&what)
        {
            found.push(what);
        }
    }
    for (at, _) in text.match_indices("None") {
        let before = text[..at].chars().next_back();
        let after = &text[at + 4..];
        if !before.is_some_and(char::is_alphanumeric)
            && !after.starts_with(char::is_alphanumeric)
            && !after.starts_with(" of")
        {
            found.push("None");
            break;
        }
    }
    for (at, _) in text.match_indices(" { ") {
        let name = text[..at]
            .rsplit(|c: char| !c.is_alphanumeric())
            .next()
            .unwrap_or("");
        let field = text[at + 3..]
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        if name.starts_with(char::is_uppercase)
            && !field.is_empty()
            && text[at + 3 + field.len()..].starts_with(": ")
        {
            found.push("a debug struct");
            break;
        }
    }
    found
}

/// Every text of a results.json scenario that shows debug formatting, as `scenario: check: text`.
pub fn debug_marks(results: &serde_json::Value) -> Vec<String> {
    fn texts<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
        match v {
            serde_json::Value::String(s) => out.push(s),
            serde_json::Value::Array(a) => a.iter().for_each(|x| texts(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| texts(x, out)),
            _ => {}
        }
    }
    let mut problems = Vec::new();
    let empty = Vec::new();
    let scenarios = results["scenarios"].as_array().unwrap_or(&empty);
    for sc in scenarios {
        let name = sc["scenario"].as_str().unwrap_or("");
        let mut scanned: Vec<(&str, &serde_json::Value)> = Vec::new();
        for (k, v) in sc.as_object().into_iter().flatten() {
            if k != "findings" {
                scanned.push(("", v));
            }
        }
        for f in sc["findings"].as_array().unwrap_or(&empty) {
            let check = f["check"].as_str().unwrap_or("");
            if CHECKS_NOT_YET_REWRITTEN
                .iter()
                .any(|p| check.starts_with(p))
            {
                continue;
            }
            scanned.push((check, f));
        }
        for (check, v) in scanned {
            let mut t = Vec::new();
            texts(v, &mut t);
            for text in t {
                let m = marks(text);
                if !m.is_empty() {
                    problems.push(format!("{name}: {check}: {} in {text}", m.join(", ")));
                }
            }
        }
    }
    problems
}

#[test]
fn debug_marks_are_found() {
    assert_eq!(marks("status Some(404)"), ["Some("]);
    assert_eq!(marks("got None"), ["None"]);
    assert!(marks("None of the instances arrived").is_empty());
    assert_eq!(marks(r#"missing ["1.2", "1.3"]"#), ["a debug list"]);
    assert_eq!(
        marks(r#"report has [("urn:oid:1", "A")]"#),
        ["a debug list"]
    );
    assert_eq!(marks(r#"key "a\"b""#), ["an escaped quote"]);
    assert_eq!(marks("Code { value: 1 }"), ["a debug struct"]);
    assert!(marks("title (113030, DCM, \"Manifest\"), `1.2`, `a`; if { x }").is_empty());
    assert!(marks("HasSome(1) Tokens").is_empty());
    let results = serde_json::json!({"scenarios": [{
        "scenario": "s",
        "findings": [
            {"check": "X-01", "actual": "completed Some(2)"},
            {"check": "X-02", "actual": "completed 2"}
        ]
    }]});
    assert_eq!(
        debug_marks(&results),
        ["s: X-01: Some( in completed Some(2)"]
    );
}
