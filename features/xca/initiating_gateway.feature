@profile:XCA @role:simulator @actor:InitiatingGateway
Feature: An Initiating Gateway finds and retrieves documents across communities for its consumers
  A clinician's Document Consumer asks its community's Initiating Gateway for a patient's imaging
  manifests, and the gateway asks the Responding Gateways of the communities that hold them (ITI-38,
  ITI-39), then answers the consumer with one consolidated result (XDS Affinity Domain Option):
  every entry of every community with its homeCommunityId, the errors of a community that failed
  next to the entries of one that answered, and each retrieved document from its own community.
  The harness is the consumer in front of the gateway and the Responding Gateways of communities
  A and B behind it; the test studies' manifests are split between A and B.
  Trace: eHN guideline UC3 (imaging across borders); IHE ITI TF-2 §3.38.4.1, §3.39.4.1,
  §3.43.4.1.3; ITI TF-3 Table 4.2.4.1-2, Table 4.2.4.2-3.

  Background:
    Given the SUT is an Initiating Gateway in front of the harness's communities A and B

  @serial @uc:UC3 @txn:ITI-38 @req:ITI38-11 @req:XCA-01 @req:XDSI-01 @req:XDS-SOAP-02 @req:XDS-SOAP-03
  Scenario: A patient's manifests are found in both communities, each with its community
    When the consumer finds the manifests of the patient of study "CT-CHEST" through the gateway
    Then the message is a conformant XDS message
    And the gateway's requests to the communities are conformant XDS messages
    And every parameter of the query reached each community
    And the answer holds every entry of the communities, each with its homeCommunityId
    And the answer is Success

  @serial @txn:ITI-38 @req:ITI38-11 @req:XCA-01
  Scenario: Object references found in both communities keep their community
    When the consumer finds the manifests of the patient of study "DX-CHEST" through the gateway as object references
    Then every parameter of the query reached each community
    And the answer holds every entry of the communities, each with its homeCommunityId
    And the answer is Success

  @serial @neg @txn:ITI-38 @req:XCA-02 @req:XCA-01
  Scenario: A community whose registry fails makes a partial success
    Given community B's registry is out of service
    When the consumer finds the manifests of the patient of study "CT-CHEST" through the gateway
    Then the answer is a partial success with community B's error
    And the answer holds every entry of the communities, each with its homeCommunityId

  @serial @txn:ITI-38 @req:XCA-03
  Scenario: A community that does not know the patient is no error for the consumer
    Given community B does not know the patient
    When the consumer finds the manifests of the patient of study "CT-CHEST" through the gateway
    Then community B's XDSUnknownPatientId is not passed on
    And the answer holds every entry of the communities, each with its homeCommunityId

  @serial @neg @txn:ITI-38 @req:XCA-04
  Scenario: Objects a community returns without its homeCommunityId are reported
    Given community B's gateway leaves home off its objects
    When the consumer finds the manifests of the patient of study "CT-CHEST" through the gateway
    Then the objects without home are reported as XDSMissingHomeCommunityId
    And the answer holds every entry of the communities, each with its homeCommunityId

  @serial @neg @txn:ITI-38 @req:XCA-05
  Scenario: A community that cannot be reached is reported as unavailable
    Given community B's gateway cannot be reached
    When the consumer finds the manifests of the patient of study "CT-CHEST" through the gateway
    Then the unreachable community is reported as XDSUnavailableCommunity
    And the answer holds every entry of the communities, each with its homeCommunityId

  @serial @txn:ITI-38 @req:ITI38-12 @req:ITI38-11
  Scenario: A manifest is got by its uniqueId from its own community only
    When the consumer gets the manifest of study "MR-BRAIN" through the gateway, naming its community
    Then the query reached only the community named, with its homeCommunityId
    And every parameter of the query reached each community
    And the answer holds every entry of the communities, each with its homeCommunityId

  @serial @txn:ITI-38 @req:ITI38-12
  Scenario: Another community's manifest is got by its uniqueId from that community only
    When the consumer gets the manifest of study "CT-CHEST" through the gateway, naming its community
    Then the query reached only the community named, with its homeCommunityId
    And the answer holds every entry of the communities, each with its homeCommunityId

  @serial @uc:UC3 @txn:ITI-39 @req:ITI39-06 @req:ITI39-07 @req:XCA-07 @req:XDSI-13 @req:XDS-SOAP-03 @req:XDS-SOAP-04
  Scenario: Manifests of two communities are retrieved, each from its community's gateway
    When the consumer retrieves the manifests of studies "CT-CHEST" and "MR-BRAIN" through the gateway
    Then the message is a conformant XDS message
    And the gateway's requests to the communities are conformant XDS messages
    And every Cross Gateway Retrieve names the addressed community
    And each document went to the gateway of its community only
    And the documents come back as their communities returned them
    And the answer is Success

  @serial @neg @txn:ITI-39 @req:XCA-06 @req:ITI39-07
  Scenario: A document community B does not hold makes a partial success
    When the consumer retrieves the manifest of study "DX-CHEST" and a document community B does not hold through the gateway
    Then the retrieve answer is a partial success with the document and community B's error
    And each document went to the gateway of its community only
    And the documents come back as their communities returned them
