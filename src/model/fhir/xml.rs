//! FHIR XML ⇄ FHIR JSON (FHIR R4 §2.6.2 XML and §2.6.3 JSON representations).
//!
//! XML is read with the hardened reader of [`crate::transport::soap::parse_xml`] (no DTD, no
//! entities, bounded depth and size, UTF-8 only). Conversion rules (R4 §2.6.2 / §2.6.3):
//! - the root element's name is the `resourceType`, in the namespace `http://hl7.org/fhir`;
//! - a primitive is an element with a `value` attribute; its `id` attribute and `extension`
//!   children go to the `_name` sibling;
//! - children are written in the order of the R4 definition of their type (R4 §2.6.2: "elements
//!   SHALL appear in the order specified"), from the table of [`super::xml_order`]; members the
//!   table does not know follow the known ones in their JSON order, and an object of a type the
//!   table does not know keeps its JSON order;
//! - an element is an array when it repeats, or when R4 gives it max cardinality `*`: from the
//!   order table when the type of the enclosing element is known, else from a table of the
//!   elements MHD, MADO and the imaging report use, with the context some of them need;
//! - a primitive is a JSON number or boolean by its R4 type when known (`Quantity.value` is a
//!   decimal, `Identifier.value` a string), else by its name;
//! - `id` and `url` attributes of complex elements become `id` / `url` members;
//! - the XHTML `div` is kept as its XML text;
//! - an element wrapping one resource (`contained`, `entry.resource`, `response.outcome`,
//!   `parameter.resource`) becomes that resource as an object with its `resourceType`.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

use super::xml_order;
use crate::transport::soap::{parse_xml, XmlElement, XmlError, XmlLimits};

/// The FHIR namespace.
pub const FHIR_NS: &str = "http://hl7.org/fhir";
/// The XHTML namespace of `Narrative.div`.
pub const XHTML_NS: &str = "http://www.w3.org/1999/xhtml";
/// Deepest element nesting accepted in either direction.
pub const MAX_DEPTH: usize = 64;

/// Elements with max cardinality `*` wherever they occur (in the resources the harness uses).
const ALWAYS_ARRAY: &[&str] = &[
    "entry",
    "extension",
    "modifierExtension",
    "coding",
    "link",
    "category",
    "author",
    "content",
    "profile",
    "security",
    "tag",
    "issue",
    "expression",
    "series",
    "instance",
    "section",
    "given",
    "prefix",
    "suffix",
    "line",
    "telecom",
    "contained",
    "relatesTo",
    "related",
    "event",
    "securityLabel",
    "endpoint",
    "basedOn",
    "result",
    "performer",
    "attester",
    "procedureCode",
    "payloadType",
    "payloadMimeType",
    "header",
    "parameter",
    "part",
    "note",
    "reasonCode",
    "reasonReference",
    "interpreter",
    "presentedForm",
    "imagingStudy",
    "media",
    "conclusionCode",
    "specimen",
    "hasMember",
    "derivedFrom",
    "component",
    "interpretation",
    "referenceRange",
    "contact",
    "qualification",
    "communication",
    "generalPractitioner",
    "udiCarrier",
    "deviceName",
    "specialty",
    "emptyReason",
    "orderedBy",
    "supportingInfo",
];

/// Elements that are arrays only when complex (a primitive of the same name is single).
const COMPLEX_ARRAY: &[&str] = &["name", "address", "version"];

/// Numeric primitives (JSON numbers).
const NUMERIC: &[&str] = &[
    "size",
    "total",
    "count",
    "numberOfSeries",
    "numberOfInstances",
    "number",
    "rank",
    "valueInteger",
    "valueDecimal",
    "valueUnsignedInt",
    "valuePositiveInt",
    "offset",
    "sequence",
    "min",
];

/// Boolean primitives (JSON booleans).
const BOOLEAN: &[&str] = &[
    "active",
    "valueBoolean",
    "deceasedBoolean",
    "multipleBirthBoolean",
    "experimental",
    "preferred",
    "mustSupport",
    "abstract",
    "inactive",
];

