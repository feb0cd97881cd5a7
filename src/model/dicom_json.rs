//! The DICOM JSON Model (PS3.18 Annex F.2): helpers to read it.
//!
//! QIDO-RS responses and WADO-RS metadata are JSON arrays of data sets, each an
//! object keyed by 8 uppercase hex digit tags whose values are attribute
//! objects `{"vr": .., "Value": [..] | "BulkDataURI": ".." | "InlineBinary": ".."}`
//! (PS3.18 Annex F.2.1–F.2.7). The lookup helpers ([`attr`], [`first_string`],
//! [`bulk_data_uris`]) are used by the QIDO/WADO checks, the steps and the reference; the
//! validator of the model is `checks::dicomweb::json`. Recursion is bounded, and no input can
//! make these functions panic.

use serde_json::Value;

/// Maximum sequence nesting depth that is validated / traversed.
pub const MAX_DEPTH: usize = 32;

/// VRs for which "BulkDataURI" is allowed (PS3.18 F.2.6).
pub const BULKDATA_VRS: &[&str] = &[
    "DS", "FL", "FD", "IS", "LT", "OB", "OD", "OF", "OL", "OV", "OW", "SL", "SS", "ST", "SV", "UC",
    "UL", "UN", "US", "UT", "UV",
];

/// VRs for which "InlineBinary" is allowed (PS3.18 F.2.7).
pub const INLINE_BINARY_VRS: &[&str] = &["OB", "OD", "OF", "OL", "OV", "OW", "UN"];

/// Tag numbers (0xGGGGEEEE) used by QIDO-RS / WADO-RS checks.
pub mod tags {
    /// (0002,0010) Transfer Syntax UID
    pub const TRANSFER_SYNTAX_UID: u32 = 0x0002_0010;
    /// (0008,0005) Specific Character Set
    pub const SPECIFIC_CHARACTER_SET: u32 = 0x0008_0005;
    /// (0008,0016) SOP Class UID
    pub const SOP_CLASS_UID: u32 = 0x0008_0016;
    /// (0008,0018) SOP Instance UID
    pub const SOP_INSTANCE_UID: u32 = 0x0008_0018;
    /// (0008,0020) Study Date
    pub const STUDY_DATE: u32 = 0x0008_0020;
    /// (0008,0030) Study Time
    pub const STUDY_TIME: u32 = 0x0008_0030;
    /// (0008,0050) Accession Number
    pub const ACCESSION_NUMBER: u32 = 0x0008_0050;
    /// (0008,0056) Instance Availability
    pub const INSTANCE_AVAILABILITY: u32 = 0x0008_0056;
    /// (0008,0060) Modality
    pub const MODALITY: u32 = 0x0008_0060;
    /// (0008,0061) Modalities in Study
    pub const MODALITIES_IN_STUDY: u32 = 0x0008_0061;
    /// (0008,0090) Referring Physician's Name
    pub const REFERRING_PHYSICIAN_NAME: u32 = 0x0008_0090;
    /// (0008,0201) Timezone Offset From UTC
    pub const TIMEZONE_OFFSET_FROM_UTC: u32 = 0x0008_0201;
    /// (0008,1190) Retrieve URL
    pub const RETRIEVE_URL: u32 = 0x0008_1190;
    /// (0010,0010) Patient's Name
    pub const PATIENT_NAME: u32 = 0x0010_0010;
    /// (0010,0020) Patient ID
    pub const PATIENT_ID: u32 = 0x0010_0020;
    /// (0010,0030) Patient's Birth Date
    pub const PATIENT_BIRTH_DATE: u32 = 0x0010_0030;
    /// (0010,0040) Patient's Sex
    pub const PATIENT_SEX: u32 = 0x0010_0040;
    /// (0020,000D) Study Instance UID
    pub const STUDY_INSTANCE_UID: u32 = 0x0020_000D;
    /// (0020,000E) Series Instance UID
    pub const SERIES_INSTANCE_UID: u32 = 0x0020_000E;
    /// (0020,0010) Study ID
    pub const STUDY_ID: u32 = 0x0020_0010;
    /// (0020,0011) Series Number
    pub const SERIES_NUMBER: u32 = 0x0020_0011;
    /// (0020,0013) Instance Number
    pub const INSTANCE_NUMBER: u32 = 0x0020_0013;
    /// (0020,1206) Number of Study Related Series
    pub const NUMBER_OF_STUDY_RELATED_SERIES: u32 = 0x0020_1206;
    /// (0020,1208) Number of Study Related Instances
    pub const NUMBER_OF_STUDY_RELATED_INSTANCES: u32 = 0x0020_1208;
    /// (0020,1209) Number of Series Related Instances
    pub const NUMBER_OF_SERIES_RELATED_INSTANCES: u32 = 0x0020_1209;
    /// (0028,0008) Number of Frames
    pub const NUMBER_OF_FRAMES: u32 = 0x0028_0008;
    /// (7FE0,0010) Pixel Data
    pub const PIXEL_DATA: u32 = 0x7FE0_0010;
}

/// JSON key for a tag: 8 uppercase hex digits, e.g. `0020000D`.
pub fn tag_key(tag: u32) -> String {
    format!("{tag:08X}")
}

/// Parse a key of exactly 8 hex digits (either case) into a tag number.
pub fn parse_tag_key(key: &str) -> Option<u32> {
    if key.len() != 8 || !key.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(key, 16).ok()
}

/// The attribute object for `tag` (0xGGGGEEEE) at the top level of one data set object.
pub fn attr(ds: &Value, tag: u32) -> Option<&Value> {
    ds.as_object()?.get(&tag_key(tag))
}

