@profile:MHD @role:simulator
Feature: The SUT calls the harness's simulated Document Recipient and Document Responder
  The system under test is the Document Source that publishes, or the Document Consumer that
  searches. A trigger from the SUT profile makes it act; the harness's simulator answers and judges
  the SUT's request with the same rules. Against the embedded reference, the harness's own
  conformant actors play the SUT.
  Trace: ITI TF-2 §3.65, §3.67; eHN guideline UC1 and UC3.

  @uc:UC1 @txn:ITI-65 @actor:DocumentSource @req:MHD-01 @req:MHD-02 @req:MHD-03 @req:MHD-04 @req:MHD-05 @req:MHD-06 @req:MHD-07 @req:MHD-08 @req:MHD-10 @req:MHD-21
  Scenario: The SUT document source publishes a conformant Provide Document Bundle
    When the SUT document source is asked to publish the documents of study "CT-CHEST"
    Then the SUT's request is a conformant MHD request
    And the SUT's request is about the study or the patient it was asked about

  @uc:UC3 @txn:ITI-67 @actor:DocumentConsumer @req:MHD-11 @req:MHD-22
  Scenario: The SUT document consumer sends a conformant Find Document References
    When the SUT document consumer is asked to find the documents of the patient of study "MR-BRAIN"
    Then the SUT's request is a conformant MHD request
    And the SUT's request is about the study or the patient it was asked about

  @uc:UC3 @txn:ITI-66 @actor:DocumentConsumer @req:MHD-12 @req:MHD-22
  Scenario: The SUT document consumer sends a conformant Find Document Lists
    When the SUT document consumer is asked to find the submission sets of the patient of study "CT-CHEST"
    Then the SUT's request is a conformant MHD request
    And the SUT's request is about the study or the patient it was asked about