/// Is `name` an array member under `parent` in resource `rt` (`at_root`: directly in the resource)?
fn is_array(name: &str, complex: bool, parent: &str, rt: &str, at_root: bool) -> bool {
    if ALWAYS_ARRAY.contains(&name) {
        return true;
    }
    if complex && COMPLEX_ARRAY.contains(&name) {
        return true;
    }
    match name {
        // Resource.identifier is 0..* except in Bundle and Composition; Reference.identifier 0..1.
        "identifier" => at_root && !matches!(rt, "Bundle" | "Composition"),
        // ImagingStudy.modality is 0..*; ImagingStudy.series.modality is 1..1.
        "modality" => at_root && rt == "ImagingStudy",
        // DocumentReference.context.encounter is 0..*; elsewhere single.
        "encounter" => parent == "context",
        // OperationOutcome.issue.location 0..*; Bundle.entry.response.location 0..1.
        "location" => parent == "issue",
        // Questionnaire-like items; List.entry.item is 1..1.
        "item" => parent != "entry",
        "type" => complex && at_root && matches!(rt, "Encounter" | "Organization"),
        _ => false,
    }
}

/// Why FHIR XML cannot be read as a resource, or a JSON resource cannot be written as FHIR XML.
#[derive(Debug, thiserror::Error)]
pub enum FhirXmlError {
    /// The bytes are not UTF-8.
    #[error("FHIR XML is not valid UTF-8")]
    NotUtf8,
    /// The hardened reader refused the XML.
    #[error("not well-formed XML: {0}")]
    NotWellFormed(#[from] XmlError),
    /// The root element is not in the FHIR namespace (`found` names the one it is in).
    #[error("<{local}> is not in the FHIR namespace {ns} (found {found})", ns = FHIR_NS)]
    RootNamespace {
        /// Local name of the root element.
        local: String,
        /// The namespace found, as a message names it.
        found: String,
    },
    /// The root element is not in the FHIR namespace (order checking).
    #[error("<{0}> is not in the FHIR namespace")]
    NotFhirRoot(String),
    /// The root element's name is not a resource type.
    #[error("<{0}> is not a FHIR resource element")]
    NotAResource(String),
    /// A child element is not in the FHIR namespace (`found` names the one it is in).
    #[error("<{local}> is not in the FHIR namespace (found {found})")]
    ElementNamespace {
        /// Local name of the element.
        local: String,
        /// The namespace found, as a message names it.
        found: String,
    },
    /// Elements or JSON values nested deeper than [`MAX_DEPTH`].
    #[error("nesting deeper than {max}", max = MAX_DEPTH)]
    TooDeep,
    /// The JSON resource is not an object.
    #[error("a resource must be a JSON object")]
    NotAnObject,
    /// The JSON resource has no `resourceType`.
    #[error("not a FHIR resource: no resourceType")]
    NoResourceType,
    /// The `resourceType` is not a valid element name.
    #[error("bad resourceType {}", crate::evidence::quote(.0))]
    BadResourceType(String),
    /// A JSON member name is not a valid element name.
    #[error("bad element name {}", crate::evidence::quote(.0))]
    BadElementName(String),
    /// An array directly inside an array, under this element name.
    #[error("nested array in {0}")]
    NestedArray(String),
}

/// Parse FHIR XML with the hardened reader: UTF-8 only, at most [`MAX_DEPTH`] levels.
fn parse_document(xml: &[u8]) -> Result<XmlElement, FhirXmlError> {
    if std::str::from_utf8(xml).is_err() {
        return Err(FhirXmlError::NotUtf8);
    }
    let limits = XmlLimits {
        max_depth: MAX_DEPTH,
        ..XmlLimits::default()
    };
    Ok(parse_xml(xml, &limits)?)
}

/// Convert a FHIR XML resource to its JSON form.
pub fn to_json(xml: &[u8]) -> Result<Value, FhirXmlError> {
    let root = parse_document(xml)?;
    resource_to_json(&root, xml)
}

/// The namespace of an element as a message names it.
fn namespace_found(el: &XmlElement) -> String {
    match &el.ns {
        Some(ns) => format!("namespace {}", crate::evidence::quote(ns)),
        None => "no namespace".to_string(),
    }
}

fn resource_to_json(el: &XmlElement, src: &[u8]) -> Result<Value, FhirXmlError> {
    if el.ns.as_deref() != Some(FHIR_NS) {
        return Err(FhirXmlError::RootNamespace {
            local: el.local.clone(),
            found: namespace_found(el),
        });
    }
    if !el.local.starts_with(|c: char| c.is_ascii_uppercase()) {
        return Err(FhirXmlError::NotAResource(el.local.clone()));
    }
    let mut obj = Map::new();
    obj.insert("resourceType".into(), Value::String(el.local.clone()));
    let ctx = xml_order::children(&el.local).map(|_| el.local.as_str());
    members(el, src, ctx, &el.local, true, &mut obj)?;
    Ok(Value::Object(obj))
}

/// Append the children of `el` to `obj`. `ctx` is the type of `el` when the order table knows it
/// (then its children's cardinality and types come from the table); `rt` the resource type.
fn members(
    el: &XmlElement,
    src: &[u8],
    ctx: Option<&str>,
    rt: &str,
    at_root: bool,
    obj: &mut Map<String, Value>,
) -> Result<(), FhirXmlError> {
    // Group children by name, keeping first-occurrence order (hash-indexed: linear work).
    let mut order: Vec<&str> = Vec::new();
    let mut groups: HashMap<&str, Vec<&XmlElement>> = HashMap::new();
    for c in &el.children {
        let g = groups.entry(c.local.as_str()).or_default();
        if g.is_empty() {
            order.push(&c.local);
        }
        g.push(c);
    }
    for name in order {
        let group = groups.remove(name).unwrap_or_default();
        let complex = group.iter().any(|c| c.attr("value").is_none());
        let known = ctx.and_then(|t| xml_order::lookup(t, name));
        let array = group.len() > 1
            || match known {
                Some((_, _, many)) => many,
                None => is_array(name, complex, &el.local, rt, at_root),
            };
        let child_ty = known.map(|(_, ty, _)| ty);
        let mut values = Vec::with_capacity(group.len());
        let mut shadows = Vec::with_capacity(group.len());
        for c in &group {
            let (v, shadow) = element(c, src, child_ty, rt)?;
            values.push(v);
            shadows.push(shadow);
        }
        let has_shadow = shadows.iter().any(Option::is_some);
        if array {
            let all_null = values.iter().all(Value::is_null);
            if !all_null {
                obj.insert(name.to_string(), Value::Array(values));
            }
            if has_shadow {
                let s = shadows
                    .into_iter()
                    .map(|s| s.unwrap_or(Value::Null))
                    .collect();
                obj.insert(format!("_{name}"), Value::Array(s));
            }
        } else {
            let v = values.into_iter().next().unwrap_or(Value::Null);
            if !v.is_null() {
                obj.insert(name.to_string(), v);
            }
            if let Some(Some(s)) = shadows.into_iter().next() {
                obj.insert(format!("_{name}"), s);
            }
        }
    }
    Ok(())
}

/// One element of type `ty` (when the order table gives it): its JSON value and, for a primitive
/// with an id or extensions, its `_name` shadow.
fn element(
    el: &XmlElement,
    src: &[u8],
    ty: Option<&'static str>,
    rt: &str,
) -> Result<(Value, Option<Value>), FhirXmlError> {
    if el.local == "div" && el.ns.as_deref() == Some(XHTML_NS) {
        let text = src
            .get(el.span.clone())
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        return Ok((Value::String(text), None));
    }
    if el.ns.as_deref() != Some(FHIR_NS) {
        return Err(FhirXmlError::ElementNamespace {
            local: el.local.clone(),
            found: namespace_found(el),
        });
    }
    // A primitive: with a value attribute, or of a primitive type with only an id and extensions
    // (then JSON has only its `_name` shadow).
    let primitive_ty = ty.filter(|t| xml_order::is_primitive(t));
    if el.attr("value").is_some() || primitive_ty.is_some() {
        let value = match (el.attr("value"), primitive_ty) {
            (Some(v), Some(t)) => typed_primitive(t, v),
            (Some(v), None) => primitive(&el.local, v),
            (None, _) => Value::Null,
        };
        let mut shadow = Map::new();
        if let Some(id) = el.attr("id") {
            shadow.insert("id".into(), Value::String(id.into()));
        }
        members(el, src, Some("Element"), rt, false, &mut shadow)?;
        let shadow = (!shadow.is_empty()).then_some(Value::Object(shadow));
        return Ok((value, shadow));
    }
    // A wrapper around one resource.
    if el.children.len() == 1 && el.attrs.is_empty() {
        if let Some(inner) = el.children.first() {
            if inner.local.starts_with(|c: char| c.is_ascii_uppercase()) {
                return Ok((resource_to_json(inner, src)?, None));
            }
        }
    }
    let mut obj = Map::new();
    for a in &el.attrs {
        if a.ns.is_none() && (a.local == "id" || a.local == "url") {
            obj.insert(a.local.clone(), Value::String(a.value.clone()));
        }
    }
    let ctx = ty.filter(|t| xml_order::children(t).is_some());
    members(el, src, ctx, rt, false, &mut obj)?;
    Ok((Value::Object(obj), None))
}

/// A primitive of R4 type `ty`: a JSON number for the numeric types, a boolean for `boolean` (when
/// the lexical form is valid; else kept as the string it is), a string otherwise (R4 §2.6.3).
fn typed_primitive(ty: &str, v: &str) -> Value {
    match ty {
        "integer" | "positiveInt" | "unsignedInt" | "decimal" => number(v),
        "boolean" => match v.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(v.to_string()),
        },
        _ => Value::String(v.to_string()),
    }
}

