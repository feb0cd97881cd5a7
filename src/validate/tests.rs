//! Type detection, verdicts, the Gazelle mapping, JUnit and exit codes of `validate`, on small
//! hand-made inputs (the corpus is judged by `tests/suite/validate_corpus.rs`).

use super::*;

const SQ_REQ: &str = r#"<query:AdhocQueryRequest xmlns:query="urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">
  <query:ResponseOption returnType="LeafClass" returnComposedObjects="true"/>
  <rim:AdhocQuery id="urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d">
    <rim:Slot name="$XDSDocumentEntryPatientId"><rim:ValueList><rim:Value>'st3498702^^^&amp;1.3.6.1.4.1.21367.2005.3.7&amp;ISO'</rim:Value></rim:ValueList></rim:Slot>
    <rim:Slot name="$XDSDocumentEntryStatus"><rim:ValueList><rim:Value>('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')</rim:Value></rim:ValueList></rim:Slot>
  </rim:AdhocQuery>
</query:AdhocQueryRequest>"#;

fn soap(action: &str, body: &str) -> String {
    format!(
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing"><s:Header><a:Action s:mustUnderstand="1">{action}</a:Action><a:MessageID>urn:uuid:1</a:MessageID><a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo><a:To>http://x</a:To></s:Header><s:Body>{body}</s:Body></s:Envelope>"#
    )
}

fn rad69(home: &str, repo: &str, ts: &str) -> String {
    format!(
        r#"<xdsiB:RetrieveImagingDocumentSetRequest xmlns:xdsiB="urn:ihe:rad:xdsi-b:2009" xmlns:xdsb="urn:ihe:iti:xds-b:2007"><xdsiB:StudyRequest studyInstanceUID="1.2.3"><xdsiB:SeriesRequest seriesInstanceUID="1.2.3.4"><xdsb:DocumentRequest>{home}<xdsb:RepositoryUniqueId>{repo}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3.4.5</xdsb:DocumentUniqueId></xdsb:DocumentRequest></xdsiB:SeriesRequest></xdsiB:StudyRequest><xdsiB:TransferSyntaxUIDList><xdsiB:TransferSyntaxUID>{ts}</xdsiB:TransferSyntaxUID></xdsiB:TransferSyntaxUIDList></xdsiB:RetrieveImagingDocumentSetRequest>"#
    )
}

fn run(bytes: &[u8], opts: &Options) -> Judgement {
    judge("t", bytes, opts)
}

