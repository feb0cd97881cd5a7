//! Validation of the DICOM JSON Model (PS3.18 Annex F.2) of QIDO-RS responses and WADO-RS
//! metadata ([`crate::model::dicom_json`]).
//!
//! The harness must say precisely *where* a system under test deviates, so
//! [`validate_dataset_array`] returns a list of [`Violation`]s located by a path
//! (`[3].00081115[0].00081150`) and a short rule id naming the Annex F section ([`rules`]),
//! capped at [`MAX_VIOLATIONS`]. The check of the `vr` against the standard data dictionary is
//! advisory (a warning: a SHOULD rule). Recursion is bounded, and no input
//! can make the validator panic. DW-05 reports what it finds; the reference checks its own
//! answers with it in its tests.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
use dicom_core::Tag;
use dicom_dictionary_std::StandardDataDictionary;
use serde_json::{Map, Value};

use crate::checks::rule::Rule;
use crate::model::dicom_json::{parse_tag_key, BULKDATA_VRS, INLINE_BINARY_VRS, MAX_DEPTH};

/// Maximum number of violations reported by [`validate_dataset_array`].
pub const MAX_VIOLATIONS: usize = 100;

/// Maximum characters of input echoed in a violation message.
const MAX_ECHO: usize = 60;

/// The rules of the DICOM JSON Model (PS3.18 Annex F section + short id as rule id); the
/// advisory ones (`F.2.3 vr-dictionary`, `F.2.5 empty-value`) are SHOULD rules, warnings.
pub mod rules {
    crate::checks::rule::rules! {
        TOP_LEVEL_ARRAY = ("F.2.1 top-level-array", "DICOM PS3.18 §F.2.1", Shall,
            "The top level is not a JSON array (F.2.1).");
        DATASET_OBJECT = ("F.2.1 dataset-object", "DICOM PS3.18 §F.2.1", Shall,
            "An element of the top-level array is not an object (F.2.1).");
        KEY_FORMAT = ("F.2.2 key-format", "DICOM PS3.18 §F.2.2", Shall,
            "A key is not exactly 8 uppercase hexadecimal digits (F.2.2).");
        KEY_ORDER = ("F.2.2 key-order", "DICOM PS3.18 §F.2.2", Shall,
            "Keys are not in ascending tag order (F.2.2).");
        GROUP_LENGTH = ("F.2.2 group-length", "DICOM PS3.18 §F.2.2", Shall,
            "A Group Length (gggg,0000) attribute is present (F.2.2).");
        ATTRIBUTE_OBJECT = ("F.2.2 attribute-object", "DICOM PS3.18 §F.2.2", Shall,
            "An attribute value is not a JSON object (F.2.2).");
        VR_MISSING = ("F.2.2 vr-missing", "DICOM PS3.18 §F.2.2", Shall,
            "The \"vr\" member is missing or not a string (F.2.2).");
        UNKNOWN_MEMBER = ("F.2.2 unknown-member", "DICOM PS3.18 §F.2.2", Shall,
            "An attribute object has a member other than vr/Value/BulkDataURI/InlineBinary (F.2.2).");
        VALUE_EXCLUSIVE = ("F.2.2 value-exclusive", "DICOM PS3.18 §F.2.2", Shall,
            "More than one of \"Value\", \"BulkDataURI\", \"InlineBinary\" (F.2.2).");
        VR_INVALID = ("F.2.3 vr-invalid", "DICOM PS3.18 §F.2.3", Shall,
            "The \"vr\" is not one of the DICOM VRs (F.2.3).");
        VR_DICTIONARY = ("F.2.3 vr-dictionary", "DICOM PS3.18 §F.2.3", Should,
            "The \"vr\" differs from the standard dictionary's single VR for the tag (F.2.3, warning).");
        PN_OBJECT = ("F.2.3 pn-object", "DICOM PS3.18 §F.2.3", Shall,
            "A PN value is not an object with only Alphabetic/Ideographic/Phonetic strings (F.2.3).");
        SQ_ITEM = ("F.2.3 sq-item", "DICOM PS3.18 §F.2.3", Shall,
            "A SQ value item is not an object (F.2.3).");
        NUMBER_TYPE = ("F.2.3 number-type", "DICOM PS3.18 §F.2.3", Shall,
            "A numeric VR value has the wrong JSON type or is not an integer (F.2.3).");
        NUMBER_RANGE = ("F.2.3 number-range", "DICOM PS3.18 §F.2.3", Shall,
            "An integer value is out of the VR's range (F.2.3).");
        STRING_TYPE = ("F.2.3 string-type", "DICOM PS3.18 §F.2.3", Shall,
            "A string VR value is not a string (F.2.3).");
        AT_FORMAT = ("F.2.3 at-format", "DICOM PS3.18 §F.2.3", Shall,
            "An AT value is not a string of 8 hexadecimal digits (F.2.3).");
        BINARY_VALUE = ("F.2.3 binary-value", "DICOM PS3.18 §F.2.3", Shall,
            "A binary VR (OB OD OF OL OV OW UN) uses \"Value\" (F.2.3).");
        VALUE_ARRAY = ("F.2.4 value-array", "DICOM PS3.18 §F.2.4", Shall,
            "\"Value\" is not an array (F.2.4).");
        EMPTY_VALUE = ("F.2.5 empty-value", "DICOM PS3.18 §F.2.5", Should,
            "\"Value\" is an empty array; empty attributes omit \"Value\" (F.2.5, warning).");
        BULKDATA_VR = ("F.2.6 bulkdata-vr", "DICOM PS3.18 §F.2.6", Shall,
            "\"BulkDataURI\" used with a VR not allowed by F.2.6.");
        BULKDATA_URI = ("F.2.6 bulkdata-uri", "DICOM PS3.18 §F.2.6", Shall,
            "\"BulkDataURI\" is not a non-empty string (F.2.6).");
        INLINE_VR = ("F.2.7 inlinebinary-vr", "DICOM PS3.18 §F.2.7", Shall,
            "\"InlineBinary\" used with a VR not allowed by F.2.7.");
        INLINE_BASE64 = ("F.2.7 inlinebinary-base64", "DICOM PS3.18 §F.2.7", Shall,
            "\"InlineBinary\" is not a valid base64 string (F.2.7).");
        DEPTH = ("F.2 depth-limit", "DICOM PS3.18 §F.2", Shall,
            "Sequences nested deeper than the validator follows.");
    }
}