fn number(v: &str) -> Value {
    if let Ok(i) = v.trim().parse::<i64>() {
        return Value::Number(i.into());
    }
    if let Some(n) = v.trim().parse::<f64>().ok().and_then(Number::from_f64) {
        return Value::Number(n);
    }
    Value::String(v.to_string())
}

/// A primitive by its element name, for elements whose type is not in the order table.
fn primitive(name: &str, v: &str) -> Value {
    if NUMERIC.contains(&name) {
        return number(v);
    }
    if BOOLEAN.contains(&name) {
        match v.trim() {
            "true" => return Value::Bool(true),
            "false" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::String(v.to_string())
}

/// Convert a FHIR JSON resource to FHIR XML (UTF-8, with an XML declaration).
pub fn from_json(v: &Value) -> Result<String, FhirXmlError> {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_resource(v, &mut out, 0)?;
    Ok(out)
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            '\n' => o.push_str("&#10;"),
            '\r' => o.push_str("&#13;"),
            '\t' => o.push_str("&#9;"),
            c => o.push(c),
        }
    }
    o
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write_resource(v: &Value, out: &mut String, depth: usize) -> Result<(), FhirXmlError> {
    if depth > MAX_DEPTH {
        return Err(FhirXmlError::TooDeep);
    }
    let Some(obj) = v.as_object() else {
        return Err(FhirXmlError::NotAnObject);
    };
    let Some(rt) = obj.get("resourceType").and_then(Value::as_str) else {
        return Err(FhirXmlError::NoResourceType);
    };
    if !valid_name(rt) {
        return Err(FhirXmlError::BadResourceType(rt.to_string()));
    }
    out.push_str(&format!("<{rt} xmlns=\"{FHIR_NS}\">"));
    write_members(obj, Some(rt), out, depth + 1, &[])?;
    out.push_str(&format!("</{rt}>"));
    Ok(())
}

/// One XML element to write: its name, its JSON value (absent for a shadow-only primitive) and
/// its `_name` shadow.
struct Member<'a> {
    name: &'a str,
    value: Option<&'a Value>,
    shadow: Option<&'a Value>,
}

