//! KOS-19: the MADO Display URI private element (MADO Rev 1.1 §6.X.2.13). Trial Implementation
//! manifests carry it as a private element of creator `IHE_MADO_PRIVATE` in group 000D, value at
//! (000D,xx01) with VR UR, until CP-2595 assigns a public tag. The parsed [`kos::Manifest`] keeps
//! no private elements, so this rule is judged on the file.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use dicom_core::{Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};

use crate::checks::kos::rules as kos_rules;
use crate::checks::rule::Violation;
use crate::checks::Level;
use crate::model::kos;

/// Private creator of the MADO Display URI.
pub const MADO_PRIVATE_CREATOR: &str = "IHE_MADO_PRIVATE";

/// KOS-19 violations of a KOS file: every `IHE_MADO_PRIVATE` block of group 000D (at the root or
/// in a Current Requested Procedure Evidence item) must hold its Display URI at (000D,xx01) with VR
/// UR and an absolute http(s) URL. Unreadable files give no violation here (KOS-01 reports them).
pub fn display_uri_violations(bytes: &[u8]) -> Vec<Violation> {
    if kos::parse(bytes).is_err() {
        return Vec::new();
    }
    let body = match bytes.get(128..132) {
        Some(b"DICM") => &bytes[128..],
        _ => bytes,
    };
    let read = catch_unwind(AssertUnwindSafe(|| {
        OpenFileOptions::new()
            .read_preamble(ReadPreamble::Never)
            .from_reader(Cursor::new(body))
    }));
    let Ok(Ok(file)) = read else {
        return Vec::new();
    };
    let obj: &InMemDicomObject = &file;
    let mut messages = Vec::new();
    check_object(obj, "data set", &mut messages);
    if let Some(items) = obj
        .get(tags::CURRENT_REQUESTED_PROCEDURE_EVIDENCE_SEQUENCE)
        .and_then(|e| e.items())
    {
        for (n, item) in items.iter().enumerate() {
            check_object(item, &format!("evidence item {}", n + 1), &mut messages);
        }
    }
    let Some(rule) = kos_rules::rule("KOS-19") else {
        return Vec::new();
    };
    messages
        .into_iter()
        .map(|message| Violation {
            rule: rule.id,
            requirement: rule.requirement,
            level: rule.mado.unwrap_or(Level::Should),
            message,
            location: String::new(),
        })
        .collect()
}

fn check_object(obj: &InMemDicomObject, place: &str, out: &mut Vec<String>) {
    for creator in obj.iter().filter(|e| {
        let t = e.header().tag;
        t.group() == 0x000D && (0x0010..=0x00FF).contains(&t.element())
    }) {
        let value = creator
            .to_str()
            .map(|v| v.trim().to_string())
            .unwrap_or_default();
        if value != MADO_PRIVATE_CREATOR {
            continue;
        }
        let block = creator.header().tag.element();
        let tag = Tag(0x000D, (block << 8) | 0x01);
        match obj.get(tag) {
            None => out.push(format!(
                "{place}: private creator {MADO_PRIVATE_CREATOR} at {} has no Display URI at {tag}",
                creator.header().tag
            )),
            Some(e) => {
                let url = e.to_str().map(|v| v.trim().to_string()).unwrap_or_default();
                if e.vr() != VR::UR {
                    out.push(format!(
                        "{place}: Display URI {tag} has VR {}, expected UR",
                        e.vr()
                    ));
                }
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    out.push(format!(
                        "{place}: Display URI {} is not an absolute http(s) URL",
                        crate::evidence::quote(&url)
                    ));
                }
            }
        }
    }
}
