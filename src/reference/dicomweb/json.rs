//! DICOM JSON output (PS3.18 Annex F) for metadata, QIDO-RS results and STOW-RS responses.
//!
//! F.2.1.1 requires each data set to be an object keyed by the 8 upper-case hex digits of each tag, in
//! ascending order; sequence items are data sets too. Data sets come from `dicom-json`, whose keys are
//! already upper case, and are normalised here anyway so the rule holds for anything built by hand. The
//! two JSON faults (lower-case keys, keys in descending order) are applied last, to every data set.

use std::collections::BTreeSet;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use crate::reference::dicomweb::web::problem;
use crate::reference::faults::Fault;

/// The DICOM JSON media type (PS3.18 8.7.3.2).
pub const DICOM_JSON: &str = "application/dicom+json";

fn is_tag_key(k: &str) -> bool {
    k.len() == 8 && k.bytes().all(|b| b.is_ascii_hexdigit())
}

/// True if the object looks like a data set (every key a tag). An empty object is an empty item.
fn is_dataset(m: &Map<String, Value>) -> bool {
    m.keys().all(|k| is_tag_key(k))
}

/// IS and DS values as JSON numbers when they parse (F.2.3: Number; later editions also allow the
/// string form, so numbers satisfy every edition). Values that do not parse stay strings.
fn numbers_for_decimal_strings(m: &mut Map<String, Value>) {
    let ds = match m.get("vr").and_then(Value::as_str) {
        Some("IS") => false,
        Some("DS") => true,
        _ => return,
    };
    let Some(Value::Array(values)) = m.get_mut("Value") else {
        return;
    };
    for v in values.iter_mut() {
        let Some(s) = v.as_str().map(str::trim) else {
            continue;
        };
        if let Ok(i) = s.parse::<i64>() {
            *v = Value::from(i);
        } else if ds {
            if let Some(n) = s.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                *v = Value::Number(n);
            }
        }
    }
}

/// Rewrite every data set in `v`: keys upper case and ascending, or transformed by a JSON fault.
fn normalise(v: &mut Value, lowercase: bool, descending: bool) {
    match v {
        Value::Array(items) => {
            for i in items {
                normalise(i, lowercase, descending);
            }
        }
        Value::Object(m) => {
            numbers_for_decimal_strings(m);
            let dataset = is_dataset(m);
            let mut entries: Vec<(String, Value)> = std::mem::take(m).into_iter().collect();
            for (_, child) in entries.iter_mut() {
                normalise(child, lowercase, descending);
            }
            if dataset {
                for (k, _) in entries.iter_mut() {
                    *k = if lowercase {
                        k.to_ascii_lowercase()
                    } else {
                        k.to_ascii_uppercase()
                    };
                }
                entries.sort_by_key(|a| a.0.to_ascii_uppercase());
                if descending {
                    entries.reverse();
                }
            }
            m.extend(entries);
        }
        _ => {}
    }
}

/// Normalise data sets per F.2.1.1, then apply the JSON faults that are switched on.
pub fn finish(mut v: Value, faults: &BTreeSet<Fault>) -> Value {
    normalise(
        &mut v,
        faults.contains(&Fault::LowercaseJsonTags),
        faults.contains(&Fault::UnsortedJsonKeys),
    );
    v
}

/// An `application/dicom+json` response.
pub fn response(status: StatusCode, v: Value, faults: &BTreeSet<Fault>) -> Response {
    match serde_json::to_vec(&finish(v, faults)) {
        Ok(body) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static(DICOM_JSON))],
            body,
        )
            .into_response(),
        Err(e) => problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode JSON: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_and_uppercases_nested_datasets() {
        let v = json!([{"0020000d": {"vr": "UI"}, "00080005": {"vr": "CS"},
            "00081199": {"vr": "SQ", "Value": [{"00081155": {"vr": "UI"}, "00081150": {"vr": "UI"}}]}}]);
        let out = finish(v.clone(), &BTreeSet::new());
        let keys: Vec<_> = out[0].as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["00080005", "00081199", "0020000D"]);
        let item = out[0]["00081199"]["Value"][0].as_object().unwrap();
        assert_eq!(item.keys().next().unwrap(), "00081150");
        // "vr" stays before "Value".
        assert_eq!(
            out[0]["00081199"]
                .as_object()
                .unwrap()
                .keys()
                .next()
                .unwrap(),
            "vr"
        );
        let lower = finish(v.clone(), &BTreeSet::from([Fault::LowercaseJsonTags]));
        assert!(lower[0].as_object().unwrap().contains_key("0020000d"));
        let desc = finish(v, &BTreeSet::from([Fault::UnsortedJsonKeys]));
        assert_eq!(
            desc[0].as_object().unwrap().keys().next().unwrap(),
            "0020000D"
        );
    }

    #[test]
    fn decimal_strings_become_numbers() {
        let v = json!([{"00200013": {"vr": "IS", "Value": ["12 "]},
            "00280030": {"vr": "DS", "Value": ["0.7", "1e400", "x"]}}]);
        let out = finish(v, &BTreeSet::new());
        assert_eq!(out[0]["00200013"]["Value"][0], 12);
        assert_eq!(out[0]["00280030"]["Value"][0], 0.7);
        assert_eq!(out[0]["00280030"]["Value"][1], "1e400");
        assert_eq!(out[0]["00280030"]["Value"][2], "x");
    }
}
