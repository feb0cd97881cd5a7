//! Builders for the requests the harness sends: ITI-18 `query:AdhocQueryRequest`, ITI-43
//! `xdsb:RetrieveDocumentSetRequest`, RAD-69 `xdsi:RetrieveImagingDocumentSetRequest`, and
//! `rs:RegistryResponse`, with the small XML writing helpers that the writers of
//! [`super::write`] share.

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::messages::*;
use super::syntax::*;
use super::vocabulary::*;

pub(crate) type WResult = std::io::Result<()>;

fn start(w: &mut Writer<Vec<u8>>, name: &str, attrs: &[(&str, &str)]) -> WResult {
    let mut s = BytesStart::new(name);
    for a in attrs {
        s.push_attribute(*a);
    }
    w.write_event(Event::Start(s))
}

pub(crate) fn end(w: &mut Writer<Vec<u8>>, name: &str) -> WResult {
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn text_el(w: &mut Writer<Vec<u8>>, name: &str, text: &str) -> WResult {
    start(w, name, &[])?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    end(w, name)
}

pub(crate) fn finish(r: std::io::Result<Vec<u8>>) -> String {
    // Writing into a Vec cannot fail.
    r.ok()
        .and_then(|v| String::from_utf8(v).ok())
        .unwrap_or_default()
}

impl AdhocQueryRequest {
    /// A FindDocuments query (ITI TF-2 3.18.4.1.2.3.7.1) for `patient_id` (CX) with the given
    /// status URNs and, optionally, formatCodes as `(code, scheme)` pairs (SQ-10: XDS-I.b
    /// manifests are found with the KOS formatCode).
    pub fn find_documents(
        patient_id: &str,
        statuses: &[&str],
        format_codes: &[(&str, &str)],
        return_type: &str,
    ) -> AdhocQueryRequest {
        let mut params = vec![
            QueryParam {
                name: "$XDSDocumentEntryPatientId".into(),
                values: vec![quote(patient_id)],
            },
            QueryParam {
                name: "$XDSDocumentEntryStatus".into(),
                values: vec![quote_list(statuses)],
            },
        ];
        if !format_codes.is_empty() {
            let codes: Vec<String> = format_codes.iter().map(|(c, s)| query_code(c, s)).collect();
            params.push(QueryParam {
                name: "$XDSDocumentEntryFormatCode".into(),
                values: vec![quote_list(&codes)],
            });
        }
        AdhocQueryRequest {
            return_type: Some(return_type.into()),
            return_composed_objects: Some("true".into()),
            query_id: Some(SQ_FIND_DOCUMENTS.into()),
            home: None,
            params,
        }
    }

    /// A GetDocuments query by DocumentEntry uniqueIds.
    pub fn get_documents_by_unique_id(unique_ids: &[&str], return_type: &str) -> AdhocQueryRequest {
        AdhocQueryRequest {
            return_type: Some(return_type.into()),
            return_composed_objects: Some("true".into()),
            query_id: Some(SQ_GET_DOCUMENTS.into()),
            home: None,
            params: vec![QueryParam {
                name: "$XDSDocumentEntryUniqueId".into(),
                values: vec![quote_list(unique_ids)],
            }],
        }
    }

    /// A GetDocuments query by entryUUIDs.
    pub fn get_documents_by_uuid(uuids: &[&str], return_type: &str) -> AdhocQueryRequest {
        AdhocQueryRequest {
            return_type: Some(return_type.into()),
            return_composed_objects: Some("true".into()),
            query_id: Some(SQ_GET_DOCUMENTS.into()),
            home: None,
            params: vec![QueryParam {
                name: "$XDSDocumentEntryEntryUUID".into(),
                values: vec![quote_list(uuids)],
            }],
        }
    }

    /// Serialise as a `query:AdhocQueryRequest` element (values written as given).
    pub fn to_xml(&self) -> String {
        let build = || -> std::io::Result<Vec<u8>> {
            let mut w = Writer::new(Vec::new());
            start(
                &mut w,
                "query:AdhocQueryRequest",
                &[("xmlns:query", NS_QUERY), ("xmlns:rim", NS_RIM)],
            )?;
            let mut opt = BytesStart::new("query:ResponseOption");
            opt.push_attribute((
                "returnComposedObjects",
                self.return_composed_objects.as_deref().unwrap_or("true"),
            ));
            opt.push_attribute((
                "returnType",
                self.return_type.as_deref().unwrap_or("LeafClass"),
            ));
            w.write_event(Event::Empty(opt))?;
            let mut aq = vec![("id", self.query_id.as_deref().unwrap_or(""))];
            if let Some(h) = self.home.as_deref() {
                aq.push(("home", h));
            }
            start(&mut w, "rim:AdhocQuery", &aq)?;
            for p in &self.params {
                start(&mut w, "rim:Slot", &[("name", p.name.as_str())])?;
                start(&mut w, "rim:ValueList", &[])?;
                for v in &p.values {
                    text_el(&mut w, "rim:Value", v)?;
                }
                end(&mut w, "rim:ValueList")?;
                end(&mut w, "rim:Slot")?;
            }
            end(&mut w, "rim:AdhocQuery")?;
            end(&mut w, "query:AdhocQueryRequest")?;
            Ok(w.into_inner())
        };
        finish(build())
    }
}

fn write_document_request(w: &mut Writer<Vec<u8>>, d: &DocumentRequest) -> WResult {
    start(w, "xdsb:DocumentRequest", &[])?;
    if let Some(h) = d.home_community_id.as_deref() {
        text_el(w, "xdsb:HomeCommunityId", h)?;
    }
    text_el(
        w,
        "xdsb:RepositoryUniqueId",
        d.repository_unique_id.as_deref().unwrap_or(""),
    )?;
    text_el(
        w,
        "xdsb:DocumentUniqueId",
        d.document_unique_id.as_deref().unwrap_or(""),
    )?;
    end(w, "xdsb:DocumentRequest")
}

impl RetrieveDocumentSetRequest {
    /// Serialise as an `xdsb:RetrieveDocumentSetRequest` element.
    pub fn to_xml(&self) -> String {
        let build = || -> std::io::Result<Vec<u8>> {
            let mut w = Writer::new(Vec::new());
            start(
                &mut w,
                "xdsb:RetrieveDocumentSetRequest",
                &[("xmlns:xdsb", NS_XDSB)],
            )?;
            for d in &self.documents {
                write_document_request(&mut w, d)?;
            }
            end(&mut w, "xdsb:RetrieveDocumentSetRequest")?;
            Ok(w.into_inner())
        };
        finish(build())
    }
}

impl RetrieveImagingDocumentSetRequest {
    /// Serialise as an `xdsi:RetrieveImagingDocumentSetRequest` element.
    pub fn to_xml(&self) -> String {
        let build = || -> std::io::Result<Vec<u8>> {
            let mut w = Writer::new(Vec::new());
            start(
                &mut w,
                "xdsi:RetrieveImagingDocumentSetRequest",
                &[("xmlns:xdsi", NS_XDSI), ("xmlns:xdsb", NS_XDSB)],
            )?;
            for s in &self.studies {
                start(
                    &mut w,
                    "xdsi:StudyRequest",
                    &[(
                        "studyInstanceUID",
                        s.study_instance_uid.as_deref().unwrap_or(""),
                    )],
                )?;
                for se in &s.series {
                    start(
                        &mut w,
                        "xdsi:SeriesRequest",
                        &[(
                            "seriesInstanceUID",
                            se.series_instance_uid.as_deref().unwrap_or(""),
                        )],
                    )?;
                    for d in &se.documents {
                        write_document_request(&mut w, d)?;
                    }
                    end(&mut w, "xdsi:SeriesRequest")?;
                }
                end(&mut w, "xdsi:StudyRequest")?;
            }
            start(&mut w, "xdsi:TransferSyntaxUIDList", &[])?;
            for t in self.transfer_syntaxes.as_deref().unwrap_or(&[]) {
                text_el(&mut w, "xdsi:TransferSyntaxUID", t)?;
            }
            end(&mut w, "xdsi:TransferSyntaxUIDList")?;
            end(&mut w, "xdsi:RetrieveImagingDocumentSetRequest")?;
            Ok(w.into_inner())
        };
        finish(build())
    }
}

impl RegistryResponse {
    /// Serialise as an `rs:RegistryResponse` element (for simulated responders).
    pub fn to_xml(&self) -> String {
        let build = || -> std::io::Result<Vec<u8>> {
            let mut w = Writer::new(Vec::new());
            start(
                &mut w,
                "rs:RegistryResponse",
                &[
                    ("xmlns:rs", NS_RS),
                    ("status", self.status.as_deref().unwrap_or(RESPONSE_SUCCESS)),
                ],
            )?;
            if self.has_error_list || !self.errors.is_empty() {
                start(&mut w, "rs:RegistryErrorList", &[])?;
                for e in &self.errors {
                    let mut el = BytesStart::new("rs:RegistryError");
                    for (k, v) in [
                        ("errorCode", &e.error_code),
                        ("codeContext", &e.code_context),
                        ("location", &e.location),
                        ("severity", &e.severity),
                    ] {
                        if let Some(v) = v.as_deref() {
                            el.push_attribute((k, v));
                        }
                    }
                    w.write_event(Event::Empty(el))?;
                }
                end(&mut w, "rs:RegistryErrorList")?;
            }
            end(&mut w, "rs:RegistryResponse")?;
            Ok(w.into_inner())
        };
        finish(build())
    }
}