/// One deviation from the DICOM JSON Model: the rule, what is wrong and where, as
/// [`Violation::location`] (e.g. `[3].00100010` or `[0].00081115[1].00081150`; `""` for the top
/// level).
pub use crate::checks::rule::Violation;

const ALL_VRS: &[&str] = &[
    "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FD", "FL", "IS", "LO", "LT", "OB", "OD", "OF", "OL",
    "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST", "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US",
    "UT", "UV",
];

const STRING_VRS: &[&str] = &[
    "AE", "AS", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UR", "UT",
];

/// A value from the body as a message shows it: at most [`MAX_ECHO`] characters, control
/// characters escaped.
fn echo(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(MAX_ECHO) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if s.chars().nth(MAX_ECHO).is_some() {
        out.push('…');
    }
    out
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Strict base64 (RFC 4648 §4, padded, no whitespace). Returns why it is invalid.
fn base64_problem(s: &str) -> Option<&'static str> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(4) {
        return Some("length is not a multiple of 4");
    }
    let pad = b.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return Some("more than two '=' padding characters");
    }
    let body = b.get(..b.len() - pad).unwrap_or_default();
    if body
        .iter()
        .any(|&c| !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/'))
    {
        return Some("character outside the base64 alphabet (or misplaced '=')");
    }
    None
}

/// The standard dictionary's VR for `tag` when it has exactly one.
fn dictionary_vr(tag: u32) -> Option<&'static str> {
    let t = Tag((tag >> 16) as u16, (tag & 0xFFFF) as u16);
    match StandardDataDictionary.by_tag(t)?.vr() {
        VirtualVr::Exact(vr) => Some(vr.to_string()),
        _ => None,
    }
}

