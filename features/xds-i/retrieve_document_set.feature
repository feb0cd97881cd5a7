@profile:XDS-I.b @txn:ITI-43 @actor:DocumentRepository
Feature: Retrieving imaging manifests from the repository (ITI-43 Retrieve Document Set)
  Having found a manifest, the consumer retrieves it from the Document Repository. The repository
  must return the very bytes that were registered (the size and SHA-1 the registry holds), as
  application/dicom in an MTOM/XOP package, and the manifest must agree with its metadata:
  uniqueId, patient, study and modalities. Unknown documents and repositories are errors of the
  named codes, and a partial retrieve says PartialSuccess.
  Trace: eHN guideline UC1 and UC3; IHE ITI TF-2 §3.43; RAD TF-2 §4.68.4.1.2; Features 2 and 3 of
  the scenario catalogue.

  Background:
    Given the affinity domain holds the manifests of the test studies

  @uc:UC1 @uc:UC3 @req:XDSI-03 @req:XDSI-04 @req:XDSI-13 @req:XDSI-05 @req:XDSI-06 @req:XDSI-07 @req:XDSI-08 @req:KOS-04
  Scenario: The repository returns the registered manifest, which agrees with its metadata
    When the consumer retrieves the manifest of study "CT-CHEST" from the repository
    Then the message is a conformant XDS message
    And the repository returns the manifest as registered
    And the manifest is a valid XDS-I.b imaging manifest
    And the manifest agrees with its registry metadata
    And the answer is Success

  @uc:MADO-UC2 @req:XDSI-03 @req:XDSI-04 @req:XDSI-05
  Scenario: The manifest of a radiograph study is returned as registered
    When the consumer retrieves the manifest of study "DX-CHEST" from the repository
    Then the repository returns the manifest as registered
    And the manifest agrees with its registry metadata
    And the answer is Success

  @neg @req:XDSI-01 @req:ITI43-02 @req:ITI43-03
  Scenario: An unknown document is an error
    When the consumer retrieves an unknown document from the repository
    Then the message is a conformant XDS message
    And the answer is Failure with error XDSDocumentUniqueIdError

  @neg @req:XDSI-01 @req:ITI43-02 @req:ITI43-03W
  Scenario: A retrieve of one known and one unknown document is a partial success
    When the consumer retrieves the manifest of study "MR-BRAIN" and an unknown document
    Then the message is a conformant XDS message
    And the answer is PartialSuccess with error XDSDocumentUniqueIdError

  @neg @req:XDSI-01
  Scenario: A retrieve addressed to an unknown repository is an error
    When the consumer retrieves the manifest of study "MR-BRAIN" from an unknown repository
    Then the message is a conformant XDS message
    And the answer is Failure with error XDSUnknownRepositoryId
