@uc:UC3 @profile:XCA @profile:XCA-I
Feature: A patient of country A treated in country B: her home country's key images across borders
  A patient insured in country A is treated in country B. The clinician in B needs the key images
  of her latest study, held in A. Country B's gateways, played by the harness, find the study's
  manifest in A through Cross Gateway Query, retrieve the KOS through Cross Gateway Retrieve, and
  then retrieve the images it references through Cross Gateway Retrieve Imaging Document Set from
  A's Responding Imaging Gateway, whose Imaging Document Source may be a real archive (serve
  --wado-upstream). Every leg is judged as its own transaction, and the images must be exactly
  those the manifest references, with A's community named on every answer.
  Trace: eHN guideline UC3 (imaging across borders); IHE ITI TF-2 §3.38, §3.39; IHE RAD TF-2
  §4.75; RAD TF-1 XCA-I (the query side of XCA-I is XCA).

  Background:
    Given the SUT is a Responding Gateway whose community holds the manifests of the test studies
    And the SUT is a Responding Imaging Gateway in front of the Imaging Document Sources of its community

  @txn:ITI-38 @txn:ITI-39 @txn:RAD-75 @req:ITI38-01 @req:ITI39-01 @req:RAD75-02 @req:XCAI-05 @req:XDSI-10 @req:XDSI-13
  Scenario: Country B finds the home country's manifest, retrieves it, then the key images it references
    When the initiating gateway finds the manifests of the patient of study "MR-BRAIN"
    Then every returned object names the gateway's community
    And the answer is Success
    When the initiating gateway retrieves the manifest of study "MR-BRAIN" from the gateway's community
    Then the message is a conformant XDS message
    And the answer is Success
    When the initiating imaging gateway retrieves every image the retrieved manifest references
    Then the message is a conformant XDS message
    And the imaging gateway answers with the RAD-75 response action
    And the imaging gateway returns exactly the requested images its community holds
    And every returned image names the community it was asked in
    And the answer is Success
