use super::*;

const ACTION: &str = "urn:ihe:iti:2007:RetrieveDocumentSet";

fn body() -> &'static str {
    r#"<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:DocumentRequest><xdsb:RepositoryUniqueId>1.2.3</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3.4</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsb:RetrieveDocumentSetRequest>"#
}

#[test]
fn envelope_round_trip() {
    let id = message_id_from(b"seed");
    let xml = envelope(ACTION, &id, Some("http://sut/x?a=1&b=2"), body());
    let env = parse_envelope(xml.as_bytes()).expect("parses");
    assert_eq!(env.version, SoapVersion::Soap12);
    assert_eq!(env.header_position, HeaderPosition::BeforeBody);
    let a = env.addressing.action.expect("action");
    assert_eq!(a.value, ACTION);
    assert!(a.must_understand);
    assert_eq!(env.addressing.message_id.map(|m| m.value), Some(id));
    assert_eq!(
        env.addressing.to.map(|t| t.value).as_deref(),
        Some("http://sut/x?a=1&b=2")
    );
    assert_eq!(
        env.addressing.reply_to.map(|r| r.value).as_deref(),
        Some(WSA_ANONYMOUS)
    );
    let be = env.body_element.expect("body element");
    assert_eq!(be.ns.as_deref(), Some("urn:ihe:iti:xds-b:2007"));
    assert_eq!(be.local, "RetrieveDocumentSetRequest");
    assert_eq!(xml.get(env.body_range.clone()).map(str::trim), Some(body()));
    assert!(env.fault.is_none());
}

#[test]
fn response_envelope_has_relates_to() {
    let xml = response_envelope("urn:x:Response", "urn:uuid:1", "<a xmlns='urn:a'/>");
    let env = parse_envelope(xml.as_bytes()).expect("parses");
    assert_eq!(
        env.addressing.relates_to.map(|r| r.value).as_deref(),
        Some("urn:uuid:1")
    );
}

#[test]
fn message_id_is_uuid_shaped() {
    let id = message_id_from(b"x");
    assert_eq!(id.len(), "urn:uuid:".len() + 36);
    assert_eq!(id.as_bytes()[9 + 14], b'8');
    assert_ne!(id, message_id_from(b"y"));
}

#[test]
fn fault_is_read() {
    let xml = format!(
        r#"<e:Envelope xmlns:e="{NS_SOAP12}"><e:Body><e:Fault><e:Code><e:Value>e:Sender</e:Value><e:Subcode><e:Value>a:ActionNotSupported</e:Value></e:Subcode></e:Code><e:Reason><e:Text xml:lang="en">nope</e:Text></e:Reason></e:Fault></e:Body></e:Envelope>"#
    );
    let env = parse_envelope(xml.as_bytes()).expect("parses");
    let f = env.fault.expect("fault");
    assert_eq!(f.code, "e:Sender");
    assert_eq!(f.subcodes, vec!["a:ActionNotSupported".to_owned()]);
    assert_eq!(f.reason, "nope");
    assert_eq!(env.header_position, HeaderPosition::Absent);
}

