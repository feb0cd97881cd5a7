//! The proof that each check can fail: a fault injected into the embedded reference that the check
//! catches in a run, or a named test that makes it fail.
//!
//! [`FAULT_CASES`] is run by the fault-injection suite (`tests/suite/fault_injection.rs`): each
//! fault, injected with `run --reference-fault`, must make the named check fail in the scenarios the
//! tag expression selects. A check that judges what the SUT sends (an initiator, a document it
//! creates) has no reference fault to catch: [`TEST_PROOFS`] names the test that makes it fail,
//! `unit: <module path>::<test>` for a test of the library or `suite: <file>::<test>` for one of
//! `tests/suite`, and a suite test checks that each named test exists.

/// A fault of the embedded reference and the check that catches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultCase {
    /// The fault's name (`--reference-fault`).
    pub fault: &'static str,
    /// Tag expression selecting the scenarios that exercise it.
    pub tags: &'static str,
    /// The check that must fail.
    pub check: &'static str,
    /// Run in strict mode (the check is SHOULD-level).
    pub strict: bool,
}

/// A named test that makes a check fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestProof {
    /// The check.
    pub check: &'static str,
    /// `unit: <module path>::<test>` or `suite: <file>::<test>`.
    pub test: &'static str,
}

const fn fault(
    fault: &'static str,
    tags: &'static str,
    check: &'static str,
    strict: bool,
) -> FaultCase {
    FaultCase {
        fault,
        tags,
        check,
        strict,
    }
}

const fn test(check: &'static str, test: &'static str) -> TestProof {
    TestProof { check, test }
}

