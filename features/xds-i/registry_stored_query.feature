@profile:XDS-I.b @txn:ITI-18 @actor:DocumentRegistry
Feature: Finding imaging manifests in the affinity domain (ITI-18 Registry Stored Query)
  A consumer preparing care for a patient asks the Document Registry for the patient's imaging
  manifests (DICOM KOS documents, formatCode 1.2.840.10008.5.1.4.1.1.88.59), filters them by
  modality or by study, and follows their associations. The registry must return exactly the
  entries that match, with complete metadata, and refuse malformed queries with the error codes
  of ITI TF-3 Table 4.2.4.1-2.
  Trace: eHN guideline UC3 (latest and prior studies of a patient) and UC1 (planned care);
  IHE ITI TF-2 §3.18; RAD TF-2 §4.68 (manifest metadata); Feature 1 of the scenario catalogue.

  Background:
    Given the affinity domain holds the manifests of the test studies

  @uc:UC3 @req:XDSI-01 @req:XDSI-02 @req:XDSI-12 @req:ITI18-08 @req:ITI18-10 @req:XDS-SOAP-02 @req:XDS-SOAP-01 @req:XDS-SOAP-03 @req:XDS-SOAP-07 @req:XDS-SOAP-11 @req:XDS-SOAP-13 @req:EBRIM-01 @req:EBRIM-02
  Scenario: The registry returns every manifest of a patient
    When the consumer finds the manifests of the patient of study "CT-CHEST"
    Then the message is a conformant XDS message
    And the query returns exactly the matching manifests
    And the answer is Success

  @uc:UC3 @req:XDSI-02
  Scenario: The prior CT manifest of a patient is found by its modality event code
    When the consumer finds the CT manifests of the patient of study "CT-CHEST"
    Then the message is a conformant XDS message
    And the query returns exactly the matching manifests
    And the answer is Success

  @uc:UC3 @req:XDSI-02 @req:ITI18-09
  Scenario: An ObjectRef query returns references only
    When the consumer finds the manifests of the patient of study "DX-CHEST" as object references
    Then the message is a conformant XDS message
    And the query returns exactly the matching manifests
    And the answer is Success

  @neg @uc:UC3 @req:XDSI-01 @req:XDSI-02
  Scenario: A patient the affinity domain does not know has no manifests
    When the consumer finds the manifests of an unknown patient
    Then the query returns exactly the matching manifests
    And the answer is Success

  @neg @req:XDSI-01 @req:XDS-SOAP-09 @req:XDS-SOAP-08 @req:XDS-SOAP-14
  Scenario: FindDocuments without a patient id is refused
    When the consumer sends FindDocuments without a patient id
    Then the message is a conformant XDS message
    And the answer is Failure with error XDSStoredQueryMissingParam

  @neg @req:XDSI-01
  Scenario: An unknown stored query id is refused
    When the consumer sends a stored query with an unknown query id
    Then the message is a conformant XDS message
    And the answer is Failure with error XDSUnknownStoredQuery

  @neg @req:XDSI-01
  Scenario: GetDocuments naming both a uniqueId and an entryUUID is refused
    When the consumer sends GetDocuments naming both a uniqueId and an entryUUID for study "MR-BRAIN"
    Then the message is a conformant XDS message
    And the answer is Failure with error XDSStoredQueryParamNumber

  @uc:UC1 @req:XDSI-02 @req:ITI18-08
  Scenario: The manifest of a study is found by its uniqueId
    When the consumer gets the manifest of study "MR-BRAIN" by its uniqueId
    Then the message is a conformant XDS message
    And the query returns exactly the matching manifests
    And the answer is Success

  @uc:UC3 @req:XDSI-02
  Scenario: The manifest of a study is found by its Study Instance UID
    When the consumer finds the manifest of study "US-ABDOMEN" by its Study Instance UID
    Then the query returns exactly the matching manifests
    And the answer is Success

  @uc:UC3 @req:XDSI-01
  Scenario: The associations of a manifest include its submission set membership
    When the consumer gets the manifest of study "DX-CHEST" by its uniqueId
    Then the answer is Success
    When the consumer asks for the associations of that manifest
    Then the message is a conformant XDS message
    And the result holds the submission set association of the manifest
