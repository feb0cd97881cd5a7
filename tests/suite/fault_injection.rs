//! Every check can fail: a fault injected into the embedded reference is caught by the check that
//! guards the broken rule, is reported as a Fail (not an Error), and leaves the report written.
//! Its messages carry no debug formatting (`messages::debug_marks`).

use crate::common::*;

/// (fault, tag expression selecting the scenarios that exercise it, check that must fail, strict).
const CASES: &[(&str, &str, &str, bool)] = &[
    ("truncated-multipart", "@req:DW-01", "DW-01", false),
    ("multipart-without-type", "@req:DW-01", "DW-01", false),
    ("part-content-type-mismatch", "@req:DW-02", "DW-02", false),
    ("implicit-vr-parts", "@req:DW-03", "DW-03", false),
    ("ignore-transfer-syntax", "@req:DW-03", "DW-03", false),
    ("missing-instance", "@req:DW-18", "DW-04", false),
    ("non-dicom-part", "@req:DW-17", "DW-17", false),
    (
        "wrong-status-unknown-study",
        "@neg and @txn:RAD-107",
        "DW-04",
        false,
    ),
    (
        "ok-for-unacceptable",
        "@neg and @txn:RAD-107",
        "DW-04",
        false,
    ),
    ("lowercase-json-tags", "@req:DW-05", "DW-05", false),
    ("unsorted-json-keys", "@req:DW-05", "DW-05", false),
    ("broken-bulkdata-uri", "@req:DW-06", "DW-06", false),
    ("qido-missing-required", "@req:DW-07", "DW-07", false),
    ("qido-ignores-limit", "@req:DW-08", "DW-08", false),
    ("qido-silent-truncation", "@req:DW-09", "DW-09", true),
    ("stow-200-with-failures", "@req:DW-10", "DW-10", false),
    ("stow-missing-failure-reason", "@req:DW-11", "DW-11", false),
    ("stow-stores-mismatched-study", "@req:DW-12", "DW-12", false),
    ("foreign-instance", "@req:DW-18", "DW-18", false),
    ("qido-ignores-matching", "@req:DW-19", "DW-19", false),
    ("qido-wrong-content-type", "@req:DW-20", "DW-20", false),
    ("rendered-not-an-image", "@req:DW-21", "DW-21", false),
    ("kos-wrong-title", "@req:KOS-04", "KOS-04", false),
    ("no-capabilities", "@req:DW-13", "DW-13", true),
    ("broken-bulkdata-uri", "@req:DW-14", "DW-14", false),
    (
        "missing-instance",
        "@profile:XDS-I.b and @req:DW-18",
        "DW-04",
        false,
    ),
    ("xds-soap11", "@req:XDS-SOAP-02", "XDS-SOAP-01", false),
    ("xds-wrong-action", "@req:XDS-SOAP-02", "XDS-SOAP-02", false),
    (
        "xds-no-relates-to",
        "@req:XDS-SOAP-02",
        "XDS-SOAP-03",
        false,
    ),
    (
        "xds-mtom-without-start-info",
        "@req:RAD69-06",
        "XDS-SOAP-04",
        false,
    ),
    ("xds-dangling-xop", "@req:RAD69-06", "XDS-SOAP-05", false),
    ("xds-bad-status", "@req:XDS-SOAP-02", "XDS-SOAP-07", false),
    (
        "xds-error-without-context",
        "@req:ITI43-03",
        "XDS-SOAP-08",
        false,
    ),
    (
        "xds-failure-without-error",
        "@req:XDS-SOAP-09",
        "XDS-SOAP-09",
        false,
    ),
    (
        "xds-success-with-error",
        "@req:XDS-SOAP-02",
        "XDS-SOAP-13",
        false,
    ),
    (
        "xds-unknown-error-code",
        "@req:ITI43-03",
        "XDS-SOAP-14",
        true,
    ),
    ("xds-schema-order", "@req:XDS-SOAP-02", "EBRIM-01", false),
    ("xds-query-no-hash", "@req:ITI18-08", "ITI18-08", false),
    ("xds-objectref-as-leaf", "@req:ITI18-09", "ITI18-09", false),
    (
        "xds-query-ignores-patient",
        "@txn:ITI-18 and @req:XDSI-02",
        "XDSI-02",
        false,
    ),
    (
        "xds-query-accepts-missing-param",
        "@req:XDS-SOAP-09",
        "XDSI-01",
        false,
    ),
    (
        "xds-retrieve-partial-as-success",
        "@req:ITI43-03W",
        "ITI43-02",
        false,
    ),
    (
        "xds-retrieve-wrong-error-code",
        "@req:ITI43-03",
        "ITI43-03",
        false,
    ),
    (
        "xds-retrieve-error-no-location",
        "@req:ITI43-03W",
        "ITI43-03W",
        true,
    ),
    ("xds-retrieve-wrong-mime", "@req:XDSI-03", "XDSI-03", false),
    (
        "xds-retrieve-corrupt-document",
        "@txn:ITI-43 and @req:XDSI-04",
        "XDSI-04",
        false,
    ),
    (
        "xds-retrieve-no-mime-type",
        "@req:RAD69-06",
        "RAD69-06",
        false,
    ),
    (
        "xds-metadata-uniqueid-not-sop",
        "@txn:ITI-43 and @req:XDSI-05",
        "XDSI-05",
        false,
    ),
    (
        "xds-metadata-wrong-source-patient",
        "@txn:ITI-43 and @req:XDSI-06",
        "XDSI-06",
        true,
    ),
    (
        "xds-metadata-no-study-reference",
        "@txn:ITI-43 and @req:XDSI-07",
        "XDSI-07",
        true,
    ),
    (
        "xds-metadata-no-modality",
        "@txn:ITI-43 and @req:XDSI-08",
        "XDSI-08",
        true,
    ),
    (
        "rad69-ignores-transfer-syntax",
        "@req:XDSI-09",
        "XDSI-09",
        false,
    ),
    ("rad69-foreign-instance", "@req:XDSI-10", "XDSI-10", false),
    (
        "xds-kos-references-missing-instance",
        "@req:XDSI-10",
        "XDSI-10",
        false,
    ),
    ("dimse-find-no-final", "@req:DIM-04", "DIM-04", false),
    ("dimse-find-extra-keys", "@req:DIM-05", "DIM-05", false),
    (
        "dimse-move-unknown-destination-ok",
        "@txn:C-MOVE and @neg and @req:DIM-03",
        "DIM-03",
        false,
    ),
    ("dimse-move-wrong-counts", "@req:DIM-07", "DIM-07", false),
    ("dimse-store-wrong-status", "@req:DIM-12", "DIM-12", false),
    (
        "dimse-echo-wrong-status",
        "@txn:C-ECHO and @req:DIM-01",
        "DIM-03",
        false,
    ),
    (
        "dimse-get-wrong-instance",
        "@txn:C-GET and @req:DIM-08",
        "DIM-08",
        false,
    ),
    ("dimse-cancel-ignored", "@req:DIM-11", "DIM-11", false),
    ("dimse-accept-any-ae", "@req:DIM-02", "DIM-02", true),
    (
        "dimse-find-ignores-matching",
        "@req:DIM-06",
        "DIM-06",
        false,
    ),
    (
        "dimse-wrong-responded-to",
        "@txn:C-ECHO and @req:DIM-09",
        "DIM-09",
        false,
    ),
    (
        "dimse-wrong-context",
        "@txn:C-ECHO and @req:DIM-10",
        "DIM-10",
        false,
    ),
    (
        "dimse-refuse-verification",
        "@txn:C-ECHO and @req:DIM-01",
        "DIM-01",
        false,
    ),
    (
        "dimse-modality-sends-other-series",
        "@req:DIM-13",
        "DIM-13",
        false,
    ),
    ("dimse-accept-unknown-class", "@req:DIM-14", "DIM-14", true),
    // MHD Document Recipient/Responder, MADO manifests and the imaging report.
    ("mhd-search-ignores-status", "@req:MHD-16", "MHD-18", false),
    ("mhd-empty-search-404", "@req:MHD-14", "MHD-14", false),
    ("mhd-search-not-fhir", "@req:MHD-16", "FHIR-01", false),
    ("mhd-no-post-search", "@req:MHD-13", "MHD-13", false),
    ("mhd-provide-no-location", "@req:MHD-09", "MHD-09", false),
    ("mhd-binary-wrong-type", "@req:MHD-19", "MHD-15", false),
    ("mhd-binary-corrupt", "@req:MHD-19", "MHD-19", false),
    ("mhd-ok-for-unacceptable", "@req:MHD-15", "MHD-15", false),
    ("mhd-kos-wrong-format", "@req:MHD-16", "MHD-16", false),
    ("mhd-no-study-related", "@req:MHD-16", "MHD-17", false),
    ("mhd-xml-out-of-order", "@req:FHIR-02", "FHIR-02", false),
    (
        "mhd-replace-not-superseded",
        "@txn:ITI-65 and @req:MHD-18",
        "MHD-18",
        false,
    ),
    (
        "mado-fhir-missing-instance",
        "@req:MADO-C1",
        "MADO-C1",
        false,
    ),
    ("mado-kos-legacy", "@req:KOS-12", "KOS-12", false),
    ("missing-instance", "@req:MADO-C2", "MADO-C2", false),
    ("report-no-impression", "@req:RPT-07", "RPT-07", false),
    ("report-wrong-accession", "@req:RPT-10", "RPT-10", false),
    ("report-status-mismatch", "@req:RPT-05", "RPT-05", false),
    // DICOMweb: every answer is about what was asked.
    ("duplicate-instance", "@req:DW-18", "DW-18", false),
    ("wado-other-patient", "@req:DW-18", "DW-18", false),
    ("metadata-other-study", "@req:DW-22", "DW-22", false),
    ("metadata-extra-instance", "@req:DW-22", "DW-22", false),
    ("frames-repeat-first", "@req:DW-23", "DW-23", false),
    ("frames-other-instance", "@req:DW-23", "DW-23", false),
    ("bulkdata-other-instance", "@req:DW-06", "DW-06", false),
    ("rendered-wrong-size", "@req:DW-21", "DW-21", false),
    (
        "qido-ignores-path",
        "@txn:RAD-129 and @req:DW-19",
        "DW-19",
        false,
    ),
    // STOW-RS: a 200 references every instance stored, and only instances sent.
    ("stow-empty-response", "@req:DW-10", "DW-10", false),
    ("stow-foreign-reference", "@req:DW-24", "DW-24", false),
    ("stow-wrong-retrieve-url", "@req:DW-24", "DW-24", false),
    // Rendered: JPEG is baseline (strict; lenient also takes 8-bit progressive); a type the
    // server does not render is 406.
    ("rendered-progressive-jpeg", "@req:DW-21", "DW-21", true),
    ("rendered-ignores-accept", "@req:DW-21", "DW-21", false),
    // Identity: the answer is about what was asked.
    (
        "xds-query-other-format",
        "@txn:ITI-18 and @req:XDSI-02",
        "XDSI-12",
        false,
    ),
    (
        "xds-leafclass-as-objectref",
        "@req:ITI18-08",
        "ITI18-10",
        false,
    ),
    (
        "xds-objectref-other-patient",
        "@req:ITI18-09",
        "XDSI-02",
        false,
    ),
    (
        "xds-retrieve-other-document",
        "@txn:ITI-43 and @req:XDSI-03",
        "XDSI-13",
        false,
    ),
    // The CT manifest is larger than the evidence keeps of a part it cannot read as a KOS: its
    // hash is judged on the digest taken while it streamed.
    (
        "xds-retrieve-same-size-other-bytes",
        "@txn:ITI-43 and @req:XDSI-06",
        "XDSI-04",
        false,
    ),
    (
        "xds-registry-alters-metadata",
        "@txn:RAD-68 and @req:XDSI-04",
        "XDSI-14",
        false,
    ),
    (
        "xds-builtin-source-other-study",
        "@txn:RAD-68 and @req:XDSI-15",
        "XDSI-15",
        false,
    ),
    (
        "xds-builtin-consumer-other-patient",
        "@txn:ITI-18 and @req:XDSI-16",
        "XDSI-16",
        false,
    ),
    (
        "rad69-wrong-repository-id",
        "@req:RAD69-06",
        "XDSI-13",
        false,
    ),
    // The manifest the repository returns is not a KOS: the RAD-69 step cannot go on, a Fail of
    // the manifest rule, not a harness Error.
    (
        "xds-retrieve-same-size-other-bytes",
        "@uc:MADO-UC2 and @req:XDSI-10",
        "KOS-01",
        false,
    ),
    (
        "xds-relates-to-other-message",
        "@req:XDS-SOAP-02",
        "XDS-SOAP-03",
        false,
    ),
    ("mhd-search-other-patient", "@req:MHD-16", "MHD-18", false),
    ("mhd-search-pages-repeat", "@req:MHD-16", "MHD-18", false),
    (
        "mhd-lists-not-searchset",
        "@txn:ITI-66 and @req:MHD-18",
        "MHD-14",
        false,
    ),
    ("mhd-post-search-400", "@req:MHD-13", "MHD-13", false),
    ("mhd-accepts-invalid-fhir", "@fhir:core", "MHD-20", false),
    (
        "mhd-builtin-source-other-study",
        "@txn:ITI-65 and @req:MHD-21",
        "MHD-21",
        false,
    ),
    (
        "mhd-builtin-consumer-other-patient",
        "@txn:ITI-67 and @req:MHD-22",
        "MHD-22",
        false,
    ),
    ("peer-closes", "@req:PEER-01", "PEER-01", false),
    ("qido-endless", "@req:BODY-01", "BODY-01", false),
    // QIDO-RS: a page after which matches remain carries Warning 299.
    ("qido-no-paging-warning", "@req:DW-25", "DW-25", false),
    // Rendered: GIF is required of single-frame images (PS3.18 Table 8.7.4-1, RESTful column).
    ("rendered-no-gif", "@req:DW-21", "DW-04", false),
    // DIMSE: every answer is about what was asked.
    ("dimse-find-wrong-level", "@req:DIM-15", "DIM-15", false),
    ("dimse-find-wrong-study", "@req:DIM-16", "DIM-16", false),
    (
        "dimse-wrong-affected-class",
        "@txn:C-FIND and @req:DIM-09",
        "DIM-09",
        false,
    ),
    (
        "dimse-get-mislabelled-instance",
        "@txn:C-GET and @req:DIM-17",
        "DIM-17",
        false,
    ),
    (
        "dimse-store-wrong-instance",
        "@profile:DIMSE and @actor:StorageScp and @req:DIM-09",
        "DIM-09",
        false,
    ),
    (
        "dimse-wrong-context",
        "@txn:C-GET and @req:DIM-10",
        "DIM-10",
        false,
    ),
    ("dimse-move-own-originator", "@req:DIM-18", "DIM-18", true),
    (
        "dimse-abort-after-find",
        "@profile:DIMSE and @txn:C-FIND and @req:PEER-01",
        "PEER-01",
        false,
    ),
    (
        "dimse-get-abort-midway",
        "@profile:DIMSE and @txn:C-GET and @req:PEER-01",
        "PEER-01",
        false,
    ),
    (
        "xds-retrieve-adds-home-community",
        "@txn:ITI-43 and @req:XDSI-03",
        "XDSI-13",
        false,
    ),
    // The ObjectRefs of an answer are resolved with GetDocuments, judged as the answer to it.
    (
        "xds-getdocuments-as-objectref",
        "@req:ITI18-09",
        "ITI18-10",
        false,
    ),
    // Rendered: a 12-bit JPEG is of no process PS3.18 §8.7.4 allows, strict or not.
    ("rendered-12-bit-jpeg", "@req:DW-21", "DW-21", false),
    // Frames: uncompressed by default when the instance is held losslessly.
    ("frames-compressed-by-default", "@req:DW-23", "DW-23", false),
    // QIDO-RS: a result describes the entity it names.
    ("qido-wrong-counts", "@req:DW-26", "DW-26", false),
    (
        "dimse-find-duplicate-matches",
        "@req:DIM-15",
        "DIM-15",
        false,
    ),
    ("dimse-find-wrong-values", "@req:DIM-06", "DIM-06", false),
    (
        "dimse-get-coerces-attributes",
        "@txn:C-GET and @req:DIM-19",
        "DIM-19",
        true,
    ),
    (
        "dimse-get-other-image",
        "@txn:C-GET and @req:DIM-08",
        "DIM-08",
        false,
    ),
    (
        "dimse-move-unknown-destination-c000",
        "@txn:C-MOVE and @neg and @req:DIM-20",
        "DIM-20",
        true,
    ),
];