/// Every fault of the embedded reference with the check that catches it.
#[rustfmt::skip]
pub const FAULT_CASES: &[FaultCase] = &[
    fault("truncated-multipart", "@req:DW-01", "DW-01", false),
    fault("multipart-without-type", "@req:DW-01", "DW-01", false),
    fault("part-content-type-mismatch", "@req:DW-02", "DW-02", false),
    fault("implicit-vr-parts", "@req:DW-03", "DW-03", false),
    fault("ignore-transfer-syntax", "@req:DW-03", "DW-03", false),
    fault("missing-instance", "@req:DW-18", "DW-04", false),
    fault("non-dicom-part", "@req:DW-17", "DW-17", false),
    fault("wrong-status-unknown-study", "@neg and @txn:RAD-107", "DW-04", false),
    fault("ok-for-unacceptable", "@neg and @txn:RAD-107", "DW-04", false),
    fault("lowercase-json-tags", "@req:DW-05", "DW-05", false),
    fault("unsorted-json-keys", "@req:DW-05", "DW-05", false),
    fault("broken-bulkdata-uri", "@req:DW-06", "DW-06", false),
    fault("qido-missing-required", "@req:DW-07", "DW-07", false),
    fault("qido-ignores-limit", "@req:DW-08", "DW-08", false),
    fault("qido-silent-truncation", "@req:DW-09", "DW-09", true),
    fault("stow-200-with-failures", "@req:DW-10", "DW-10", false),
    fault("stow-missing-failure-reason", "@req:DW-11", "DW-11", false),
    fault("stow-stores-mismatched-study", "@req:DW-12", "DW-12", false),
    fault("foreign-instance", "@req:DW-18", "DW-18", false),
    fault("qido-ignores-matching", "@req:DW-19", "DW-19", false),
    fault("qido-wrong-content-type", "@req:DW-20", "DW-20", false),
    fault("rendered-not-an-image", "@req:DW-21", "DW-21", false),
    fault("kos-wrong-title", "@req:KOS-04", "KOS-04", false),
    fault("no-capabilities", "@req:DW-13", "DW-13", true),
    fault("broken-bulkdata-uri", "@req:DW-14", "DW-14", false),
    fault("missing-instance", "@profile:XDS-I.b and @req:DW-18", "DW-04", false),
    fault("xds-soap11", "@req:XDS-SOAP-02", "XDS-SOAP-01", false),
    fault("xds-wrong-action", "@req:XDS-SOAP-02", "XDS-SOAP-02", false),
    fault("xds-no-relates-to", "@req:XDS-SOAP-02", "XDS-SOAP-03", false),
    fault("xds-mtom-without-start-info", "@req:RAD69-06", "XDS-SOAP-04", false),
    fault("xds-dangling-xop", "@req:RAD69-06", "XDS-SOAP-05", false),
    fault("xds-bad-status", "@req:XDS-SOAP-02", "XDS-SOAP-07", false),
    fault("xds-error-without-context", "@req:ITI43-03", "XDS-SOAP-08", false),
    fault("xds-failure-without-error", "@req:XDS-SOAP-09", "XDS-SOAP-09", false),
    fault("xds-success-with-error", "@req:XDS-SOAP-02", "XDS-SOAP-13", false),
    fault("xds-unknown-error-code", "@req:ITI43-03", "XDS-SOAP-14", true),
    fault("xds-schema-order", "@req:XDS-SOAP-02", "EBRIM-01", false),
    fault("xds-query-no-hash", "@req:ITI18-08", "ITI18-08", false),
    fault("xds-objectref-as-leaf", "@req:ITI18-09", "ITI18-09", false),
    fault("xds-query-ignores-patient", "@txn:ITI-18 and @req:XDSI-02", "XDSI-02", false),
    fault("xds-query-accepts-missing-param", "@req:XDS-SOAP-09", "XDSI-01", false),
    fault("xds-retrieve-partial-as-success", "@req:ITI43-03W", "ITI43-02", false),
    fault("xds-retrieve-wrong-error-code", "@req:ITI43-03", "ITI43-03", false),
    fault("xds-retrieve-error-no-location", "@req:ITI43-03W", "ITI43-03W", true),
    fault("xds-retrieve-wrong-mime", "@req:XDSI-03", "XDSI-03", false),
    fault("xds-retrieve-corrupt-document", "@txn:ITI-43 and @req:XDSI-04", "XDSI-04", false),
    fault("xds-retrieve-no-mime-type", "@req:RAD69-06", "RAD69-06", false),
    fault("xds-metadata-uniqueid-not-sop", "@txn:ITI-43 and @req:XDSI-05", "XDSI-05", false),
    fault("xds-metadata-wrong-source-patient", "@txn:ITI-43 and @req:XDSI-06", "XDSI-06", true),
    fault("xds-metadata-no-study-reference", "@txn:ITI-43 and @req:XDSI-07", "XDSI-07", true),
    fault("xds-metadata-no-modality", "@txn:ITI-43 and @req:XDSI-08", "XDSI-08", true),
    fault("rad69-ignores-transfer-syntax", "@req:XDSI-09", "XDSI-09", false),
    fault("rad69-foreign-instance", "@req:XDSI-10", "XDSI-10", false),
    fault("xds-kos-references-missing-instance", "@req:XDSI-10", "XDSI-10", false),
    fault("dimse-find-no-final", "@req:DIM-04", "DIM-04", false),
    fault("dimse-find-extra-keys", "@req:DIM-05", "DIM-05", false),
    fault("dimse-move-unknown-destination-ok", "@txn:C-MOVE and @neg and @req:DIM-03", "DIM-03", false),
    fault("dimse-move-wrong-counts", "@req:DIM-07", "DIM-07", false),
    fault("dimse-store-wrong-status", "@req:DIM-12", "DIM-12", false),
    fault("dimse-echo-wrong-status", "@txn:C-ECHO and @req:DIM-01", "DIM-03", false),
    fault("dimse-get-wrong-instance", "@txn:C-GET and @req:DIM-08", "DIM-08", false),
    fault("dimse-cancel-ignored", "@req:DIM-11", "DIM-11", false),
    fault("dimse-accept-any-ae", "@req:DIM-02", "DIM-02", true),
    fault("dimse-find-ignores-matching", "@req:DIM-06", "DIM-06", false),
    fault("dimse-wrong-responded-to", "@txn:C-ECHO and @req:DIM-09", "DIM-09", false),
    fault("dimse-wrong-context", "@txn:C-ECHO and @req:DIM-10", "DIM-10", false),
    fault("dimse-refuse-verification", "@txn:C-ECHO and @req:DIM-01", "DIM-01", false),
    fault("dimse-modality-sends-other-series", "@req:DIM-13", "DIM-13", false),
    fault("dimse-accept-unknown-class", "@req:DIM-14", "DIM-14", true),
    // MHD Document Recipient/Responder, MADO manifests and the imaging report.
    fault("mhd-search-ignores-status", "@req:MHD-16", "MHD-18", false),
    fault("mhd-empty-search-404", "@req:MHD-14", "MHD-14", false),
    fault("mhd-search-not-fhir", "@req:MHD-16", "FHIR-01", false),
    fault("mhd-no-post-search", "@req:MHD-13", "MHD-13", false),
    fault("mhd-provide-no-location", "@req:MHD-09", "MHD-09", false),
    fault("mhd-binary-wrong-type", "@req:MHD-19", "MHD-15", false),
    fault("mhd-binary-corrupt", "@req:MHD-19", "MHD-19", false),
    fault("mhd-ok-for-unacceptable", "@req:MHD-15", "MHD-15", false),
    fault("mhd-kos-wrong-format", "@req:MHD-16", "MHD-16", false),
    fault("mhd-no-study-related", "@req:MHD-16", "MHD-17", false),
    fault("mhd-xml-out-of-order", "@req:FHIR-02", "FHIR-02", false),
    fault("mhd-replace-not-superseded", "@txn:ITI-65 and @req:MHD-18", "MHD-18", false),
    fault("mado-fhir-missing-instance", "@req:MADO-C1", "MADO-C1", false),
    fault("mado-kos-legacy", "@req:KOS-12", "KOS-12", false),
    fault("missing-instance", "@req:MADO-C2", "MADO-C2", false),
    fault("report-no-impression", "@req:RPT-07", "RPT-07", false),
    fault("report-wrong-accession", "@req:RPT-10", "RPT-10", false),
    fault("report-status-mismatch", "@req:RPT-05", "RPT-05", false),
    // DICOMweb: every answer is about what was asked.
    fault("duplicate-instance", "@req:DW-18", "DW-18", false),
    fault("wado-other-patient", "@req:DW-18", "DW-18", false),
    fault("metadata-other-study", "@req:DW-22", "DW-22", false),
    fault("metadata-extra-instance", "@req:DW-22", "DW-22", false),
    fault("frames-repeat-first", "@req:DW-23", "DW-23", false),
    fault("frames-other-instance", "@req:DW-23", "DW-23", false),
    fault("bulkdata-other-instance", "@req:DW-06", "DW-06", false),
    fault("rendered-wrong-size", "@req:DW-21", "DW-21", false),
    fault("qido-ignores-path", "@txn:RAD-129 and @req:DW-19", "DW-19", false),
    // STOW-RS: a 200 references every instance stored, and only instances sent.
    fault("stow-empty-response", "@req:DW-10", "DW-10", false),
    fault("stow-foreign-reference", "@req:DW-24", "DW-24", false),
    fault("stow-wrong-retrieve-url", "@req:DW-24", "DW-24", false),
    // Rendered: JPEG is baseline (strict; lenient also takes 8-bit progressive); a type the
    // server does not render is 406.
    fault("rendered-progressive-jpeg", "@req:DW-21", "DW-21", true),
    fault("rendered-ignores-accept", "@req:DW-21", "DW-21", false),
    // Identity: the answer is about what was asked.
    fault("xds-query-other-format", "@txn:ITI-18 and @req:XDSI-02", "XDSI-12", false),
    fault("xds-leafclass-as-objectref", "@req:ITI18-08", "ITI18-10", false),
    fault("xds-objectref-other-patient", "@req:ITI18-09", "XDSI-02", false),
    fault("xds-retrieve-other-document", "@txn:ITI-43 and @req:XDSI-03", "XDSI-13", false),
    // The CT manifest is larger than the evidence keeps of a part it cannot read as a KOS: its
    // hash is judged on the digest taken while it streamed.
    fault("xds-retrieve-same-size-other-bytes", "@txn:ITI-43 and @req:XDSI-06", "XDSI-04", false),
    fault("xds-registry-alters-metadata", "@txn:RAD-68 and @req:XDSI-04", "XDSI-14", false),
    fault("xds-builtin-source-other-study", "@txn:RAD-68 and @req:XDSI-15", "XDSI-15", false),
    fault("xds-builtin-consumer-other-patient", "@txn:ITI-18 and @req:XDSI-16", "XDSI-16", false),
    fault("rad69-wrong-repository-id", "@req:RAD69-06", "XDSI-13", false),
    // The manifest the repository returns is not a KOS: the RAD-69 step cannot go on, a Fail of
    // the manifest rule, not a harness Error.
    fault("xds-retrieve-same-size-other-bytes", "@uc:MADO-UC2 and @req:XDSI-10", "KOS-01", false),
    fault("xds-relates-to-other-message", "@req:XDS-SOAP-02", "XDS-SOAP-03", false),
    fault("mhd-search-other-patient", "@req:MHD-16", "MHD-18", false),
    fault("mhd-search-pages-repeat", "@req:MHD-16", "MHD-18", false),
    fault("mhd-lists-not-searchset", "@txn:ITI-66 and @req:MHD-18", "MHD-14", false),
    fault("mhd-post-search-400", "@req:MHD-13", "MHD-13", false),
    fault("mhd-accepts-invalid-fhir", "@fhir:core", "MHD-20", false),
    fault("mhd-builtin-source-other-study", "@txn:ITI-65 and @req:MHD-21", "MHD-21", false),
    fault("mhd-builtin-consumer-other-patient", "@txn:ITI-67 and @req:MHD-22", "MHD-22", false),
    fault("peer-closes", "@req:PEER-01", "PEER-01", false),
    fault("qido-endless", "@req:BODY-01", "BODY-01", false),
    // QIDO-RS: a page after which matches remain carries Warning 299.
    fault("qido-no-paging-warning", "@req:DW-25", "DW-25", false),
    // Rendered: GIF is required of single-frame images (PS3.18 Table 8.7.4-1, RESTful column).
    fault("rendered-no-gif", "@req:DW-21", "DW-04", false),
    // DIMSE: every answer is about what was asked.
    fault("dimse-find-wrong-level", "@req:DIM-15", "DIM-15", false),
    fault("dimse-find-wrong-study", "@req:DIM-16", "DIM-16", false),
    fault("dimse-wrong-affected-class", "@txn:C-FIND and @req:DIM-09", "DIM-09", false),
    fault("dimse-get-mislabelled-instance", "@txn:C-GET and @req:DIM-17", "DIM-17", false),
    fault("dimse-store-wrong-instance", "@profile:DIMSE and @actor:StorageScp and @req:DIM-09", "DIM-09", false),
    fault("dimse-wrong-context", "@txn:C-GET and @req:DIM-10", "DIM-10", false),
    fault("dimse-move-own-originator", "@req:DIM-18", "DIM-18", true),
    fault("dimse-abort-after-find", "@profile:DIMSE and @txn:C-FIND and @req:PEER-01", "PEER-01", false),
    fault("dimse-get-abort-midway", "@profile:DIMSE and @txn:C-GET and @req:PEER-01", "PEER-01", false),
    fault("xds-retrieve-adds-home-community", "@txn:ITI-43 and @req:XDSI-03", "XDSI-13", false),
    // The ObjectRefs of an answer are resolved with GetDocuments, judged as the answer to it.
    fault("xds-getdocuments-as-objectref", "@req:ITI18-09", "ITI18-10", false),
    // Rendered: a 12-bit JPEG is of no process PS3.18 §8.7.4 allows, strict or not.
    fault("rendered-12-bit-jpeg", "@req:DW-21", "DW-21", false),
    // Frames: uncompressed by default when the instance is held losslessly.
    fault("frames-compressed-by-default", "@req:DW-23", "DW-23", false),
    // QIDO-RS: a result describes the entity it names.
    fault("qido-wrong-counts", "@req:DW-26", "DW-26", false),
    fault("dimse-find-duplicate-matches", "@req:DIM-15", "DIM-15", false),
    fault("dimse-find-wrong-values", "@req:DIM-06", "DIM-06", false),
    fault("dimse-get-coerces-attributes", "@txn:C-GET and @req:DIM-19", "DIM-19", true),
    fault("dimse-get-other-image", "@txn:C-GET and @req:DIM-08", "DIM-08", false),
    fault("dimse-move-unknown-destination-c000", "@txn:C-MOVE and @neg and @req:DIM-20", "DIM-20", true),
    // ITI-19 (ATNA): the TLS reference of the ATNA scenarios, misconfigured.
    fault("tls-no-client-auth", "@profile:ATNA and @req:TLS-01", "TLS-01", false),
    fault("tls-expired-server-cert", "@profile:ATNA and @req:TLS-09", "TLS-09", false),
    fault("tls-no-1-2", "@profile:ATNA and @req:TLS-07", "TLS-07", false),
    fault("tls-no-1-3", "@profile:ATNA and @req:TLS-08", "TLS-08", true),
    fault("tls-builtin-client-trusts-any", "@profile:ATNA and @req:TLS-10", "TLS-10", false),
    fault("tls-builtin-client-trusts-any", "@profile:ATNA and @req:TLS-11", "TLS-11", false),
    fault("tls-builtin-client-trusts-any", "@profile:ATNA and @req:TLS-12", "TLS-12", true),
];