/// The members of `obj` as XML elements in the order to write them (R4 §2.6.2).
///
/// With `ctx` a type of the order table: by the R4 position of each name, names the table does
/// not know after the known ones in JSON order (the sort is stable). With an unknown `ctx`: JSON
/// order, the shadow-only primitives (`_given` with no `given`) last.
fn ordered_members<'a>(
    obj: &'a Map<String, Value>,
    ctx: Option<&str>,
    attrs: &[&str],
) -> Result<Vec<(usize, Member<'a>)>, FhirXmlError> {
    let known = ctx.filter(|t| xml_order::children(t).is_some());
    let mut list: Vec<(usize, Member<'a>)> = Vec::with_capacity(obj.len());
    for (k, v) in obj {
        if k == "resourceType" {
            continue;
        }
        if let Some(name) = k.strip_prefix('_') {
            // Written with its value, or alone when there is none (extensions only).
            if obj.contains_key(name) || !valid_name(name) {
                continue;
            }
            let key = match known {
                Some(t) => xml_order::lookup(t, name).map_or(usize::MAX, |(pos, _, _)| pos),
                None => 1,
            };
            list.push((
                key,
                Member {
                    name,
                    value: None,
                    shadow: Some(v),
                },
            ));
            continue;
        }
        // Attributes (`id` of an element, `url` of an extension) are written by the caller.
        if attrs.contains(&k.as_str()) && v.is_string() {
            continue;
        }
        if !valid_name(k) {
            return Err(FhirXmlError::BadElementName(k.to_string()));
        }
        let key = match known {
            Some(t) => xml_order::lookup(t, k).map_or(usize::MAX, |(pos, _, _)| pos),
            None => 0,
        };
        list.push((
            key,
            Member {
                name: k,
                value: Some(v),
                shadow: obj.get(&format!("_{k}")),
            },
        ));
    }
    list.sort_by_key(|(key, _)| *key);
    Ok(list)
}

/// Write the members of `obj`, an object of type `ctx` (when known), as XML elements.
fn write_members(
    obj: &Map<String, Value>,
    ctx: Option<&str>,
    out: &mut String,
    depth: usize,
    attrs: &[&str],
) -> Result<(), FhirXmlError> {
    if depth > MAX_DEPTH {
        return Err(FhirXmlError::TooDeep);
    }
    for (_, m) in ordered_members(obj, ctx, attrs)? {
        let ty = ctx
            .and_then(|t| xml_order::lookup(t, m.name))
            .map(|(_, ty, _)| ty);
        match (m.value, m.shadow) {
            (Some(Value::Array(items)), shadow) => {
                for (i, item) in items.iter().enumerate() {
                    let sh = shadow.and_then(|s| s.as_array()).and_then(|a| a.get(i));
                    write_element(m.name, ty, item, sh, out, depth)?;
                }
            }
            (Some(v), shadow) => write_element(m.name, ty, v, shadow, out, depth)?,
            // Shadows with no value (`_given` with extensions only).
            (None, Some(Value::Array(items))) => {
                for item in items {
                    write_element(m.name, ty, &Value::Null, Some(item), out, depth)?;
                }
            }
            (None, Some(sh)) => write_element(m.name, ty, &Value::Null, Some(sh), out, depth)?,
            (None, None) => {}
        }
    }
    Ok(())
}

/// The JSON members written as XML attributes of element `name` (R4 §2.6.2: `id` on elements,
/// `url` on extensions).
fn attributes_of(name: &str) -> &'static [&'static str] {
    if name == "extension" || name == "modifierExtension" {
        &["id", "url"]
    } else {
        &["id"]
    }
}

