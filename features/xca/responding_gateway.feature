@profile:XCA @actor:RespondingGateway
Feature: A Responding Gateway answers another community's Initiating Gateway (ITI-38, ITI-39)
  A clinician abroad, through the Initiating Gateway of her community, looks for a patient's
  imaging manifests in the patient's home community and retrieves one. The Responding Gateway of
  that community answers Cross Gateway Query from its registry and Cross Gateway Retrieve from its
  repository, marks every object and document with its homeCommunityId, and refuses requests
  naming a community it does not represent.
  Trace: eHN guideline UC3 (imaging across borders); IHE ITI TF-2 §3.38, §3.39; ITI TF-3
  Table 4.2.4.1-2.

  Background:
    Given the SUT is a Responding Gateway whose community holds the manifests of the test studies

  @uc:UC3 @txn:ITI-38 @req:ITI38-01 @req:XDSI-01 @req:XDSI-02 @req:XDSI-12 @req:XDS-SOAP-02 @req:XDS-SOAP-03
  Scenario: The gateway returns every manifest of a patient, each with its community
    When the initiating gateway finds the manifests of the patient of study "CT-CHEST"
    Then the message is a conformant XDS message
    And the query returns exactly the matching manifests
    And every returned object names the gateway's community
    And the answer is Success

  @uc:UC3 @txn:ITI-38 @req:ITI38-01 @req:ITI18-09
  Scenario: Object references carry the gateway's community
    When the initiating gateway finds the manifests of the patient of study "DX-CHEST" as object references
    Then the message is a conformant XDS message
    And every returned object names the gateway's community
    And the answer is Success

  @uc:UC3 @txn:ITI-38 @req:ITI38-01 @req:XDSI-02
  Scenario: A manifest is found by its uniqueId in the gateway's community
    When the initiating gateway gets the manifest of study "MR-BRAIN" in the gateway's community
    Then the message is a conformant XDS message
    And the query returns exactly the matching manifests
    And every returned object names the gateway's community
    And the answer is Success

  @neg @txn:ITI-38 @req:ITI38-03 @req:ITI38-05 @req:XDSI-01
  Scenario: A query naming a community the gateway does not represent is refused
    When the initiating gateway gets the manifest of study "MR-BRAIN" naming an unknown community
    Then the message is a conformant XDS message
    And the unknown community is refused
    And every error names the gateway's community
    And the answer is Failure with error XDSUnknownCommunity

  @neg @txn:ITI-38 @req:ITI38-05 @req:XDSI-01
  Scenario: A query without a patient id that names no community is refused
    When the initiating gateway gets the manifest of study "MR-BRAIN" naming no community
    Then the message is a conformant XDS message
    And every error names the gateway's community
    And the answer is Failure with error XDSMissingHomeCommunityId

  @uc:UC3 @txn:ITI-39 @req:ITI39-01 @req:XDSI-13 @req:ITI43-02 @req:XDS-SOAP-02 @req:XDS-SOAP-04
  Scenario: The manifest found through the gateway is retrieved with its community
    When the initiating gateway finds the manifests of the patient of study "CT-CHEST"
    And the initiating gateway retrieves the manifest of study "CT-CHEST" from the gateway's community
    Then the message is a conformant XDS message
    And the answer is Success

  @neg @txn:ITI-39 @req:ITI39-04 @req:ITI39-02
  Scenario: A retrieve naming a community the gateway does not represent is refused
    When the initiating gateway retrieves the manifest of study "CT-CHEST" naming an unknown community
    Then the message is a conformant XDS message
    And the unknown community is refused
    And every error names the gateway's community
    And the answer is Failure with error XDSUnknownCommunity