/// Checks without a reference fault, and the test that makes each fail.
#[rustfmt::skip]
pub const TEST_PROOFS: &[TestProof] = &[
    test("ITI18-01", "unit: checks::xds::rules::tests::query_defects_found"),
    test("ITI18-02", "unit: checks::xds::rules::tests::query_defects_found"),
    test("ITI18-03", "suite: xds_triggers::a_command_trigger_makes_the_sut_call_and_its_query_is_judged"),
    test("ITI18-04", "unit: checks::xds::rules::tests::query_defects_found"),
    test("ITI18-05", "suite: xds_corpus::xds_corpus_verdicts"),
    test("ITI18-06", "unit: checks::xds::rules::tests::query_defects_found"),
    test("ITI18-07", "unit: checks::xds::rules::tests::query_defects_found"),
    test("ITI41-01", "unit: checks::xds::rules::tests::submission_defects_caught"),
    test("ITI41-02", "unit: checks::xds::rules::tests::submission_defects_caught"),
    test("ITI41-03", "unit: checks::xds::rules::tests::good_manifest_submission_passes"),
    test("ITI41-09", "unit: checks::xds::rules::tests::submission_defects_caught"),
    test("ITI41-13", "unit: checks::xds::rules::tests::submission_defects_caught"),
    test("ITI41-16", "unit: checks::xds::rules::tests::wrong_manifest_format_code_caught"),
    test("ITI41-24", "unit: checks::xds::rules::tests::submission_defects_caught"),
    test("ITI41-25", "suite: xds_corpus::xds_corpus_verdicts"),
    test("ITI43-01", "unit: checks::xds::rules::tests::retrieve_round_trip"),
    test("KOS-02", "unit: checks::kos::rules::tests::kos_02_series_and_document_attributes"),
    test("KOS-03", "unit: checks::kos::rules::tests::kos_03_root_container"),
    test("KOS-05", "unit: checks::kos::rules::tests::kos_05_evidence_structure"),
    test("KOS-06", "unit: checks::kos::rules::tests::kos_06_content_matches_evidence"),
    test("KOS-07", "unit: checks::kos::rules::tests::kos_07_identical_documents_for_several_studies"),
    test("KOS-08", "unit: checks::kos::rules::tests::kos_08_retrieve_location_uid"),
    test("KOS-09", "unit: checks::kos::rules::tests::kos_09_retrieve_ae_title_for_c_move"),
    test("KOS-10", "unit: checks::kos::rules::tests::kos_10_retrieve_url"),
    test("KOS-11", "unit: checks::kos::rules::tests::kos_11_by_value_and_no_purpose_of_reference"),
    test("KOS-13", "unit: checks::kos::rules::tests::kos_13_mado_required_attributes"),
    test("KOS-14", "unit: checks::kos::rules::tests::kos_14_accession_issuer_iff_accession"),
    test("KOS-15", "unit: checks::kos::rules::tests::kos_15_image_library_counts"),
    test("KOS-16", "unit: checks::mado::rules::tests::kos_16_frames_and_instance_numbers"),
    test("KOS-17", "unit: checks::kos::rules::tests::kos_17_target_region_value_set"),
    test("KOS-18", "unit: checks::kos::rules::tests::kos_18_manifest_study_is_the_referenced_study"),
    test("KOS-19", "unit: checks::mado::tests::kos_16_and_19_through_an_exchange"),
    test("KOS-21", "unit: checks::kos::rules::tests::kos_21_patient_id"),
    test("KOS-22", "unit: checks::kos::rules::tests::kos_22_uid_syntax"),
    test("MADO-01", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-02", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-03", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-04", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-05", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-06", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-07", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-08", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-09", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-10", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-11", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-12", "unit: checks::mado::rules::tests::each_fhir_rule_fires_on_its_mutation"),
    test("MADO-C3", "unit: checks::mado::tests::holdings_and_docref_checks"),
    test("MHD-01", "unit: checks::mhd::tests::mhd_01"),
    test("MHD-02", "unit: checks::mhd::tests::mhd_02"),
    test("MHD-03", "unit: checks::mhd::tests::mhd_03"),
    test("MHD-04", "unit: checks::mhd::tests::mhd_04"),
    test("MHD-05", "unit: checks::mhd::tests::mhd_05"),
    test("MHD-06", "unit: checks::mhd::tests::mhd_06"),
    test("MHD-07", "unit: checks::mhd::tests::mhd_07"),
    test("MHD-08", "unit: checks::mhd::tests::mhd_08"),
    test("MHD-10", "unit: checks::mhd::tests::mhd_10"),
    test("MHD-11", "unit: checks::mhd::tests::mhd_11_and_12"),
    test("MHD-12", "unit: checks::mhd::tests::mhd_11_and_12"),
    test("RAD69-01", "unit: checks::xds::rules::tests::imaging_retrieve_round_trip_and_defects"),
    test("RAD69-02", "unit: checks::xds::rules::tests::imaging_retrieve_round_trip_and_defects"),
    test("RAD69-04", "unit: checks::xds::rules::tests::imaging_retrieve_round_trip_and_defects"),
    test("RPT-01", "unit: checks::report::tests::rpt01_document_bundle"),
    test("RPT-02", "unit: checks::report::tests::rpt02_categories"),
    test("RPT-03", "unit: checks::report::tests::rpt03_sections"),
    test("RPT-04", "unit: checks::report::tests::rpt04_invariants"),
    test("RPT-06", "unit: checks::report::tests::rpt06_header_and_references"),
    test("RPT-08", "unit: checks::report::tests::rpt08_and_rpt11_legal_authenticator"),
    test("RPT-09", "unit: checks::report::tests::rpt09_patient"),
    test("RPT-11", "unit: checks::report::tests::rpt08_and_rpt11_legal_authenticator"),
    test("RPT-12", "unit: checks::report::tests::rpt12_and_rpt13"),
    test("RPT-13", "unit: checks::report::tests::rpt12_and_rpt13"),
    test("RPT-14", "unit: checks::report::tests::rpt_14_versions_share_the_identifier"),
    test("XDS-SOAP-11", "suite: xds_corpus::xds_corpus_verdicts"),
    test("XDS-SOAP-12", "unit: checks::xds::rules::tests::envelope_rules"),
    test("XDSI-11", "unit: checks::xds_i::tests::xdsi_11_consumer_asks_for_the_manifest_references"),
    test("EBRIM-02", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-04", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-05", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-06", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-07", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-08", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-08N", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-10", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-14", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-15", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI41-23", "unit: checks::xds::rules::tests::each_submission_rule_fires_on_its_mutation"),
    test("ITI18-05W", "unit: checks::xds::rules::tests::query_and_imaging_retrieve_warnings_fire"),
    test("RAD69-03", "unit: checks::xds::rules::tests::query_and_imaging_retrieve_warnings_fire"),
    // ITI-19 (ATNA): rustls cannot speak what these forbid, so real misconfigured openssl
    // servers make them fail.
    test("TLS-02", "suite: tls_peers::a_lax_server_fails_every_client_and_version_negative"),
    test("TLS-03", "suite: tls_peers::a_lax_server_fails_every_client_and_version_negative"),
    test("TLS-04", "suite: tls_peers::a_lax_server_fails_every_client_and_version_negative"),
    test("TLS-05", "suite: tls_peers::a_lax_server_fails_every_client_and_version_negative"),
    test("TLS-06", "suite: tls_peers::a_server_that_negotiates_null_encryption_fails_the_suite_negative"),
];
