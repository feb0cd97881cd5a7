//! A recorded Provide and Register Document Set (ITI-41, RAD-68) replayed as new submissions of
//! the same documents for the same patient, so that each replay registers documents the registry
//! has not seen (a second submission of a uniqueId is refused, ITI TF-3 §4.2.4.1,
//! `XDSDuplicateUniqueIdInRegistry`).
//!
//! Each copy gets a new DocumentEntry uniqueId per document, a new SubmissionSet uniqueId, a new
//! wsa:MessageID and new `urn:uuid:` object ids where the recording used them (symbolic ids stay:
//! the registry assigns the UUIDs). A document whose bytes carry its uniqueId (a KOS manifest:
//! XDS-I.b makes the uniqueId its SOP Instance UID, RAD TF-3 §4.68.4.1.2.3.2) gets a new UID of the
//! same length in the bytes too, and its hash slot follows; other documents keep their bytes and
//! hash. The patient, the study and every code stay as recorded: the registry knows them.

use bytes::Bytes;

use crate::model::ebrim::{self as e, Message};

/// The parts of a recorded Provide and Register request and where its identifiers sit.
#[derive(Debug, Clone)]
pub struct SubmissionTemplate {
    /// The boundary of the recorded body (the recorded Content-Type names it).
    boundary: String,
    /// Each part: its headers and bytes; the first is the SOAP envelope.
    parts: Vec<(Vec<(String, String)>, Bytes)>,
    /// The envelope as text.
    root: String,
    /// The documents sent as attachments.
    documents: Vec<Doc>,
    /// The SubmissionSet uniqueId.
    submission_set: String,
    /// The wsa:MessageID, when there is one.
    message_id: Option<String>,
    /// The `urn:uuid:` ids the recording gave its objects.
    object_ids: Vec<String>,
}

#[derive(Debug, Clone)]
struct Doc {
    /// Index of its part.
    part: usize,
    /// Its DocumentEntry uniqueId.
    unique_id: String,
    /// Its hash slot, when the metadata has one.
    hash: Option<String>,
    /// Whether its bytes carry the uniqueId (a KOS manifest's SOP Instance UID).
    in_bytes: bool,
}

impl SubmissionTemplate {
    /// The template of a recorded request body, or `None` when it is no MTOM Provide and Register
    /// request whose documents are all attachments, or when a uniqueId the bytes carry has too
    /// few digits of its own to draw new ones from.
    pub fn parse(content_type: &str, body: &[u8]) -> Option<SubmissionTemplate> {
        let st = super::StoreTemplate::parse(content_type, body)?;
        let root = String::from_utf8(st.parts.first()?.1.to_vec()).ok()?;
        let env = crate::transport::soap::parse_envelope(root.as_bytes()).ok()?;
        let Message::ProvideAndRegister(pnr) = e::parse_message(env.body.as_ref()?).ok()? else {
            return None;
        };
        let objects = &pnr.submit.objects;
        let mut documents = Vec::new();
        for d in &pnr.documents {
            let e::DocumentContent::Xop { href } = &d.content else {
                return None;
            };
            let cid = href.strip_prefix("cid:").unwrap_or(href);
            let cid = percent_decode(cid);
            let part = st.parts.iter().position(|(h, _)| {
                crate::evidence::find_header(h, "content-id")
                    .map(|v| v.trim().trim_start_matches('<').trim_end_matches('>'))
                    == Some(cid.as_str())
            })?;
            let entry = objects
                .extrinsic_objects
                .iter()
                .find(|o| o.id.is_some() && o.id == d.id)?;
            let unique_id = entry.identifier(e::DE_UNIQUE_ID)?;
            let in_bytes = memchr::memmem::find(&st.parts[part].1, unique_id.as_bytes()).is_some();
            if in_bytes && same_length_uid(&unique_id, "probe").is_none() {
                return None;
            }
            documents.push(Doc {
                part,
                unique_id,
                hash: e::slot_first(&entry.slots, "hash"),
                in_bytes,
            });
        }
        let submission_set = objects
            .registry_packages
            .iter()
            .find_map(|p| p.identifier(e::SS_UNIQUE_ID))?;
        let mut object_ids = Vec::new();
        let mut rest = root.as_str();
        while let Some(at) = rest.find(" id=\"urn:uuid:") {
            let from = at + " id=\"".len();
            let Some(len) = rest[from..].find('"') else {
                break;
            };
            let id = &rest[from..from + len];
            if id.len() > "urn:uuid:".len() && !object_ids.iter().any(|o: &String| o == id) {
                object_ids.push(id.to_string());
            }
            rest = &rest[from + len..];
        }
        Some(SubmissionTemplate {
            boundary: st.boundary,
            parts: st.parts,
            message_id: env
                .addressing
                .message_id
                .map(|m| m.value)
                .filter(|m| !m.trim().is_empty()),
            root,
            documents,
            submission_set,
            object_ids,
        })
    }