/// Violation collector with a cap.
struct Validator {
    out: Vec<Violation>,
}

impl Validator {
    fn full(&self) -> bool {
        self.out.len() >= MAX_VIOLATIONS
    }

    fn push(&mut self, path: &str, rule: Rule, message: String) {
        if !self.full() {
            self.out.push(Violation::at(&rule, path, message));
        }
    }

    fn dataset(&mut self, path: &str, obj: &Map<String, Value>, depth: usize) {
        if depth > MAX_DEPTH {
            self.push(
                path,
                rules::DEPTH,
                format!("sequences nested deeper than {MAX_DEPTH} levels are not validated"),
            );
            return;
        }
        let mut prev: Option<(u32, &str)> = None;
        for (key, attr) in obj {
            if self.full() {
                return;
            }
            let apath = format!("{path}.{}", echo(key));
            let tag = parse_tag_key(key);
            match tag {
                None => self.push(
                    &apath,
                    rules::KEY_FORMAT,
                    format!("key `{}` is not 8 hexadecimal digits", echo(key)),
                ),
                Some(_) if key.bytes().any(|b| b.is_ascii_lowercase()) => self.push(
                    &apath,
                    rules::KEY_FORMAT,
                    format!("key `{key}` must use uppercase hexadecimal digits"),
                ),
                Some(_) => {}
            }
            if let Some(t) = tag {
                if t & 0xFFFF == 0 {
                    self.push(
                        &apath,
                        rules::GROUP_LENGTH,
                        "group length attributes (gggg,0000) must not be included".into(),
                    );
                }
                if let Some((p, pkey)) = prev {
                    if t <= p {
                        self.push(
                            &apath,
                            rules::KEY_ORDER,
                            format!(
                                "key {key} follows {pkey}: keys must be in ascending tag order"
                            ),
                        );
                    }
                }
                prev = Some((t, key.as_str()));
            }
            self.attribute(&apath, tag, attr, depth);
        }
    }

