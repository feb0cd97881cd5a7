@profile:MHD @txn:ITI-65 @actor:DocumentRecipient
Feature: Publish imaging manifests and reports (MHD ITI-65)
  An Imaging Document Source publishes a manifest, or a radiology system a report, as an ITI-65
  Provide Document Bundle. The Document Recipient answers a transaction-response with a 201 per
  entry, and the documents can then be found and retrieved unchanged. A bundle that breaks ITI-65
  is refused as a whole, with an OperationOutcome, and nothing of it is stored; a bundle that is not
  even valid FHIR (DocumentReference.status is 1..1 in R4) is refused by any FHIR server, MHD-aware
  or not.
  Trace: eHN guideline UC1 (planned care: the images are shared before the visit); ITI TF-2 §3.65;
  FHIR R4 http.html (transaction processing), DocumentReference (status 1..1).

  @uc:UC1 @mado:kos @req:MHD-09 @req:MHD-19
  Scenario: Publish a new KOS manifest with the Minimal metadata
    When the source provides a new KOS manifest of study "CT-CHEST"
    Then the recipient accepts the bundle
    And the published document can be found and retrieved unchanged

  @uc:UC1 @mado:kos @mhd:comprehensive
  Scenario: Publish a new KOS manifest with the Comprehensive metadata
    When the source provides a new KOS manifest of study "MR-BRAIN" with the Comprehensive metadata
    Then the recipient accepts the bundle
    And the published document can be found and retrieved unchanged

  @uc:UC1 @uc:UC5
  Scenario: Publish a new imaging report
    When the source provides a new report of study "DX-CHEST"
    Then the recipient accepts the bundle
    And the published document can be found and retrieved unchanged

  @uc:UC1 @uc:UC5 @txn:ITI-67 @req:MHD-09 @req:MHD-18
  Scenario: A replacement supersedes the document it replaces
    When the source provides a new report of study "DX-CHEST"
    Then the recipient accepts the bundle
    When the source replaces the published document with a new version
    Then the recipient accepts the bundle
    And the replaced document is superseded and its replacement is current

  @uc:UC1 @neg @req:MHD-20
  Scenario: A bundle without a SubmissionSet is refused with an OperationOutcome
    When the source provides a bundle of study "CT-CHEST" without its SubmissionSet
    Then the recipient refuses the bundle with an OperationOutcome

  @uc:UC1 @neg @req:MHD-20
  Scenario: A bundle whose document hash is wrong is refused
    When the source provides a bundle of study "CT-CHEST" whose document hash is wrong
    Then the recipient refuses the bundle with an OperationOutcome

  @uc:UC1 @neg @req:MHD-20 @fhir:core
  Scenario: A bundle that is invalid FHIR, a DocumentReference without status, is refused by any FHIR server
    When the source provides a bundle of study "CT-CHEST" whose DocumentReference has no status
    Then the recipient refuses the bundle with an OperationOutcome
