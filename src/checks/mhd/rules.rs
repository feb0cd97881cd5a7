//! The MHD rules in the shared vocabulary ([`crate::checks::rule`]): FHIR-01 and FHIR-02 (a
//! readable FHIR resource, XML in definition order) and MHD-01..22, each with its id, requirement,
//! level and title; the checks of [`super::CHECKS`] and the ITI-65 validator's violations name them.

crate::checks::rule::rules! {
    FHIR_01 = ("FHIR-01",
        "HL7 FHIR R4 §3.1.0 (RESTful API), §2.6 (XML/JSON formats)",
        Shall,
        "The SUT's body is a well-formed FHIR resource of the type the transaction requires");
    FHIR_02 = ("FHIR-02",
        "HL7 FHIR R4 §2.6.2 (XML representation: elements in the order of the definition)",
        Shall,
        "The SUT's FHIR XML has its child elements in the order of their R4 definition");
    MHD_01 = ("MHD-01",
        "IHE ITI TF-2 3.65.4.1.2.1 (MHD ITI-65 Provide Document Bundle)",
        Shall,
        "ITI-65 is a transaction Bundle claiming an MHD ProvideBundle profile, sent as FHIR JSON or XML");
    MHD_02 = ("MHD-02",
        "IHE ITI TF-2 3.65.4.1.2.1; IHE.MHD.Minimal.SubmissionSet",
        Shall,
        "Exactly one SubmissionSet List (POST, code submissionset, mode working, status current, date, sourceId)");
    MHD_03 = ("MHD-03",
        "IHE ITI TF-2 3.65.4.1.2.1; IHE.MHD.Minimal.DocumentReference",
        Shall,
        "Each DocumentReference has masterIdentifier, status current/superseded, attachment contentType and url, no data, no docStatus");
    MHD_04 = ("MHD-04",
        "IHE ITI TF-2 3.65.4.1.2.1",
        Shall,
        "Every attachment.url pointing at a Binary resolves to a Binary entry of the Bundle");
    MHD_05 = ("MHD-05",
        "IHE ITI TF-2 3.65.4.1.2.1",
        Shall,
        "attachment.hash and .size match the Binary.data bytes (SHA-1, base64)");
    MHD_06 = ("MHD-06",
        "IHE ITI TF-2 3.65.4.1.2.1; IHE.MHD.UnContained.Comprehensive.* (Comprehensive Metadata option)",
        Shall,
        "Comprehensive Metadata: the required DocumentReference and SubmissionSet elements are present");
    MHD_07 = ("MHD-07",
        "IHE ITI TF-2 3.65.4.1.2.1; MHD identifier.fsh (mhd-startswithuuid, mhd-startswithoid)",
        Shall,
        "entryUUID identifiers start with urn:uuid:, the SubmissionSet uniqueId with urn:oid:");
    MHD_08 = ("MHD-08",
        "IHE ITI TF-2 3.65.4.1.2.2",
        Shall,
        "All DocumentReferences and Lists have the same Patient as subject");
    MHD_09 = ("MHD-09",
        "IHE ITI TF-2 3.65.4.2.2",
        Shall,
        "ITI-65 response: HTTP 200, transaction-response Bundle, one entry per request entry in order, each 201 with a location");
    MHD_20 = ("MHD-20",
        "IHE ITI TF-2 3.65.4.1.3 (the Recipient validates the bundle and processes it atomically); HL7 FHIR R4 §3.1.0.11.2 (http.html#transaction: a transaction succeeds or fails as a whole; an error gives an OperationOutcome), §3.1.0.4 (create: 400/422 for a resource that fails FHIR validation, e.g. DocumentReference.status 1..1)",
        Shall,
        "An ITI-65 bundle that breaks the profile, or FHIR itself, is refused as a whole: HTTP 4xx with an OperationOutcome holding an error issue, and nothing of it stored");
    MHD_10 = ("MHD-10",
        "IHE ITI TF-2 3.65.4.1.2.3",
        Shall,
        "A replaced DocumentReference is PATCHed to superseded in the same Bundle");
    MHD_11 = ("MHD-11",
        "IHE ITI TF-2 3.67.4.1.2.1",
        Shall,
        "ITI-67 request has patient or patient.identifier and status (code only)");
    MHD_12 = ("MHD-12",
        "IHE ITI TF-2 3.66.4.1.2.1",
        Shall,
        "ITI-66 request has patient or patient.identifier, code and status");
    MHD_13 = ("MHD-13",
        "IHE ITI TF-2 3.66.4.1.2, 3.67.4.1.2 (the Responder shall support both GET and POST based searches), 3.67.4.1.2.2 (both XML and JSON)",
        Shall,
        "The Responder supports GET and POST _search, in FHIR JSON and XML");
    MHD_14 = ("MHD-14",
        "IHE ITI TF-2 3.67.4.2.2, 3.66.4.2.2",
        Shall,
        "ITI-66/67 answer 200 with a searchset Bundle, empty when nothing matches");
    MHD_15 = ("MHD-15",
        "IHE ITI TF-2 3.68.4.1.3, 3.68.4.2.2; HL7 FHIR R4 binary.html#rest (a FHIR content type in Accept asks for the Binary resource)",
        Shall,
        "ITI-68 status code per the transaction; Content-Type is the DocumentReference's unless other content was negotiated");
    MHD_16 = ("MHD-16",
        "IHE ITI TF-2 3.65.4.1.2.1; IHE RAD MADO IG MadoDicomKosDocumentReference (parent IHE.MHD.Minimal.DocumentReference)",
        Shall,
        "KOS DocumentReference: application/dicom, format DCMUID#1.2.840.10008.5.1.4.1.1.88.59, masterIdentifier the KOS SOP Instance UID");
    MHD_17 = ("MHD-17",
        "IHE RAD MADO-IG MadoDicomKosDocumentReference (context.related, extension modality, context.period); IHE ITI TF-2 3.67.4.2.2",
        Shall,
        "MADO DocumentReference: study-instance-uid in context.related, modality extension, context.period.start");
    MHD_18 = ("MHD-18",
        "IHE ITI TF-2 3.67.4.1.3, 3.66.4.1.3",
        Shall,
        "Search results match the parameters sent, include every known match and nothing that does not match");
    MHD_19 = ("MHD-19",
        "IHE ITI TF-2 3.68.4.2.2 (the message-body is the content of the requested document), 3.65.4.1.2.1 (hash, size); HL7 FHIR R4 binary.html#rest (a FHIR content type in Accept asks for the Binary resource)",
        Shall,
        "The retrieved document's size and SHA-1 equal the DocumentReference's size and hash (the content of a Binary resource when a FHIR type was asked)");
    MHD_21 = ("MHD-21",
        "IHE ITI TF-2 3.65.4.1.2 (ITI-65 Provide Document Bundle), 3.65.4.1.2.2 (subject)",
        Shall,
        "A Document Source publishes the documents of the study, and the patient, it was asked to");
    MHD_22 = ("MHD-22",
        "IHE ITI TF-2 3.66.4.1.2.1, 3.67.4.1.2.1 (patient or patient.identifier)",
        Shall,
        "A Document Consumer searches for the patient it was asked about");
}
