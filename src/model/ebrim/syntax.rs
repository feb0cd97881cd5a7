//! The syntax of XDS metadata values: OID, CX, DTM, and the quoted values and `('…')` lists of
//! stored query parameters (ITI TF-2 3.18.4.1.2.3).

/// OID syntax (ISO/IEC 8824): arcs of digits, no leading zeros, first arc 0-2, at least two arcs,
/// at most 64 characters (DICOM UID limit; XDS allows 64 for OIDs too).
pub fn is_oid(s: &str) -> bool {
    if s.is_empty() || s.len() > 64 {
        return false;
    }
    let arcs: Vec<&str> = s.split('.').collect();
    if arcs.len() < 2 {
        return false;
    }
    if !matches!(arcs.first(), Some(&("0" | "1" | "2"))) {
        return false;
    }
    arcs.iter().all(|a| {
        !a.is_empty()
            && a.bytes().all(|b| b.is_ascii_digit())
            && (a.len() == 1 || !a.starts_with('0'))
    })
}

/// DICOM UID syntax (PS3.5 §9.1): OID form, at most 64 characters.
pub fn is_uid(s: &str) -> bool {
    is_oid(s)
}

/// CX as XDS uses it (ITI TF-3 4.2.3.1.7): `id^^^&OID&ISO`, nothing else.
pub fn is_xds_cx(s: &str) -> bool {
    let comps: Vec<&str> = s.split('^').collect();
    let [id, c2, c3, c4] = comps[..] else {
        return false;
    };
    if id.is_empty() || !c2.is_empty() || !c3.is_empty() {
        return false;
    }
    let sub: Vec<&str> = c4.split('&').collect();
    matches!(sub[..], [ns, oid, "ISO"] if ns.is_empty() && is_oid(oid))
}

/// CX with an id and an assigning authority (CX.1 and CX.4 non-empty), the looser form
/// sourcePatientId takes: the source's own assigning authority need not be an ISO OID.
pub fn is_cx_with_authority(s: &str) -> bool {
    let comps: Vec<&str> = s.split('^').collect();
    matches!(comps.first(), Some(id) if !id.is_empty())
        && comps
            .get(3)
            .is_some_and(|aa| aa.split('&').any(|x| !x.is_empty()))
}

/// DTM (ITI TF-3 4.2.3.1.7): `YYYY[MM[DD[hh[mm[ss]]]]]`, digits only, valid field ranges.
pub fn is_dtm(s: &str) -> bool {
    if !matches!(s.len(), 4 | 6 | 8 | 10 | 12 | 14) || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let field = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let ok = |r: std::ops::Range<usize>, lo: u32, hi: u32| match field(r.clone()) {
        Some(v) => (lo..=hi).contains(&v),
        None => s.len() < r.end,
    };
    ok(4..6, 1, 12) && ok(6..8, 1, 31) && ok(8..10, 0, 23) && ok(10..12, 0, 59) && ok(12..14, 0, 60)
}

/// The value of a quoted stored query value (`'a''b'` is `a'b`), `None` when it is not one.
pub fn strip_quotes(v: &str) -> Option<String> {
    let inner = v.strip_prefix('\'')?.strip_suffix('\'')?;
    // A single quote inside a value is escaped by doubling it.
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\'' {
            if chars.peek() == Some(&'\'') {
                chars.next();
            } else {
                return None;
            }
        }
        out.push(c);
    }
    Some(out)
}

/// The first quoted string of a value (inner quotes doubled) and what follows its closing quote.
/// IPF reads single-valued parameters this way, ignoring trailing characters.
pub fn leading_quoted(v: &str) -> Option<(String, &str)> {
    let rest = v.strip_prefix('\'')?;
    let mut out = String::new();
    let mut iter = rest.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        if c == '\'' {
            if iter.peek().map(|(_, n)| *n) == Some('\'') {
                iter.next();
                out.push('\'');
                continue;
            }
            return Some((out, rest.get(i + 1..).unwrap_or("")));
        }
        out.push(c);
    }
    // Unterminated under the doubling rule. Read it as IPF does: the text up to the next quote,
    // with the rest left over (a value such as `'id''trailing` is then `id` plus `'trailing`).
    let close = rest.find('\'')?;
    Some((
        rest.get(..close)?.to_owned(),
        rest.get(close + 1..).unwrap_or(""),
    ))
}

