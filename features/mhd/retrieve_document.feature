@profile:MHD @txn:ITI-68 @actor:DocumentResponder
Feature: Retrieve imaging documents (MHD ITI-68)
  The consumer fetches the document a DocumentReference points at, asking with Accept for the
  format it supports. The bytes must be the ones the DocumentReference describes (size, SHA-1,
  media type), and a format the responder cannot supply is refused, not substituted. A FHIR type in
  Accept asks a FHIR server for the Binary resource itself (FHIR R4 Binary, "Serving Binary
  Resources using the RESTful API"), so the consumer asks for a document whose own type is FHIR
  JSON with */*, and a Binary resource answering a FHIR Accept is judged by the document it carries.
  Trace: ITI TF-2 §3.68; FHIR R4 binary.html; MADO X.6.1 (format by Accept); scenario catalogue
  Feature 2 (F2.1-F2.3).

  Background:
    Given the MHD responder holds the documents of the test studies

  @uc:UC3 @mado:kos @req:MHD-15 @req:MHD-19
  Scenario: Retrieve the DICOM KOS manifest of a study
    When the consumer retrieves the KOS manifest of study "CT-CHEST"
    Then the document is returned as its DocumentReference describes it

  @uc:UC3 @mado:fhir
  Scenario: Retrieve the FHIR manifest of a study
    When the consumer retrieves the FHIR manifest of study "MR-BRAIN"
    Then the document is returned as its DocumentReference describes it

  @uc:UC5
  Scenario: Retrieve the imaging report of a study
    When the consumer retrieves the report of study "DX-CHEST"
    Then the document is returned as its DocumentReference describes it

  @uc:UC3 @neg @mado:kos @req:MHD-15
  Scenario: A manifest format the responder cannot supply is refused with 406
    When the consumer retrieves the KOS manifest of study "US-ABDOMEN" accepting only "application/fhir+json"
    Then the answer is 406 Not Acceptable, or the Binary resource that FHIR type asks for

  @uc:UC3 @neg @req:MHD-15
  Scenario: An unknown document is not found
    When the consumer retrieves an unknown document
    Then the answer is 404 Not Found