#[test]
fn types_are_detected_from_content() {
    assert_eq!(detect("a", SQ_REQ.as_bytes()), Some(FileType::Iti18Request));
    assert_eq!(
        detect(
            "a",
            soap(crate::model::ebrim::ACTION_STORED_QUERY, SQ_REQ).as_bytes()
        ),
        Some(FileType::Iti41),
        "a SOAP envelope is an XDS message; its transaction is read when judged"
    );
    assert_eq!(
        run(
            soap(crate::model::ebrim::ACTION_XC_QUERY, SQ_REQ).as_bytes(),
            &Options::default()
        )
        .file_type,
        Some(FileType::Iti38Request)
    );
    assert_eq!(
        detect("a", br#"{"resourceType":"Bundle"}"#),
        Some(FileType::FhirJson)
    );
    assert_eq!(
        detect("a", br#"<Bundle xmlns="http://hl7.org/fhir"/>"#),
        Some(FileType::FhirXml)
    );
    assert_eq!(detect("a", b"[]"), Some(FileType::DicomJson));
    assert_eq!(
        detect("a", br#"[{"0020000D":{"vr":"UI","Value":["1.2"]}}]"#),
        Some(FileType::DicomJson)
    );
    assert_eq!(detect("a", br#"{"a":1}"#), None);
    assert_eq!(
        detect("x.fsh", b"Instance: x\nInstanceOf: Patient\n"),
        Some(FileType::Fsh)
    );
    assert_eq!(detect("x.txt", b"hello"), None);
    let mut dicom = vec![0u8; 128];
    dicom.extend_from_slice(b"DICM");
    assert_eq!(detect("a", &dicom), Some(FileType::Kos));
    for t in FileType::ALL {
        assert_eq!(FileType::parse(t.id()), Some(*t));
    }
    assert_eq!(
        FileType::parse("RAD69-REQUEST"),
        Some(FileType::Rad69Request)
    );
    assert_eq!(FileType::parse("nope"), None);
}

#[test]
fn verdicts_of_xds_messages() {
    let ok = run(SQ_REQ.as_bytes(), &Options::default());
    assert_eq!(ok.result(), TestResult::Passed, "{:?}", ok.assertions);
    let missing = SQ_REQ.replace("$XDSDocumentEntryStatus", "$Other");
    let bad = run(missing.as_bytes(), &Options::default());
    assert_eq!(bad.result(), TestResult::Failed);
    let a = bad
        .assertions
        .iter()
        .find(|a| a.finding.check == "ITI18-03")
        .expect("ITI18-03 reports the missing status");
    assert!(a.finding.requirement.contains("ITI TF-2"));
    // The envelope rules: a wrong action for the body is XDS-SOAP-02.
    let wrong = run(
        soap(crate::model::ebrim::ACTION_RETRIEVE, SQ_REQ).as_bytes(),
        &Options::default(),
    );
    assert!(wrong
        .assertions
        .iter()
        .any(|a| a.finding.check == "XDS-SOAP-02" && a.finding.is_failure()));
    // --as a type the file is not: UNDEFINED, not a guess.
    let not = run(
        SQ_REQ.as_bytes(),
        &Options {
            as_type: Some(FileType::Rad69Request),
            ..Options::default()
        },
    );
    assert_eq!(not.result(), TestResult::Undefined);
}

#[test]
fn contextual_rules_need_a_context() {
    let ctx = Context::parse(
        "[imaging_source]\nrepository_unique_ids = [\"1.2.9\"]\ntransfer_syntaxes = [\"1.2.840.10008.1.2.1\"]\ninstances = [{ study = \"1.2.3\", series = \"1.2.3.4\", sop = \"1.2.3.4.5\" }]\n\
         [imaging_gateway]\nhome_community_ids = [\"urn:oid:1.9\"]\nrepository_unique_ids = [\"1.2.9\"]\n",
    )
    .unwrap();
    let with = |ctx: Option<Context>, as_type: Option<FileType>, body: String| {
        run(
            body.as_bytes(),
            &Options {
                as_type,
                context: ctx,
                strict: false,
            },
        )
    };
    let good = rad69("", "1.2.9", "1.2.840.10008.1.2.1");
    assert_eq!(
        with(Some(ctx.clone()), None, good.clone()).result(),
        TestResult::Passed
    );
    let j = with(None, None, rad69("", "1.2.8", "1.2.840.10008.1.2.1"));
    assert_eq!(
        j.result(),
        TestResult::Passed,
        "not judged without a context"
    );
    assert!(j
        .assertions
        .iter()
        .any(|a| a.finding.check == "XDSI-01" && a.finding.outcome == Outcome::NotApplicable));
    let j = with(
        Some(ctx.clone()),
        None,
        rad69("", "1.2.8", "1.2.840.10008.1.2.1"),
    );
    assert_eq!(j.result(), TestResult::Failed);
    assert!(j.assertions.iter().any(|a| a.finding.check == "XDSI-01"
        && a.finding.actual.contains("XDSUnknownRepositoryId")
        && a.location.ends_with("RepositoryUniqueId")));
    let j = with(
        Some(ctx.clone()),
        None,
        rad69("", "1.2.9", "1.2.840.10008.1.2.4.90"),
    );
    assert!(j
        .assertions
        .iter()
        .any(|a| a.finding.check == "XDSI-01" && a.finding.actual.contains("XDSRepositoryError")));
    // RAD-75: the gateway's own checks.
    let home = "<xdsb:HomeCommunityId>urn:oid:1.8</xdsb:HomeCommunityId>";
    let j = with(
        Some(ctx.clone()),
        Some(FileType::Rad75Request),
        rad69(home, "1.2.9", "1.2.840.10008.1.2.1"),
    );
    let a = j
        .assertions
        .iter()
        .find(|a| a.finding.check == "XCAI-07")
        .unwrap();
    assert_eq!(a.finding.outcome, Outcome::Fail);
    assert!(
        a.finding.advisory,
        "XCAI-07 is a SHOULD: a warning outside strict mode"
    );
    let home = "<xdsb:HomeCommunityId>urn:oid:1.9</xdsb:HomeCommunityId>";
    let j = with(
        Some(ctx),
        Some(FileType::Rad75Request),
        rad69(home, "1.2.7", "1.2.840.10008.1.2.1"),
    );
    assert!(j
        .assertions
        .iter()
        .any(|a| a.finding.check == "XCAI-06" && a.finding.is_failure()));
}

#[test]
fn gazelle_mapping_severity_priority_location() {
    let missing = SQ_REQ.replace("$XDSDocumentEntryStatus", "$Other");
    let j = run(missing.as_bytes(), &Options::default());
    let report = gazelle_report("auto", std::slice::from_ref(&j));
    assert_eq!(report.overall_result, TestResult::Failed);
    let a = report.reports[0]
        .assertion_reports
        .iter()
        .find(|a| a.assertion_id == "ITI18-03")
        .unwrap();
    assert_eq!(a.severity, Severity::Error);
    assert_eq!(a.priority, Priority::Mandatory);
    assert!(a.requirement_ids[0].contains("ITI TF-2"));
    assert!(report
        .additional_metadata
        .iter()
        .any(|m| m.value == j.sha256));
    let warned = run(
        SQ_REQ
            .replace("'st3498702", "st3498702")
            .replace("ISO'</rim", "ISO</rim")
            .as_bytes(),
        &Options::default(),
    );
    for a in &gazelle_report("auto", std::slice::from_ref(&warned)).reports[0].assertion_reports {
        if a.priority == Priority::Recommended && a.result == TestResult::Failed {
            assert_eq!(a.severity, Severity::Warning);
        }
    }
}

#[test]
fn junit_and_exit_codes() {
    let ok = run(SQ_REQ.as_bytes(), &Options::default());
    let bad = run(
        SQ_REQ
            .replace("$XDSDocumentEntryStatus", "$Other")
            .as_bytes(),
        &Options::default(),
    );
    let undefined = run(b"", &Options::default());
    assert_eq!(undefined.result(), TestResult::Undefined);
    assert_eq!(exit_code(std::slice::from_ref(&ok)), 0);
    assert_eq!(exit_code(&[ok.clone(), bad.clone()]), 1);
    assert_eq!(exit_code(&[ok.clone(), undefined.clone()]), 2);
    assert_eq!(exit_code(&[bad.clone(), undefined.clone()]), 1);
    let x = junit_xml(&[ok, bad.clone(), undefined]);
    assert_eq!(x.matches("<testcase").count(), 3);
    let failed = bad
        .assertions
        .iter()
        .filter(|a| a.finding.is_failure())
        .count();
    assert_eq!(x.matches("<failure").count(), failed);
    assert_eq!(x.matches("<error").count(), 1);
    assert!(x.contains("failures=\"1\""));
}

#[test]
fn console_lines_say_result_kind_and_location() {
    let j = run(rad69("", "1.2.8", "").as_bytes(), &Options::default());
    let lines = console_lines(&j);
    assert!(lines[0].starts_with("FAILED"), "{lines:?}");
    assert!(lines[0].contains("RAD-69"));
    assert!(lines.iter().any(|l| l.contains("RAD69-04")));
    assert!(lines.iter().any(|l| l.contains("note: XDSI-01 not judged")));
}

#[test]
fn a_captured_mtom_response_is_read() {
    let env = soap(
        crate::model::ebrim::ACTION_RETRIEVE_RESPONSE,
        r#"<xdsb:RetrieveDocumentSetResponse xmlns:xdsb="urn:ihe:iti:xds-b:2007" xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"><rs:RegistryResponse status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/><xdsb:DocumentResponse><xdsb:RepositoryUniqueId>1.2.9</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>1.2.3</xdsb:DocumentUniqueId><xdsb:mimeType>text/plain</xdsb:mimeType><xdsb:Document><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:doc1"/></xdsb:Document></xdsb:DocumentResponse></xdsb:RetrieveDocumentSetResponse>"#,
    )
    .replace(
        "<a:MessageID>urn:uuid:1</a:MessageID>",
        "<a:RelatesTo>urn:uuid:1</a:RelatesTo>",
    );
    let http = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: multipart/related; boundary=b; type=\"application/xop+xml\"; start=\"<root>\"; start-info=\"application/soap+xml\"; action=\"urn:ihe:iti:2007:RetrieveDocumentSetResponse\"\r\n\r\n--b\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\nContent-ID: <root>\r\n\r\n{env}\r\n--b\r\nContent-Type: text/plain\r\nContent-ID: <doc1>\r\n\r\nhello\r\n--b--\r\n"
    );
    let j = run(http.as_bytes(), &Options::default());
    assert_eq!(j.file_type, Some(FileType::Iti43Response), "{}", j.kind);
    assert_eq!(j.result(), TestResult::Passed, "{:?}", console_lines(&j));
}