/// Split a stored-query list value `('a', 'b')` into its unquoted items; `None` when the syntax
/// is wrong (no parentheses, unquoted item, stray characters).
pub fn parse_query_list(v: &str) -> Option<Vec<String>> {
    let inner = v.trim().strip_prefix('(')?.strip_suffix(')')?;
    let mut items = Vec::new();
    let bytes: Vec<char> = inner.chars().collect();
    let mut i = 0;
    loop {
        while bytes.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        if bytes.get(i) != Some(&'\'') {
            return None;
        }
        i += 1;
        let mut item = String::new();
        loop {
            match bytes.get(i) {
                None => return None,
                Some('\'') if bytes.get(i + 1) == Some(&'\'') => {
                    item.push('\'');
                    i += 2;
                }
                Some('\'') => {
                    i += 1;
                    break;
                }
                Some(c) => {
                    item.push(*c);
                    i += 1;
                }
            }
        }
        items.push(item);
        while bytes.get(i).is_some_and(|c| c.is_whitespace()) {
            i += 1;
        }
        match bytes.get(i) {
            None => return Some(items),
            Some(',') => i += 1,
            Some(_) => return None,
        }
    }
}

/// Quote a stored-query string value, doubling inner quotes.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

/// A stored-query list value `('a','b')`.
pub fn quote_list<S: AsRef<str>>(items: &[S]) -> String {
    let inner: Vec<String> = items.iter().map(|s| quote(s.as_ref())).collect();
    format!("({})", inner.join(","))
}

/// A stored-query code item `code^^scheme` (HL7 CE form: code, empty text, coding system).
pub fn query_code(code: &str, scheme: &str) -> String {
    format!("{code}^^{scheme}")
}

/// Code item syntax: `code^^scheme` (HL7 CE, as IPF and the NIST toolkit parse it) or
/// `code^^^scheme` (as the standards reference §3.4 writes it); both need a code and a scheme.
pub fn is_query_code(item: &str) -> bool {
    let parts: Vec<&str> = item.split('^').collect();
    match parts[..] {
        [code, "", scheme] | [code, "", "", scheme] => !code.is_empty() && !scheme.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::objects::same_uri;
    use super::*;

    #[test]
    fn syntax_helpers() {
        assert!(is_oid("1.2.840.10008.1.2.1"));
        assert!(!is_oid("1.2.03"));
        assert!(!is_oid("3.1"));
        assert!(!is_oid("1"));
        assert!(!is_oid(""));
        assert!(is_xds_cx("ID^^^&1.2.3&ISO"));
        assert!(!is_xds_cx("ID^^^&1.2.3&ISO'x"));
        assert!(!is_xds_cx("ID^^^1.2.3"));
        assert!(is_dtm("20051224"));
        assert!(is_dtm("20041225235050"));
        assert!(!is_dtm("20041325"));
        assert!(!is_dtm("2004122523505012"));
        assert!(!is_dtm("2004-12"));
        assert_eq!(
            parse_query_list("('a', 'b''c')"),
            Some(vec!["a".into(), "b'c".into()])
        );
        assert_eq!(parse_query_list("'a'"), None);
        assert_eq!(parse_query_list("(a)"), None);
        assert_eq!(parse_query_list("('a' x)"), None);
        assert_eq!(parse_query_list("('a"), None);
        assert_eq!(strip_quotes("'a''b'"), Some("a'b".into()));
        assert_eq!(strip_quotes("'a'b'"), None);
        assert!(is_query_code("c^^s") && is_query_code("c^^^s"));
        assert!(!is_query_code("c^^") && !is_query_code("c"));
        assert!(same_uri("urn:uuid:AB- cd", "urn:uuid:ab-cd"));
    }
}
