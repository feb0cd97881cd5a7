//! Reading ebRIM / XDS.b messages from XML into the typed messages ([`parse_message`]). Parsing
//! never judges: a missing attribute becomes `None`, and the order of a RegistryObject's children
//! is noted rather than refused, so that `checks::xds::rules` can report each defect.

use base64::Engine as _;

use super::messages::*;
use super::objects::*;
use super::vocabulary::*;
use crate::transport::soap::{parse_xml, XmlElement, XmlError, XmlLimits, NS_XOP};

/// Errors of ebRIM parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EbrimError {
    /// The XML could not be read.
    #[error("ebXML message is not acceptable XML: {0}")]
    Xml(#[from] XmlError),
    /// The root element is none of the messages this module knows.
    #[error("unexpected message element {{{ns}}}{local}")]
    UnexpectedElement {
        /// Namespace URI.
        ns: String,
        /// Local name.
        local: String,
    },
    /// A required child element is missing so the message cannot be read at all.
    #[error("{parent} has no {child} element")]
    MissingElement {
        /// The parent element.
        parent: &'static str,
        /// The missing child.
        child: &'static str,
    },
}

fn attr(el: &XmlElement, name: &str) -> Option<String> {
    el.attr(name).map(str::to_owned)
}

fn localized(el: Option<&XmlElement>) -> Vec<LocalizedString> {
    el.map(|e| {
        e.children_named(NS_RIM, "LocalizedString")
            .map(|l| LocalizedString {
                value: l.attr("value").unwrap_or("").to_owned(),
                lang: l
                    .attr_ns("http://www.w3.org/XML/1998/namespace", "lang")
                    .map(str::to_owned),
                charset: attr(l, "charset"),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn parse_slot(el: &XmlElement) -> Slot {
    Slot {
        name: el.attr("name").unwrap_or("").to_owned(),
        values: el
            .children_named(NS_RIM, "ValueList")
            .flat_map(|vl| vl.children_named(NS_RIM, "Value"))
            .map(|v| v.text.clone())
            .collect(),
    }
}

fn slots(el: &XmlElement) -> Vec<Slot> {
    el.children_named(NS_RIM, "Slot").map(parse_slot).collect()
}

/// Rank of a child in the ebRIM 3.0 RegistryObjectType sequence; `None` for others.
fn schema_rank(local: &str) -> Option<u8> {
    match local {
        "Slot" => Some(0),
        "Name" => Some(1),
        "Description" => Some(2),
        "VersionInfo" => Some(3),
        "ContentVersionInfo" => Some(4),
        "Classification" => Some(5),
        "ExternalIdentifier" => Some(6),
        _ => None,
    }
}

fn order_issues(el: &XmlElement) -> Vec<String> {
    let mut out = Vec::new();
    let mut max: Option<(u8, &str)> = None;
    for c in el
        .children
        .iter()
        .filter(|c| c.ns.as_deref() == Some(NS_RIM))
    {
        let Some(rank) = schema_rank(&c.local) else {
            continue;
        };
        match max {
            Some((m, name)) if rank < m => {
                let issue = format!("{} after {}", c.local, name);
                if !out.contains(&issue) {
                    out.push(issue);
                }
            }
            Some((m, _)) if rank == m => {}
            _ => max = Some((rank, &c.local)),
        }
    }
    out
}

fn parse_classification(el: &XmlElement) -> Classification {
    Classification {
        id: attr(el, "id"),
        scheme: attr(el, "classificationScheme"),
        node: attr(el, "classificationNode"),
        classified_object: attr(el, "classifiedObject"),
        node_representation: attr(el, "nodeRepresentation"),
        slots: slots(el),
        name: localized(el.child(NS_RIM, "Name")),
    }
}

fn parse_external_identifier(el: &XmlElement) -> ExternalIdentifier {
    ExternalIdentifier {
        id: attr(el, "id"),
        scheme: attr(el, "identificationScheme"),
        registry_object: attr(el, "registryObject"),
        value: attr(el, "value"),
        name: localized(el.child(NS_RIM, "Name")),
    }
}

fn parse_registry_object(el: &XmlElement, kind: ObjectKind) -> RegistryObject {
    RegistryObject {
        kind,
        id: attr(el, "id"),
        lid: attr(el, "lid"),
        object_type: attr(el, "objectType"),
        status: attr(el, "status"),
        home: attr(el, "home"),
        mime_type: attr(el, "mimeType"),
        slots: slots(el),
        name: localized(el.child(NS_RIM, "Name")),
        description: localized(el.child(NS_RIM, "Description")),
        classifications: el
            .children_named(NS_RIM, "Classification")
            .map(parse_classification)
            .collect(),
        external_identifiers: el
            .children_named(NS_RIM, "ExternalIdentifier")
            .map(parse_external_identifier)
            .collect(),
        order_issues: order_issues(el),
    }
}

/// Read a `rim:RegistryObjectList` element.
pub fn parse_registry_object_list(el: &XmlElement) -> RegistryObjectList {
    let mut list = RegistryObjectList::default();
    for c in &el.children {
        if c.ns.as_deref() != Some(NS_RIM) {
            list.other.push(c.local.clone());
            continue;
        }
        match c.local.as_str() {
            "ExtrinsicObject" => list
                .extrinsic_objects
                .push(parse_registry_object(c, ObjectKind::ExtrinsicObject)),
            "RegistryPackage" => list
                .registry_packages
                .push(parse_registry_object(c, ObjectKind::RegistryPackage)),
            "Classification" => list.classifications.push(parse_classification(c)),
            "ExternalIdentifier" => list.external_identifiers.push(parse_external_identifier(c)),
            "Association" => list.associations.push(Association {
                id: attr(c, "id"),
                association_type: attr(c, "associationType"),
                source_object: attr(c, "sourceObject"),
                target_object: attr(c, "targetObject"),
                status: attr(c, "status"),
                slots: slots(c),
                order_issues: order_issues(c),
            }),
            "ObjectRef" => list.object_refs.push(ObjectRef {
                id: attr(c, "id"),
                home: attr(c, "home"),
            }),
            other => list.other.push(other.to_owned()),
        }
    }
    list
}

fn parse_submit_objects(el: &XmlElement) -> SubmitObjectsRequest {
    SubmitObjectsRequest {
        slots: slots(el),
        objects: el
            .child(NS_RIM, "RegistryObjectList")
            .map(parse_registry_object_list)
            .unwrap_or_default(),
    }
}

fn document_content(el: &XmlElement) -> DocumentContent {
    if let Some(inc) = el.child(NS_XOP, "Include") {
        return DocumentContent::Xop {
            href: inc.attr("href").unwrap_or("").to_owned(),
        };
    }
    let text: String = el
        .text
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    match base64::engine::general_purpose::STANDARD.decode(text.as_bytes()) {
        Ok(bytes) => DocumentContent::Inline(bytes),
        Err(_) => DocumentContent::InvalidBase64(text.chars().take(200).collect()),
    }
}

fn parse_registry_response(el: &XmlElement) -> RegistryResponse {
    let list = el.child(NS_RS, "RegistryErrorList");
    RegistryResponse {
        status: attr(el, "status"),
        has_error_list: list.is_some(),
        errors: list
            .map(|l| {
                l.children_named(NS_RS, "RegistryError")
                    .map(|e| RegistryError {
                        error_code: attr(e, "errorCode"),
                        code_context: attr(e, "codeContext"),
                        location: attr(e, "location"),
                        severity: attr(e, "severity"),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    }
}

fn child_text(el: &XmlElement, local: &str) -> Option<String> {
    el.child_text(NS_XDSB, local).map(str::to_owned)
}

fn parse_document_request(el: &XmlElement) -> DocumentRequest {
    DocumentRequest {
        home_community_id: child_text(el, "HomeCommunityId"),
        repository_unique_id: child_text(el, "RepositoryUniqueId"),
        document_unique_id: child_text(el, "DocumentUniqueId"),
    }
}

/// Read a message from its element (a SOAP Body's first element or a bare document root).
pub fn parse_message(el: &XmlElement) -> Result<Message, EbrimError> {
    let ns = el.ns.as_deref().unwrap_or("");
    match (ns, el.local.as_str()) {
        (NS_XDSB, "ProvideAndRegisterDocumentSetRequest") => {
            let submit =
                el.child(NS_LCM, "SubmitObjectsRequest")
                    .ok_or(EbrimError::MissingElement {
                        parent: "ProvideAndRegisterDocumentSetRequest",
                        child: "SubmitObjectsRequest",
                    })?;
            Ok(Message::ProvideAndRegister(ProvideAndRegisterRequest {
                submit: parse_submit_objects(submit),
                documents: el
                    .children_named(NS_XDSB, "Document")
                    .map(|d| Document {
                        id: attr(d, "id"),
                        content: document_content(d),
                    })
                    .collect(),
            }))
        }
        (NS_LCM, "SubmitObjectsRequest") => Ok(Message::SubmitObjects(parse_submit_objects(el))),
        (NS_QUERY, "AdhocQueryRequest") => {
            let opt = el.child(NS_QUERY, "ResponseOption");
            let q = el.child(NS_RIM, "AdhocQuery");
            Ok(Message::AdhocQueryRequest(AdhocQueryRequest {
                return_type: opt.and_then(|o| attr(o, "returnType")),
                return_composed_objects: opt.and_then(|o| attr(o, "returnComposedObjects")),
                query_id: q.and_then(|q| attr(q, "id")),
                home: q.and_then(|q| attr(q, "home")),
                params: q
                    .map(|q| {
                        slots(q)
                            .into_iter()
                            .map(|s| QueryParam {
                                name: s.name,
                                values: s.values,
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }))
        }
        (NS_QUERY, "AdhocQueryResponse") => {
            let list = el.child(NS_RIM, "RegistryObjectList");
            Ok(Message::AdhocQueryResponse(AdhocQueryResponse {
                response: parse_registry_response(el),
                objects: list.map(parse_registry_object_list).unwrap_or_default(),
                has_object_list: list.is_some(),
            }))
        }
        (NS_RS, "RegistryResponse") => Ok(Message::RegistryResponse(parse_registry_response(el))),
        (NS_XDSB, "RetrieveDocumentSetRequest") => Ok(Message::RetrieveDocumentSetRequest(
            RetrieveDocumentSetRequest {
                documents: el
                    .children_named(NS_XDSB, "DocumentRequest")
                    .map(parse_document_request)
                    .collect(),
            },
        )),
        (NS_XDSB, "RetrieveDocumentSetResponse") => Ok(Message::RetrieveDocumentSetResponse(
            RetrieveDocumentSetResponse {
                registry_response: el
                    .child(NS_RS, "RegistryResponse")
                    .map(parse_registry_response),
                documents: el
                    .children_named(NS_XDSB, "DocumentResponse")
                    .map(|d| DocumentResponse {
                        home_community_id: child_text(d, "HomeCommunityId"),
                        repository_unique_id: child_text(d, "RepositoryUniqueId"),
                        document_unique_id: child_text(d, "DocumentUniqueId"),
                        new_repository_unique_id: child_text(d, "NewRepositoryUniqueId"),
                        new_document_unique_id: child_text(d, "NewDocumentUniqueId"),
                        mime_type: child_text(d, "mimeType"),
                        document: d.child(NS_XDSB, "Document").map(document_content),
                    })
                    .collect(),
            },
        )),
        (NS_XDSI, "RetrieveImagingDocumentSetRequest") => Ok(
            Message::RetrieveImagingDocumentSetRequest(RetrieveImagingDocumentSetRequest {
                studies: el
                    .children_named(NS_XDSI, "StudyRequest")
                    .map(|s| StudyRequest {
                        study_instance_uid: attr(s, "studyInstanceUID"),
                        series: s
                            .children_named(NS_XDSI, "SeriesRequest")
                            .map(|se| SeriesRequest {
                                series_instance_uid: attr(se, "seriesInstanceUID"),
                                documents: se
                                    .children_named(NS_XDSB, "DocumentRequest")
                                    .map(parse_document_request)
                                    .collect(),
                            })
                            .collect(),
                    })
                    .collect(),
                transfer_syntaxes: el.child(NS_XDSI, "TransferSyntaxUIDList").map(|l| {
                    l.children_named(NS_XDSI, "TransferSyntaxUID")
                        .map(|t| t.text_trimmed().to_owned())
                        .collect()
                }),
            }),
        ),
        _ => Err(EbrimError::UnexpectedElement {
            ns: ns.to_owned(),
            local: el.local.clone(),
        }),
    }
}

/// Parse a bare ebXML document (no SOAP envelope) with default limits.
pub fn parse_message_bytes(xml: &[u8]) -> Result<Message, EbrimError> {
    let root = parse_xml(xml, &XmlLimits::default())?;
    parse_message(&root)
}

/// Every `xop:Include/@href` in a message element (for XOP reference checks).
pub fn xop_hrefs(el: &XmlElement) -> Vec<String> {
    let mut found = Vec::new();
    el.find_all(NS_XOP, "Include", &mut found);
    found
        .into_iter()
        .map(|i| i.attr("href").unwrap_or("").to_owned())
        .collect()
}
