//! DICOM JSON Model (PS3.18 Annex F) validation (checks::dicomweb::json) and accessors (model::dicom_json) on any JSON.
#![no_main]

use ihe_harness::model::dicom_json;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn accessors(ds: &Value) {
    if let Some(obj) = ds.as_object() {
        for key in obj.keys() {
            if let Some(tag) = dicom_json::parse_tag_key(key) {
                let _ = dicom_json::tag_key(tag);
                let _ = dicom_json::attr(ds, tag);
                let _ = dicom_json::values(ds, tag);
                let _ = dicom_json::vr_of(ds, tag);
                let _ = dicom_json::first_string(ds, tag);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let _ = ihe_harness::checks::dicomweb::json::validate_dataset_array(&v);
    let _ = dicom_json::bulk_data_uris(&v);
    match &v {
        Value::Array(items) => items.iter().for_each(accessors),
        other => accessors(other),
    }
});
