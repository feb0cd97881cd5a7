@profile:XDS-I.b @role:simulator
Feature: The SUT calls the harness's simulated registry, repository and imaging source
  At a connectathon or in a national test bed the system under test is often the initiator: an
  Imaging Document Source that publishes manifests, or a consumer that queries and retrieves. The
  harness then plays the Document Registry, the Document Repository and the Imaging Document
  Source; a trigger from the SUT profile (a command line or a prompt to the operator) makes the SUT
  act, and the step waits, with a timeout, for its call. The SUT's message is judged by the same
  checks. Against the embedded reference, the harness's own conformant actors play the SUT.
  Trace: eHN guideline UC1 and UC3; IHE RAD TF-2 §4.68, §4.69; ITI TF-2 §3.18; Feature 5 of the
  scenario catalogue.

  @uc:UC1 @txn:RAD-68 @actor:ImagingDocumentSource @req:ITI41-05 @req:ITI41-16 @req:XDSI-05 @req:XDSI-07 @req:XDSI-08 @req:ITI41-01 @req:ITI41-02 @req:ITI41-03 @req:ITI41-04 @req:ITI41-06 @req:ITI41-07 @req:ITI41-08 @req:ITI41-08N @req:ITI41-09 @req:ITI41-10 @req:ITI41-13 @req:ITI41-14 @req:ITI41-15 @req:ITI41-23 @req:ITI41-24 @req:ITI41-25 @req:XDSI-06 @req:XDSI-15
  Scenario: The SUT imaging source publishes a conformant manifest with consistent metadata
    When the SUT imaging source is asked to submit the manifest of study "CT-CHEST"
    Then the message is a conformant XDS message
    And the submission is the manifest of the study it was asked to publish
    And the submitted metadata agrees with the manifest

  @uc:UC3 @txn:ITI-18 @actor:DocumentConsumer @req:ITI18-01 @req:ITI18-03 @req:ITI18-05 @req:ITI18-02 @req:ITI18-04 @req:ITI18-05W @req:ITI18-06 @req:ITI18-07 @req:XDS-SOAP-12 @req:XDSI-16
  Scenario: The SUT document consumer sends a conformant stored query
    When the SUT document consumer is asked to find the manifests of the patient of study "MR-BRAIN"
    Then the message is a conformant XDS message
    And the request is about the patient or the manifest it was asked about

  @uc:UC3 @txn:RAD-69 @actor:ImagingDocumentConsumer @req:RAD69-01 @req:RAD69-04 @req:XDSI-11 @req:RAD69-02 @req:RAD69-03
  Scenario: The SUT imaging consumer asks for the manifest's instances at its retrieve location
    When the SUT imaging consumer is asked to retrieve the images of study "DX-CHEST"
    Then the message is a conformant XDS message
    And the request asks only for instances the manifest references, at its retrieve location

  @uc:UC3 @txn:ITI-43 @actor:DocumentConsumer @req:ITI43-01 @req:XDSI-16
  Scenario: The SUT document consumer retrieves a manifest with a conformant request
    When the SUT document consumer is asked to retrieve the manifest of study "MR-BRAIN"
    Then the message is a conformant XDS message
    And the request is about the patient or the manifest it was asked about