    /// The body of one copy, its new identifiers drawn from `seed`.
    pub fn copy(&self, seed: &str) -> Bytes {
        let fresh = |what: &str| crate::model::kos::seeded_uid(&format!("{seed}/{what}"));
        let mut root = self.root.clone();
        let mut parts: Vec<Bytes> = self.parts.iter().map(|(_, b)| b.clone()).collect();
        for (i, d) in self.documents.iter().enumerate() {
            if d.in_bytes {
                let Some(new) = same_length_uid(&d.unique_id, &format!("{seed}/{i}")) else {
                    continue;
                };
                let bytes = replace_all(&parts[d.part], d.unique_id.as_bytes(), new.as_bytes());
                if let Some(old) = &d.hash {
                    root = replace_token(&root, old, &e::document_hash(&bytes));
                }
                parts[d.part] = Bytes::from(bytes);
                root = replace_token(&root, &d.unique_id, &new);
            } else {
                root = replace_token(&root, &d.unique_id, &fresh(&format!("doc/{i}")));
            }
        }
        root = replace_token(&root, &self.submission_set, &fresh("submission-set"));
        if let Some(m) = &self.message_id {
            let new = format!(
                "urn:uuid:{}",
                crate::model::mhd_bundle::uuid_from(&format!("{seed}/message"))
            );
            root = root.replace(m.as_str(), &new);
        }
        for (i, id) in self.object_ids.iter().enumerate() {
            let new = format!(
                "urn:uuid:{}",
                crate::model::mhd_bundle::uuid_from(&format!("{seed}/object/{i}"))
            );
            root = root.replace(id.as_str(), &new);
        }
        parts[0] = Bytes::from(root);
        super::assemble(&self.boundary, &self.parts, &parts)
    }
}

/// A new UID of the length of `old` drawn from `seed`: `old` up to its last component, then as
/// many new digits as that component had (no leading zero). `None` when the last component has
/// fewer than 8 digits: too few for copies not to meet.
pub fn same_length_uid(old: &str, seed: &str) -> Option<String> {
    let last = old.rfind('.').map_or(0, |i| i + 1);
    let tail = old.len() - last;
    if tail < 8 || !old[last..].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut digits = String::new();
    let mut round = 0;
    while digits.len() < tail {
        let u = crate::model::kos::seeded_uid(&format!("{seed}/{old}/{round}"));
        digits.extend(u.chars().skip("2.25.".len()));
        round += 1;
    }
    digits.truncate(tail);
    if digits.starts_with('0') {
        digits.replace_range(..1, "1");
    }
    Some(format!("{}{digits}", &old[..last]))
}

/// `text` with every occurrence of `old` that is a whole token (not next to a digit, letter or
/// dot) replaced by `new`.
fn replace_token(text: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let part_of = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.');
    while let Some(at) = rest.find(old) {
        let before = rest[..at]
            .chars()
            .next_back()
            .or_else(|| out.chars().next_back());
        let after = rest[at + old.len()..].chars().next();
        out.push_str(&rest[..at]);
        let whole = !part_of(before) && !part_of(after);
        out.push_str(if whole { new } else { old });
        rest = &rest[at + old.len()..];
    }
    out.push_str(rest);
    out
}

/// `bytes` with every occurrence of `old` that is a whole UID (not next to a digit or a dot)
/// replaced by `new` (of the same length here).
fn replace_all(bytes: &[u8], old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    if old.is_empty() {
        out.extend_from_slice(bytes);
        return out;
    }
    let part_of = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_digit() || *b == b'.');
    let mut rest = bytes;
    while let Some(at) = memchr::memmem::find(rest, old) {
        let before = if at > 0 { rest.get(at - 1) } else { out.last() };
        let whole = !part_of(before) && !part_of(rest.get(at + old.len()));
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(if whole { new } else { old });
        rest = &rest[at + old.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// `%xx` escapes of a `cid:` URL decoded (RFC 2392).
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a RegistryResponse (plain or in an MTOM answer) says Success; otherwise the first
/// error code it names, or what it says instead.
pub fn refused(body: &[u8]) -> Option<String> {
    const SUCCESS: &[u8] = b"urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
    if memchr::memmem::find(body, SUCCESS).is_some() {
        return None;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let code = text
        .split("errorCode=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .map(str::to_string);
    Some(match code {
        Some(c) => format!("the registry answered Failure ({c})"),
        None => "the answer is no RegistryResponse with status Success".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_replaced_whole_only() {
        assert_eq!(
            replace_token("value=\"1.2.3\" other=\"1.2.3.4\" x1.2.3", "1.2.3", "9.9"),
            "value=\"9.9\" other=\"1.2.3.4\" x1.2.3"
        );
        assert_eq!(replace_token("a=\"\"", "", "9"), "a=\"\"");
        assert_eq!(
            replace_all(b"\x001.2.3\x00 1.2.3.4 1.2.3", b"1.2.3", b"9.9.9"),
            b"\x009.9.9\x00 1.2.3.4 9.9.9"
        );
    }

    #[test]
    fn same_length_uids_differ_by_seed_and_keep_the_root() {
        let old = "2.25.123456789012345678901234567890";
        let a = same_length_uid(old, "a").unwrap();
        let b = same_length_uid(old, "b").unwrap();
        assert_eq!((a.len(), b.len()), (old.len(), old.len()));
        assert!(a.starts_with("2.25.") && a != b && a != old);
        assert!(crate::model::kos::check_uid(&a).is_ok());
        assert_eq!(same_length_uid("1.2.3.1", "a"), None);
    }

    #[test]
    fn a_failure_response_is_refused_with_its_code() {
        let ok = br#"<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>"#;
        assert_eq!(refused(ok), None);
        let bad = br#"<rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure"><rs:RegistryErrorList><rs:RegistryError errorCode="XDSDuplicateUniqueIdInRegistry" codeContext="x" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error"/></rs:RegistryErrorList></rs:RegistryResponse>"#;
        assert_eq!(
            refused(bad).as_deref(),
            Some("the registry answered Failure (XDSDuplicateUniqueIdInRegistry)")
        );
        assert!(refused(b"<html>busy</html>").is_some());
    }
}