#[test]
fn soap11_and_header_order_are_recorded() {
    let xml = format!(r#"<e:Envelope xmlns:e="{NS_SOAP11}"><e:Body/><e:Header/></e:Envelope>"#);
    let env = parse_envelope(xml.as_bytes()).expect("parses");
    assert_eq!(env.version, SoapVersion::Soap11);
    assert_eq!(env.header_position, HeaderPosition::AfterBody);
    assert!(env.body_element.is_none());
}

#[test]
fn not_an_envelope_and_body_count() {
    assert!(matches!(
        parse_envelope(b"<a xmlns='urn:a'/>"),
        Err(SoapError::NotAnEnvelope { .. })
    ));
    let xml = format!(r#"<e:Envelope xmlns:e="{NS_SOAP12}"><e:Header/></e:Envelope>"#);
    assert!(matches!(
        parse_envelope(xml.as_bytes()),
        Err(SoapError::BodyCount { count: 0 })
    ));
}

#[test]
fn doctype_and_entity_bomb_rejected() {
    let bomb = br#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>"#;
    assert!(matches!(
        parse_xml(bomb, &XmlLimits::default()),
        Err(XmlError::DoctypeForbidden { .. })
    ));
    let xxe = br#"<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>"#;
    assert!(matches!(
        parse_xml(xxe, &XmlLimits::default()),
        Err(XmlError::DoctypeForbidden { .. })
    ));
    assert!(matches!(
        parse_xml(b"<a>&x;</a>", &XmlLimits::default()),
        Err(XmlError::UnknownEntity { .. })
    ));
    assert!(matches!(
        parse_xml(b"<a b='&x;'/>", &XmlLimits::default()),
        Err(XmlError::UnknownEntity { .. } | XmlError::Malformed { .. })
    ));
}

#[test]
fn entities_and_char_refs_resolved() {
    let el = parse_xml(
        b"<a v='x&amp;y&#65;'>1&lt;2&#x42;<![CDATA[<z>]]></a>",
        &XmlLimits::default(),
    )
    .expect("parses");
    assert_eq!(el.attr("v"), Some("x&yA"));
    assert_eq!(el.text, "1<2B<z>");
}

#[test]
fn depth_size_and_count_limits() {
    let deep = "<a>".repeat(100) + &"</a>".repeat(100);
    assert!(matches!(
        parse_xml(deep.as_bytes(), &XmlLimits::default()),
        Err(XmlError::TooDeep { .. })
    ));
    let small = XmlLimits {
        max_bytes: 10,
        ..XmlLimits::default()
    };
    assert!(matches!(
        parse_xml(b"<a>0123456789</a>", &small),
        Err(XmlError::TooLarge { .. })
    ));
    let few = XmlLimits {
        max_elements: 2,
        ..XmlLimits::default()
    };
    assert!(matches!(
        parse_xml(b"<a><b/><c/></a>", &few),
        Err(XmlError::TooManyElements { .. })
    ));
}

#[test]
fn invalid_utf8_truncated_and_trailing() {
    assert!(parse_xml(b"<a>\xff\xfe</a>", &XmlLimits::default()).is_err());
    assert!(parse_xml(b"<a\xff/>", &XmlLimits::default()).is_err());
    assert!(matches!(
        parse_xml(b"<a><b>", &XmlLimits::default()),
        Err(XmlError::Truncated { .. } | XmlError::Malformed { .. })
    ));
    assert!(parse_xml(b"<a><b></a>", &XmlLimits::default()).is_err());
    assert!(matches!(
        parse_xml(b"<a/><b/>", &XmlLimits::default()),
        Err(XmlError::TrailingContent { .. })
    ));
    assert!(matches!(
        parse_xml(b"  ", &XmlLimits::default()),
        Err(XmlError::NoRootElement)
    ));
    assert!(parse_xml(b"<p:a/>", &XmlLimits::default()).is_err());
    let env = envelope(ACTION, "urn:uuid:1", None, body());
    for cut in [1, 10, env.len() / 2, env.len() - 3] {
        assert!(parse_envelope(&env.as_bytes()[..cut]).is_err(), "cut {cut}");
    }
}

/// Deterministic mutation run: flipped, inserted and deleted bytes never panic the reader.
#[test]
fn mutated_envelopes_never_panic() {
    let base = envelope(ACTION, "urn:uuid:1", Some("http://x"), body()).into_bytes();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let alphabet = b"<>/=\"'&;:!?[]- \xff\x00ax";
    for _ in 0..3000 {
        let mut m = base.clone();
        for _ in 0..1 + next() % 4 {
            let pos = (next() as usize) % m.len().max(1);
            let byte = alphabet[(next() as usize) % alphabet.len()];
            match next() % 3 {
                0 => m[pos] = byte,
                1 => m.insert(pos, byte),
                _ => {
                    m.remove(pos);
                }
            }
        }
        let _ = parse_envelope(&m);
    }
}

#[test]
fn cid_urls() {
    let cid = "1.urn:uuid:ABC@apache.org";
    let url = cid_url(cid);
    assert_eq!(url, "cid:1.urn%3Auuid%3AABC@apache.org");
    assert_eq!(content_id_of_cid_url(&url).as_deref(), Ok(cid));
    assert_eq!(content_id_of_cid_url("CID:a%41").as_deref(), Ok("aA"));
    assert!(content_id_of_cid_url("http://x").is_err());
    assert!(content_id_of_cid_url("cid:%4").is_err());
    assert!(content_id_of_cid_url("cid:%ff").is_err());
    assert!(content_id_of_cid_url("cid:").is_err());
}

#[test]
fn mtom_round_trip() {
    let cid = "doc1@ihe-harness";
    let body = format!(
        r#"<xdsb:ProvideAndRegisterDocumentSetRequest xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsb:Document id="Document01">{}</xdsb:Document></xdsb:ProvideAndRegisterDocumentSetRequest>"#,
        xop_include(cid)
    );
    let env = envelope(
        "urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b",
        "urn:uuid:1",
        None,
        &body,
    );
    let payload = b"\x00\x01DICM\r\n--not-a-boundary\r\n".to_vec();
    let (ct, bytes) = mtom(&env, &[(cid, "application/dicom", &payload)]);
    assert!(ct.starts_with("multipart/related"));
    assert!(ct.contains("application/xop+xml"));
    assert!(ct.contains("start-info"));
    assert!(ct.contains("ProvideAndRegisterDocumentSet-b"));
    let msg = parse_mtom(&ct, &bytes, &MtomLimits::default()).expect("parses");
    assert_eq!(msg.root, env.as_bytes());
    assert_eq!(msg.root_content_id.as_deref(), Some(ROOT_CONTENT_ID));
    assert_eq!(msg.attachments.len(), 1);
    let env2 = msg.envelope(&XmlLimits::default()).expect("envelope");
    let body_el = env2.body.expect("body");
    let inc = body_el.find(NS_XOP, "Include").expect("include");
    let att = msg
        .resolve(inc.attr("href").unwrap_or(""))
        .expect("resolves");
    assert_eq!(att.data.bytes().map(|b| b.to_vec()), Some(payload));
    assert_eq!(att.content_type.as_deref(), Some("application/dicom"));
}

#[test]
fn mtom_oversize_attachment_is_measured_not_kept() {
    let env = envelope("urn:a", "urn:uuid:1", None, "<a xmlns='urn:a'/>");
    let big = vec![7u8; 10_000];
    let (ct, bytes) = mtom(&env, &[("big@x", "application/octet-stream", &big)]);
    let limits = MtomLimits {
        max_attachment_in_memory: 1000,
        ..MtomLimits::default()
    };
    let msg = parse_mtom(&ct, &bytes, &limits).expect("parses");
    match &msg.attachments[0].data {
        AttachmentData::Oversize { size, blake3 } => {
            assert_eq!(*size, 10_000);
            assert_eq!(blake3, &crate::transport::digest::identity_hex(&big));
        }
        other => panic!("expected oversize, got {other:?}"),
    }
    let tiny_root = MtomLimits {
        max_root_bytes: 10,
        ..MtomLimits::default()
    };
    assert!(matches!(
        parse_mtom(&ct, &bytes, &tiny_root),
        Err(SoapError::RootTooLarge { .. })
    ));
}

#[test]
fn mtom_errors() {
    assert!(matches!(
        parse_mtom("application/soap+xml", b"<a/>", &MtomLimits::default()),
        Err(SoapError::NotMultipartRelated(_))
    ));
    assert!(parse_mtom("multipart/related", b"", &MtomLimits::default()).is_err());
    assert!(matches!(
        parse_mtom(
            "multipart/related; boundary=b; start=\"<nope>\"",
            b"--b\r\nContent-ID: <x>\r\n\r\nhi\r\n--b--\r\n",
            &MtomLimits::default()
        ),
        Err(SoapError::NoRootPart { .. })
    ));
    assert!(matches!(
        parse_mtom(
            "multipart/related; boundary=b",
            b"--b\r\nContent-ID: <x>\r\n\r\nhi",
            &MtomLimits::default()
        ),
        Err(SoapError::Multipart(_))
    ));
    assert!(!is_multipart_related("text/xml"));
    assert!(is_multipart_related("Multipart/Related; boundary=x"));
}