#[test]
fn each_fault_is_caught_by_its_check() {
    let mut problems = Vec::new();
    for (fault, tags, check, strict) in CASES {
        let dir = report_dir(fault);
        let d = dir.path().to_str().unwrap();
        let mut args = vec![
            "run",
            "--reference-fault",
            fault,
            "--tags",
            tags,
            "--report-dir",
            d,
        ];
        if *strict {
            args.push("--strict");
        }
        let out = harness(&args);
        if out.status.code() != Some(1) {
            problems.push(format!(
                "{fault}: exit {:?}\n{}",
                out.status.code(),
                dump(&out)
            ));
            continue;
        }
        let results = results(dir.path());
        let failed: Vec<String> = failures(&results).into_iter().map(|(_, c)| c).collect();
        if !failed.iter().any(|c| c == check) {
            problems.push(format!(
                "{fault}: expected {check} to fail, failed: {failed:?}"
            ));
        }
        let errors: Vec<_> = outcomes(&results)
            .into_iter()
            .filter(|(_, o)| o == "error")
            .collect();
        if !errors.is_empty() {
            problems.push(format!(
                "{fault}: a fault of the SUT was reported as an Error: {errors:?}"
            ));
        }
        if !dir.path().join("junit.xml").exists() {
            problems.push(format!("{fault}: no junit.xml"));
        }
        for m in crate::messages::debug_marks(&results) {
            problems.push(format!("{fault}: debug formatting in a message: {m}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_fault_is_covered() {
    let out = harness(&["run", "--reference-fault", "no-such-fault"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let known = err.split("known: ").nth(1).unwrap_or_default().trim();
    for name in known.split(", ") {
        if name.starts_with("stall-") || name == "dimse-stall" {
            continue; // covered by tests/suite/stalled_sut.rs
        }
        assert!(
            CASES.iter().any(|(f, ..)| *f == name),
            "fault {name} has no test case"
        );
    }
}