/// The `Value` array of the attribute `tag` in one data set object.
pub fn values(ds: &Value, tag: u32) -> Option<&Vec<Value>> {
    attr(ds, tag)?.get("Value")?.as_array()
}

/// The `vr` of the attribute `tag` in one data set object.
pub fn vr_of(ds: &Value, tag: u32) -> Option<&str> {
    attr(ds, tag)?.get("vr")?.as_str()
}

/// First value of attribute `tag` as a string: strings as-is, numbers
/// rendered (`12`, `1.5`), PN as its `Alphabetic` component group. `None` if
/// absent, empty, null, or of another type.
pub fn first_string(ds: &Value, tag: u32) -> Option<String> {
    match values(ds, tag)?.first()? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(pn) => pn.get("Alphabetic")?.as_str().map(str::to_string),
        _ => None,
    }
}

fn collect_uris(path: &str, ds: &Value, depth: usize, out: &mut Vec<(String, String)>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Some(obj) = ds.as_object() else { return };
    for (key, attr) in obj {
        let apath = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if let Some(uri) = attr.get("BulkDataURI").and_then(Value::as_str) {
            out.push((apath.clone(), uri.to_string()));
        }
        if attr.get("vr").and_then(Value::as_str) == Some("SQ") {
            if let Some(items) = attr.get("Value").and_then(Value::as_array) {
                for (i, item) in items.iter().enumerate() {
                    collect_uris(&format!("{apath}[{i}]"), item, depth + 1, out);
                }
            }
        }
    }
}

/// All `BulkDataURI` values anywhere in a data set (recursing into sequences),
/// as `(tag path, uri)`; paths look like `7FE00010` or `00400275[0].00420011`.
/// If given the top-level array, paths are prefixed with `[i].`.
pub fn bulk_data_uris(ds: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match ds {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let mut sub = Vec::new();
                collect_uris("", item, 0, &mut sub);
                out.extend(sub.into_iter().map(|(p, u)| (format!("[{i}].{p}"), u)));
            }
        }
        _ => collect_uris("", ds, 0, &mut out),
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A study-level QIDO-RS answer valid under every Annex F rule, shared with the validator's tests.
    pub(crate) fn valid_study() -> Value {
        json!([{
            "00080005": {"vr": "CS", "Value": ["ISO_IR 192"]},
            "00080020": {"vr": "DA", "Value": ["20240131"]},
            "00080061": {"vr": "CS", "Value": ["CT", "MR"]},
            "00080090": {"vr": "PN"},
            "00081190": {"vr": "UR", "Value": ["http://x/studies/1.2.3"]},
            "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^John", "Ideographic": "=", "Phonetic": ""}, null]},
            "00100020": {"vr": "LO", "Value": ["PAT01"]},
            "0020000D": {"vr": "UI", "Value": ["1.2.3"]},
            "00201206": {"vr": "IS", "Value": [2]},
            "00201208": {"vr": "IS", "Value": ["17"]},
            "00280010": {"vr": "US", "Value": [512]},
            "00280030": {"vr": "DS", "Value": [0.5, "0.5"]},
            "00400275": {"vr": "SQ", "Value": [{
                "00080100": {"vr": "SH", "Value": ["X"]},
                "00420011": {"vr": "OB", "BulkDataURI": "http://x/bulk/1"}
            }]},
            "00209165": {"vr": "AT", "Value": ["0020000D", null]},
            "00186060": {"vr": "FL", "Value": [1.5, null, 2]},
            "7FE00010": {"vr": "OW", "BulkDataURI": "http://x/pixels"}
        }])
    }

    #[test]
    fn lookup_helpers() {
        let v = valid_study();
        let ds = &v[0];
        assert_eq!(tag_key(0x0020_000D), "0020000D");
        assert_eq!(parse_tag_key("0020000d"), Some(0x0020_000D));
        assert_eq!(parse_tag_key("0020000"), None);
        assert_eq!(parse_tag_key("+020000D"), None);
        assert_eq!(
            first_string(ds, tags::STUDY_INSTANCE_UID).as_deref(),
            Some("1.2.3")
        );
        assert_eq!(
            first_string(ds, tags::PATIENT_NAME).as_deref(),
            Some("Doe^John")
        );
        assert_eq!(
            first_string(ds, tags::NUMBER_OF_STUDY_RELATED_SERIES).as_deref(),
            Some("2")
        );
        assert_eq!(first_string(ds, 0x0028_0030).as_deref(), Some("0.5"));
        assert_eq!(first_string(ds, tags::REFERRING_PHYSICIAN_NAME), None);
        assert_eq!(
            first_string(ds, tags::STUDY_DATE).as_deref(),
            Some("20240131")
        );
        assert_eq!(first_string(ds, 0x1234_5678), None);
        assert_eq!(first_string(&json!("x"), tags::STUDY_DATE), None);
        assert_eq!(vr_of(ds, tags::MODALITIES_IN_STUDY), Some("CS"));
        assert_eq!(values(ds, tags::MODALITIES_IN_STUDY).map(Vec::len), Some(2));
        assert!(attr(ds, tags::PATIENT_ID).is_some());
        assert_eq!(
            bulk_data_uris(ds),
            vec![
                (
                    "00400275[0].00420011".to_string(),
                    "http://x/bulk/1".to_string()
                ),
                ("7FE00010".to_string(), "http://x/pixels".to_string()),
            ]
        );
        assert_eq!(bulk_data_uris(&v)[1].0, "[0].7FE00010");
    }
}