/// Write element `name` of type `ty` (when the order table gives it).
fn write_element(
    name: &str,
    ty: Option<&str>,
    v: &Value,
    shadow: Option<&Value>,
    out: &mut String,
    depth: usize,
) -> Result<(), FhirXmlError> {
    if depth > MAX_DEPTH {
        return Err(FhirXmlError::TooDeep);
    }
    let shadow = shadow.and_then(Value::as_object);
    match v {
        Value::Object(o) if o.contains_key("resourceType") => {
            out.push_str(&format!("<{name}>"));
            write_resource(v, out, depth + 1)?;
            out.push_str(&format!("</{name}>"));
        }
        Value::Object(o) => {
            out.push('<');
            out.push_str(name);
            let attrs = attributes_of(name);
            for &attr in attrs {
                if let Some(s) = o.get(attr).and_then(Value::as_str) {
                    out.push_str(&format!(" {attr}=\"{}\"", escape(s)));
                }
            }
            out.push('>');
            write_members(o, ty, out, depth + 1, attrs)?;
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) if name == "div" => {
            let limits = XmlLimits {
                max_depth: MAX_DEPTH,
                max_bytes: 16 * 1024 * 1024,
                ..XmlLimits::default()
            };
            match parse_xml(s.as_bytes(), &limits) {
                Ok(el) if el.local == "div" && el.ns.as_deref() == Some(XHTML_NS) => {
                    out.push_str(s)
                }
                _ => out.push_str(&format!("<div xmlns=\"{XHTML_NS}\">{}</div>", escape(s))),
            }
        }
        Value::Null => {
            let Some(sh) = shadow else { return Ok(()) };
            write_primitive(name, None, sh, out, depth)?;
        }
        Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let empty = Map::new();
            write_primitive(name, Some(&text), shadow.unwrap_or(&empty), out, depth)?;
        }
        Value::Array(_) => return Err(FhirXmlError::NestedArray(name.to_string())),
    }
    Ok(())
}

