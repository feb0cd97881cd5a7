@profile:MHD @profile:EU-API @actor:DocumentResponder
Feature: The HL7 Europe imaging API's Document Access Provider says what it supports
  A Document Consumer in another Member State, before it searches a patient's imaging reports
  and study manifests, reads the server's CapabilityStatement. The HL7 Europe Imaging Report
  API (the EHDS priority category "medical images and image reports") names what the Document
  Access Provider (MHD Document Responder grouped with PDQm) SHALL and SHOULD support: search of
  DocumentReference by patient, category, type, modality and body site, retrieval of Binary,
  Patient lookup by identifier. The harness judges what the statement declares, then that the
  searches the API adds work.
  Trace: eHN guideline UC3 and UC5; HL7 Europe Imaging Report IG 1.0.0-ballot
  (CapabilityStatement EehrxfImagingDocumentAccessProvider, DocumentReferenceImagingReport);
  FHIR R4 http.html (capabilities).

  Background:
    Given the SUT claims the HL7 Europe imaging Document Access Provider

  @uc:UC5 @txn:FHIR @req:EUAPI-01
  Scenario: The CapabilityStatement declares what the Document Access Provider shall support
    When the consumer reads the SUT's CapabilityStatement
    Then the CapabilityStatement declares what the imaging Document Access Provider SHALL support

  @uc:UC5 @txn:FHIR @req:EUAPI-02
  Scenario: The CapabilityStatement declares the searches the Document Access Provider should support
    When the consumer reads the SUT's CapabilityStatement
    Then the CapabilityStatement declares what the imaging Document Access Provider SHOULD support

  @uc:UC3 @txn:ITI-67 @req:MHD-18
  Scenario: Searching by the HL7 Europe body site parameter returns the matching documents
    Given the MHD responder holds the documents of the test studies
    When the consumer finds the documents of the patient of study "CT-CHEST" with "bodysite=http://snomed.info/sct|67734004"
    Then the result is a searchset holding exactly the matching documents