    fn attribute(&mut self, path: &str, tag: Option<u32>, attr: &Value, depth: usize) {
        let Some(obj) = attr.as_object() else {
            self.push(
                path,
                rules::ATTRIBUTE_OBJECT,
                format!("attribute is a JSON {}, not an object", json_type(attr)),
            );
            return;
        };
        for member in obj.keys() {
            if !matches!(
                member.as_str(),
                "vr" | "Value" | "BulkDataURI" | "InlineBinary"
            ) {
                self.push(
                    path,
                    rules::UNKNOWN_MEMBER,
                    format!("unexpected member `{}`", echo(member)),
                );
            }
        }
        let vr = match obj.get("vr") {
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                self.push(
                    path,
                    rules::VR_MISSING,
                    format!("\"vr\" is a JSON {}, not a string", json_type(other)),
                );
                return;
            }
            None => {
                self.push(path, rules::VR_MISSING, "missing \"vr\"".into());
                return;
            }
        };
        if !ALL_VRS.contains(&vr) {
            self.push(
                path,
                rules::VR_INVALID,
                format!("`{}` is not a DICOM VR", echo(vr)),
            );
            return;
        }
        if let Some(t) = tag.filter(|t| (t >> 16) % 2 == 0 && t & 0xFFFF != 0) {
            if let Some(dict) = dictionary_vr(t) {
                if dict != vr {
                    self.push(
                        path,
                        rules::VR_DICTIONARY,
                        format!("vr {vr} differs from the standard dictionary ({dict})"),
                    );
                }
            }
        }
        let present = ["Value", "BulkDataURI", "InlineBinary"]
            .iter()
            .filter(|m| obj.contains_key(**m))
            .count();
        if present > 1 {
            self.push(
                path,
                rules::VALUE_EXCLUSIVE,
                "at most one of \"Value\", \"BulkDataURI\", \"InlineBinary\" is allowed".into(),
            );
        }
        if let Some(v) = obj.get("Value") {
            self.value(path, vr, v, depth);
        }
        if let Some(b) = obj.get("BulkDataURI") {
            if !BULKDATA_VRS.contains(&vr) {
                self.push(
                    path,
                    rules::BULKDATA_VR,
                    format!("BulkDataURI is not allowed for VR {vr}"),
                );
            }
            match b.as_str() {
                Some(s) if !s.is_empty() => {}
                _ => self.push(
                    path,
                    rules::BULKDATA_URI,
                    "BulkDataURI must be a non-empty string".into(),
                ),
            }
        }
        if let Some(b) = obj.get("InlineBinary") {
            if !INLINE_BINARY_VRS.contains(&vr) {
                self.push(
                    path,
                    rules::INLINE_VR,
                    format!("InlineBinary is not allowed for VR {vr}"),
                );
            }
            match b.as_str() {
                Some(s) => {
                    if let Some(why) = base64_problem(s) {
                        self.push(path, rules::INLINE_BASE64, format!("invalid base64: {why}"));
                    }
                }
                None => self.push(
                    path,
                    rules::INLINE_BASE64,
                    format!("InlineBinary is a JSON {}, not a string", json_type(b)),
                ),
            }
        }
    }

    fn value(&mut self, path: &str, vr: &str, v: &Value, depth: usize) {
        let Some(items) = v.as_array() else {
            self.push(
                path,
                rules::VALUE_ARRAY,
                format!("\"Value\" is a JSON {}, not an array", json_type(v)),
            );
            return;
        };
        if items.is_empty() {
            self.push(
                path,
                rules::EMPTY_VALUE,
                "empty \"Value\" array; an empty attribute should omit \"Value\"".into(),
            );
        }
        if INLINE_BINARY_VRS.contains(&vr) {
            self.push(
                path,
                rules::BINARY_VALUE,
                format!("VR {vr} must use BulkDataURI or InlineBinary, not \"Value\""),
            );
            return;
        }
        for (i, item) in items.iter().enumerate() {
            if self.full() {
                return;
            }
            let ipath = format!("{path}[{i}]");
            match vr {
                "SQ" => match item.as_object() {
                    Some(obj) => self.dataset(&ipath, obj, depth + 1),
                    None => self.push(
                        &ipath,
                        rules::SQ_ITEM,
                        format!("sequence item is a JSON {}, not an object", json_type(item)),
                    ),
                },
                "PN" => self.person_name(&ipath, item),
                _ => self.scalar(&ipath, vr, item),
            }
        }
    }

    fn person_name(&mut self, path: &str, item: &Value) {
        match item {
            Value::Null => {}
            Value::Object(obj) => {
                for (k, v) in obj {
                    if !matches!(k.as_str(), "Alphabetic" | "Ideographic" | "Phonetic") {
                        self.push(
                            path,
                            rules::PN_OBJECT,
                            format!("unexpected PN component group `{}`", echo(k)),
                        );
                    } else if !v.is_string() {
                        self.push(
                            path,
                            rules::PN_OBJECT,
                            format!("PN {k} is a JSON {}, not a string", json_type(v)),
                        );
                    }
                }
            }
            other => self.push(
                path,
                rules::PN_OBJECT,
                format!("PN value is a JSON {}, not an object", json_type(other)),
            ),
        }
    }

    fn scalar(&mut self, path: &str, vr: &str, item: &Value) {
        if item.is_null() {
            return;
        }
        match vr {
            "FL" | "FD" => {
                if !item.is_number() {
                    self.push(
                        path,
                        rules::NUMBER_TYPE,
                        format!("{vr} value is a JSON {}, not a number", json_type(item)),
                    );
                }
            }
            "SS" | "US" | "SL" | "UL" => match item.as_number() {
                None => self.push(
                    path,
                    rules::NUMBER_TYPE,
                    format!("{vr} value is a JSON {}, not a number", json_type(item)),
                ),
                Some(n) => self.integer(path, vr, n),
            },
            "DS" => {
                if !(item.is_number() || item.is_string()) {
                    self.push(
                        path,
                        rules::NUMBER_TYPE,
                        format!(
                            "DS value is a JSON {}, not a number or string",
                            json_type(item)
                        ),
                    );
                }
            }
            "IS" | "SV" | "UV" => match item {
                Value::String(_) => {}
                Value::Number(n) => self.integer(path, vr, n),
                other => self.push(
                    path,
                    rules::NUMBER_TYPE,
                    format!(
                        "{vr} value is a JSON {}, not a number or string",
                        json_type(other)
                    ),
                ),
            },
            "AT" => match item.as_str() {
                Some(s) if s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit()) => {}
                _ => self.push(
                    path,
                    rules::AT_FORMAT,
                    "AT value must be a string of 8 hexadecimal digits".into(),
                ),
            },
            _ => {
                if STRING_VRS.contains(&vr) && !item.is_string() {
                    self.push(
                        path,
                        rules::STRING_TYPE,
                        format!("{vr} value is a JSON {}, not a string", json_type(item)),
                    );
                }
            }
        }
    }

    fn integer(&mut self, path: &str, vr: &str, n: &serde_json::Number) {
        let (lo, hi): (i128, i128) = match vr {
            "SS" => (i16::MIN.into(), i16::MAX.into()),
            "US" => (0, u16::MAX.into()),
            "SL" => (i32::MIN.into(), i32::MAX.into()),
            "UL" => (0, u32::MAX.into()),
            "UV" => (0, u64::MAX.into()),
            "IS" => ((-(1i128 << 31)), (1i128 << 31) - 1),
            _ => (i64::MIN.into(), i64::MAX.into()),
        };
        let value = n
            .as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from));
        match value {
            None => self.push(
                path,
                rules::NUMBER_TYPE,
                format!("{vr} value {} is not an integer", echo(&n.to_string())),
            ),
            Some(v) if v < lo || v > hi => self.push(
                path,
                rules::NUMBER_RANGE,
                format!("{vr} value {v} is outside {lo}..={hi}"),
            ),
            Some(_) => {}
        }
    }
}