fn write_primitive(
    name: &str,
    value: Option<&str>,
    shadow: &Map<String, Value>,
    out: &mut String,
    depth: usize,
) -> Result<(), FhirXmlError> {
    out.push('<');
    out.push_str(name);
    if let Some(id) = shadow.get("id").and_then(Value::as_str) {
        out.push_str(&format!(" id=\"{}\"", escape(id)));
    }
    if let Some(v) = value {
        out.push_str(&format!(" value=\"{}\"", escape(v)));
    }
    let children: Map<String, Value> = shadow
        .iter()
        .filter(|(k, _)| k.as_str() != "id")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if children.is_empty() {
        out.push_str("/>");
    } else {
        out.push('>');
        // The children of a primitive are those of Element: `extension` (R4 element.html).
        write_members(&children, Some("Element"), out, depth + 1, &["id"])?;
        out.push_str(&format!("</{name}>"));
    }
    Ok(())
}

/// The places where FHIR XML breaks the R4 element order (R4 §2.6.2: elements "SHALL appear in the
/// order specified"), as `Path: <name> after <name>` lines, at most `max` of them. Only elements of
/// types the order table knows are judged; `Err` when the XML is not a readable FHIR resource.
pub fn order_violations(xml: &[u8], max: usize) -> Result<Vec<String>, FhirXmlError> {
    let root = parse_document(xml)?;
    if root.ns.as_deref() != Some(FHIR_NS) {
        return Err(FhirXmlError::NotFhirRoot(root.local.clone()));
    }
    let mut out = Vec::new();
    order_walk(&root, Some(root.local.as_str()), &root.local, max, &mut out);
    Ok(out)
}

fn order_walk(el: &XmlElement, ty: Option<&str>, path: &str, max: usize, out: &mut Vec<String>) {
    let ty = ty.filter(|t| xml_order::children(t).is_some());
    let mut last: Option<(usize, &str)> = None;
    for c in &el.children {
        if out.len() >= max {
            return;
        }
        if c.ns.as_deref() != Some(FHIR_NS) {
            continue;
        }
        let known = ty.and_then(|t| xml_order::lookup(t, &c.local));
        if let Some((pos, _, _)) = known {
            match last {
                Some((prev, prev_name)) if pos < prev => {
                    out.push(format!("{path}: <{}> after <{prev_name}>", c.local));
                }
                _ => last = Some((pos, c.local.as_str())),
            }
        }
        let child_path = format!("{path}.{}", c.local);
        match known.map(|(_, t, _)| t) {
            // An inline resource (`entry.resource`, `contained`, `response.outcome`).
            Some("Resource") => {
                for r in &c.children {
                    let rp = format!("{child_path}.{}", r.local);
                    order_walk(r, Some(r.local.as_str()), &rp, max, out);
                }
            }
            child_ty => order_walk(c, child_ty, &child_path, max, out),
        }
    }
}

#[cfg(test)]
mod tests;
