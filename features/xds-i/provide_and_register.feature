@profile:XDS-I.b @txn:RAD-68 @actor:DocumentRepository
Feature: Publishing an imaging manifest (RAD-68 Provide and Register Imaging Document Set)
  Before a planned visit abroad the imaging site publishes the study's manifest: the harness plays
  the Imaging Document Source and sends a KOS with its XDS-I.b metadata as an MTOM/XOP package.
  The repository and registry must accept a conformant submission, make it findable and return it
  unchanged, and refuse the submissions that break the rules with the named error codes.
  Trace: eHN guideline UC1 (planned care) and UC3; IHE RAD TF-2 §4.68; ITI TF-2 §3.41, §3.42;
  Feature 3 of the scenario catalogue.

  @uc:UC1 @req:XDSI-01 @req:XDSI-02 @req:XDSI-04 @req:XDSI-14
  Scenario: A new manifest is accepted, can be found, and is returned unchanged
    When the imaging source provides and registers a new manifest of study "DX-CHEST"
    Then the message is a conformant XDS message
    And the consumer can find and retrieve the new manifest unchanged
    And the answer is Success

  @neg @req:XDSI-01
  Scenario: A manifest for a patient the affinity domain does not know is refused
    When the imaging source provides a new manifest of study "CT-CHEST" for an unknown patient
    Then the message is a conformant XDS message
    And the answer is Failure with error XDSUnknownPatientId

  @neg @req:XDSI-01
  Scenario: A document entry whose patient differs from its submission set is refused
    When the imaging source provides a new manifest of study "MR-BRAIN" whose entry names another patient than its submission set
    Then the message is a conformant XDS message
    And the answer is Failure with error XDSPatientIdDoesNotMatch or XDSRepositoryMetadataError

  @neg @req:XDSI-01
  Scenario: Metadata inconsistent with the manifest is refused by a manifest-aware repository
    When the imaging source provides a new manifest of study "US-ABDOMEN" whose uniqueId is not its SOP Instance UID
    Then the answer is Failure with error XDSRepositoryMetadataError, or Success when lenient

  @neg @req:XDSI-01
  Scenario: A hash that does not match the manifest is refused
    When the imaging source provides a new manifest of study "DX-CHEST" with a hash that does not match it
    Then the answer is Failure with error XDSNonIdenticalHash or XDSRepositoryMetadataError