/// Validate a top-level array of data sets (a QIDO-RS response or WADO-RS
/// metadata) against the DICOM JSON Model rules listed in [`rules`]. Returns
/// at most [`MAX_VIOLATIONS`] violations (warnings, the SHOULD rules, included); an empty list
/// means conformant.
pub fn validate_dataset_array(v: &Value) -> Vec<Violation> {
    let mut val = Validator { out: Vec::new() };
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if val.full() {
                    break;
                }
                let path = format!("[{i}]");
                match item {
                    Value::Object(obj) => val.dataset(&path, obj, 0),
                    other => val.push(
                        &path,
                        rules::DATASET_OBJECT,
                        format!("data set is a JSON {}, not an object", json_type(other)),
                    ),
                }
            }
        }
        other => val.push(
            "",
            rules::TOP_LEVEL_ARRAY,
            format!("top level is a JSON {}, not an array", json_type(other)),
        ),
    }
    val.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Level;
    use crate::model::dicom_json::bulk_data_uris;
    use serde_json::json;

    use crate::model::dicom_json::tests::valid_study;

    fn rules_of(v: &Value) -> Vec<(String, &'static str)> {
        validate_dataset_array(v)
            .into_iter()
            .map(|x| (x.location, x.rule))
            .collect()
    }

    #[test]
    fn valid_document_has_no_violations() {
        let mut v = valid_study();
        // keys must be ascending: fix the order of the two out-of-order keys by construction
        let obj = v[0].as_object_mut().unwrap();
        obj.sort_keys();
        let violations = validate_dataset_array(&v);
        assert!(violations.is_empty(), "{violations:#?}");
    }

    #[test]
    fn key_format_order_and_group_length() {
        let v = json!([{
            "0020000d": {"vr": "UI", "Value": ["1"]},
            "00100020": {"vr": "LO", "Value": ["P"]},
            "0010": {"vr": "LO"},
            "00200000": {"vr": "UL", "Value": [4]},
            "zz": {"vr": "LO"}
        }]);
        let r = rules_of(&v);
        assert!(r.contains(&("[0].0020000d".into(), rules::KEY_FORMAT.id)));
        assert!(r.contains(&("[0].00100020".into(), rules::KEY_ORDER.id)));
        assert!(r.contains(&("[0].0010".into(), rules::KEY_FORMAT.id)));
        assert!(r.contains(&("[0].00200000".into(), rules::GROUP_LENGTH.id)));
        assert!(r.contains(&("[0].zz".into(), rules::KEY_FORMAT.id)));
    }

    #[test]
    fn top_level_and_dataset_shape() {
        assert_eq!(
            rules_of(&json!({})),
            vec![("".into(), rules::TOP_LEVEL_ARRAY.id)]
        );
        assert_eq!(
            rules_of(&json!([1])),
            vec![("[0]".into(), rules::DATASET_OBJECT.id)]
        );
        assert!(validate_dataset_array(&json!([])).is_empty());
        assert!(validate_dataset_array(&json!([{}])).is_empty());
    }

    #[test]
    fn attribute_object_rules() {
        let v = json!([{
            "00080016": "1.2",
            "00080018": {"Value": ["1"]},
            "00080020": {"vr": 5},
            "00080030": {"vr": "XX"},
            "00080050": {"vr": "SH", "Value": "A1"},
            "00080060": {"vr": "CS", "Value": ["CT"], "extra": 1},
            "00080070": {"vr": "LO", "Value": [], "BulkDataURI": "u"}
        }]);
        let r = rules_of(&v);
        assert!(r.contains(&("[0].00080016".into(), rules::ATTRIBUTE_OBJECT.id)));
        assert!(r.contains(&("[0].00080018".into(), rules::VR_MISSING.id)));
        assert!(r.contains(&("[0].00080020".into(), rules::VR_MISSING.id)));
        assert!(r.contains(&("[0].00080030".into(), rules::VR_INVALID.id)));
        assert!(r.contains(&("[0].00080050".into(), rules::VALUE_ARRAY.id)));
        assert!(r.contains(&("[0].00080060".into(), rules::UNKNOWN_MEMBER.id)));
        assert!(r.contains(&("[0].00080070".into(), rules::VALUE_EXCLUSIVE.id)));
        assert!(r.contains(&("[0].00080070".into(), rules::BULKDATA_VR.id)));
        assert!(r.contains(&("[0].00080070".into(), rules::EMPTY_VALUE.id)));
    }

    #[test]
    fn value_type_rules() {
        let v = json!([{
            "00100010": {"vr": "PN", "Value": ["Doe^John", {"Alphabetic": 1}, {"Foo": "x"}]},
            "00186060": {"vr": "FL", "Value": ["1.5"]},
            "00201206": {"vr": "IS", "Value": [1.5, true]},
            "00280010": {"vr": "US", "Value": [70000, -1, 2.5, "3"]},
            "00280030": {"vr": "DS", "Value": [[1]]},
            "00209165": {"vr": "AT", "Value": ["0020000", 1]},
            "00400275": {"vr": "SQ", "Value": [1, {"00080100": {"vr": "SH", "Value": [7]}}]},
            "00420011": {"vr": "OB", "Value": [1]}
        }]);
        let r = rules_of(&v);
        for expected in [
            ("[0].00100010[0]", rules::PN_OBJECT.id),
            ("[0].00100010[1]", rules::PN_OBJECT.id),
            ("[0].00100010[2]", rules::PN_OBJECT.id),
            ("[0].00186060[0]", rules::NUMBER_TYPE.id),
            ("[0].00201206[0]", rules::NUMBER_TYPE.id),
            ("[0].00201206[1]", rules::NUMBER_TYPE.id),
            ("[0].00280010[0]", rules::NUMBER_RANGE.id),
            ("[0].00280010[1]", rules::NUMBER_RANGE.id),
            ("[0].00280010[2]", rules::NUMBER_TYPE.id),
            ("[0].00280010[3]", rules::NUMBER_TYPE.id),
            ("[0].00280030[0]", rules::NUMBER_TYPE.id),
            ("[0].00209165[0]", rules::AT_FORMAT.id),
            ("[0].00209165[1]", rules::AT_FORMAT.id),
            ("[0].00400275[0]", rules::SQ_ITEM.id),
            ("[0].00400275[1].00080100[0]", rules::STRING_TYPE.id),
            ("[0].00420011", rules::BINARY_VALUE.id),
        ] {
            assert!(
                r.contains(&(expected.0.into(), expected.1)),
                "{expected:?} not in {r:#?}"
            );
        }
    }

    #[test]
    fn bulkdata_and_inline_binary_rules() {
        let v = json!([{
            "00080016": {"vr": "UI", "BulkDataURI": "http://x"},
            "00281201": {"vr": "OW", "BulkDataURI": ""},
            "00282000": {"vr": "OB", "InlineBinary": "AAEC"},
            "00283006": {"vr": "US", "InlineBinary": "AAE="},
            "00420011": {"vr": "OB", "InlineBinary": "AA=C"},
            "00880200": {"vr": "SQ", "BulkDataURI": "http://x/sq"},
            "7FE00008": {"vr": "OF", "InlineBinary": "AAE"},
            "7FE00009": {"vr": "OD", "InlineBinary": 12},
            "7FE00010": {"vr": "OB", "InlineBinary": "AA==", "BulkDataURI": "u"}
        }]);
        let r = rules_of(&v);
        for expected in [
            ("[0].00080016", rules::BULKDATA_VR.id),
            ("[0].00281201", rules::BULKDATA_URI.id),
            ("[0].00283006", rules::INLINE_VR.id),
            ("[0].00420011", rules::INLINE_BASE64.id),
            ("[0].00880200", rules::BULKDATA_VR.id),
            ("[0].7FE00008", rules::INLINE_BASE64.id),
            ("[0].7FE00009", rules::INLINE_BASE64.id),
            ("[0].7FE00010", rules::VALUE_EXCLUSIVE.id),
        ] {
            assert!(
                r.contains(&(expected.0.into(), expected.1)),
                "{expected:?} not in {r:#?}"
            );
        }
        assert!(!r.iter().any(|(p, _)| p == "[0].00282000"), "{r:#?}");
    }

    #[test]
    fn base64_by_hand() {
        for ok in ["", "AA==", "AAE=", "AAEC", "+/9a", "TWFu"] {
            assert_eq!(base64_problem(ok), None, "{ok}");
        }
        for bad in ["A", "AA=", "A===", "AA=A", "AA A", "AA\nA", "AA-_", "é123"] {
            assert!(base64_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn vr_dictionary_warning() {
        let v = json!([{
            "00100010": {"vr": "LO", "Value": ["x"]},
            "00280106": {"vr": "SS", "Value": [1]},
            "00291010": {"vr": "OB"}
        }]);
        let all = validate_dataset_array(&v);
        assert_eq!(all.len(), 1, "{all:#?}");
        assert_eq!(all[0].rule, rules::VR_DICTIONARY.id);
        assert_eq!(all[0].location, "[0].00100010");
        assert_eq!(all[0].level, Level::Should);
        assert!(all[0].to_string().contains("PN"));
    }

    #[test]
    fn violations_are_capped() {
        let items: Vec<Value> = (0..500).map(|_| json!(1)).collect();
        assert_eq!(
            validate_dataset_array(&Value::Array(items)).len(),
            MAX_VIOLATIONS
        );
        let mut obj = Map::new();
        for i in 0..500u32 {
            obj.insert(format!("x{i}"), json!(1));
        }
        assert_eq!(
            validate_dataset_array(&json!([Value::Object(obj)])).len(),
            MAX_VIOLATIONS
        );
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut v = json!({"00080100": {"vr": "SH", "Value": ["x"]}});
        for _ in 0..100 {
            v = json!({"00400275": {"vr": "SQ", "Value": [v]}});
        }
        let r = rules_of(&json!([v.clone()]));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].1, rules::DEPTH.id);
        assert!(bulk_data_uris(&v).is_empty());
    }
}
