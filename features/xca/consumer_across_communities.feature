@profile:XCA @role:simulator @actor:DocumentConsumer
Feature: A Document Consumer finds and retrieves documents of other communities through its gateway
  A clinician's Document Consumer asks its community's Initiating Gateway for a patient's imaging
  manifests; the entries come back from several communities, each with the homeCommunityId of the
  community that holds it (`home`). Whatever the consumer asks next about one of those entries,
  a stored query by id or the retrieve of the document, it names that community, so that the
  gateway can send the request to the right Responding Gateway. The harness is the Initiating
  Gateway the SUT calls, with the communities A and B behind it; the test studies' manifests are
  split between A and B. A trigger from the SUT profile makes the SUT find the manifests of a
  patient, ask for one of them by id, then retrieve it.
  Trace: eHN guideline UC3 (imaging across borders); IHE ITI TF-2 §3.18.4.1.2.3.8 (Gazelle
  ITI18-MU-018), §3.43.4.1.2.

  @uc:UC3 @txn:ITI-18 @req:XCA-08 @req:ITI18-01 @req:ITI18-02 @req:ITI18-03
  Scenario: The SUT consumer names the community of the entry it asks about by id
    When the SUT document consumer is asked to find and retrieve across communities the manifest of study "CT-CHEST"
    Then its stored queries by id name the community the entries came with

  @uc:UC3 @txn:ITI-43 @req:XCA-09 @req:ITI43-01 @req:XDSI-16
  Scenario: The SUT consumer retrieves a document of another community naming its community
    When the SUT document consumer is asked to find and retrieve across communities the manifest of study "MR-BRAIN"
    Then the message is a conformant XDS message
    And its retrieve names the community each document's entry came with
    And the request is about the patient or the manifest it was asked about
