//! A report under judgement: its resources, and reference resolution within a document Bundle.

use serde_json::Value;

pub use crate::model::imaging_report::links::{arr, one_or_many, resources, s};

/// A report value (a document Bundle, or a standalone resource) and its resources.
#[derive(Debug)]
pub struct Doc<'a> {
    /// The value as given.
    pub root: &'a Value,
    /// Every resource: the entry resources of a Bundle, or the value itself.
    pub resources: Vec<&'a Value>,
    /// True when judged as a document (the Bundle rules and reference resolution apply).
    pub document: bool,
}

impl<'a> Doc<'a> {
    /// Judge `v` as a FHIR document Bundle.
    pub fn document(v: &'a Value) -> Doc<'a> {
        Doc {
            root: v,
            resources: resources(v),
            document: true,
        }
    }

    /// Judge `v` as a standalone resource (or a non-document Bundle of resources).
    pub fn resource(v: &'a Value) -> Doc<'a> {
        Doc {
            root: v,
            resources: resources(v),
            document: false,
        }
    }

    /// Resources of this type.
    pub fn of_type(&self, t: &str) -> Vec<&'a Value> {
        self.resources
            .iter()
            .copied()
            .filter(|r| s(r, "resourceType") == Some(t))
            .collect()
    }

    /// The (first) Composition.
    pub fn composition(&self) -> Option<&'a Value> {
        self.of_type("Composition").into_iter().next()
    }

    /// The Bundle entries (empty for a standalone resource).
    pub fn entries(&self) -> &'a [Value] {
        if s(self.root, "resourceType") == Some("Bundle") {
            arr(self.root, "entry")
        } else {
            &[]
        }
    }

    /// The entry resource a reference string points at, within the Bundle.
    pub fn resolve(&self, reference: &str) -> Option<&'a Value> {
        let tail = type_id_tail(reference);
        self.entries().iter().find_map(|e| {
            let r = e.get("resource")?;
            let full = s(e, "fullUrl").unwrap_or("");
            let own = match (s(r, "resourceType"), s(r, "id")) {
                (Some(t), Some(i)) => Some(format!("{t}/{i}")),
                _ => None,
            };
            let hit = (!full.is_empty() && full == reference)
                || tail.is_some() && (tail == type_id_tail(full) || tail == own.as_deref());
            hit.then_some(r)
        })
    }
}

/// The last `Type/id` of a reference or URL (`Type/id/_history/n` reduced to `Type/id`).
fn type_id_tail(r: &str) -> Option<&str> {
    let r = r.split("/_history/").next().unwrap_or(r);
    if r.starts_with("urn:") || r.starts_with('#') {
        return None;
    }
    let mut idx = r.rmatch_indices('/');
    let (last, _) = idx.next()?;
    let start = idx.next().map(|(i, _)| i + 1).unwrap_or(0);
    let ty = &r[start..last];
    let id = &r[last + 1..];
    let type_ok = ty.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && ty.chars().all(|c| c.is_ascii_alphabetic());
    (type_ok && !id.is_empty()).then_some(&r[start..])
}

/// Every `reference` string found anywhere inside a JSON value (Reference elements).
pub fn references(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("reference", Value::String(r)) => out.push(r.clone()),
                    ("resource", _) => {} // never descend into a nested resource
                    _ => references(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        _ => {}
    }
}
