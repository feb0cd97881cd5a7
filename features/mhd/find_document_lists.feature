@profile:MHD @txn:ITI-66 @actor:DocumentResponder
Feature: Find the submission sets of a patient (MHD ITI-66)
  A consumer may ask which submissions were made for a patient before it looks at the documents.
  Trace: ITI TF-2 §3.66; eHN guideline UC3.

  Background:
    Given the MHD responder holds the documents of the test studies

  @uc:UC3 @req:MHD-18
  Scenario: Find the submission sets of a known patient
    When the consumer finds the submission sets of the patient of study "CT-CHEST"
    Then the result is a searchset holding exactly the matching submission sets

  @uc:UC3 @neg
  Scenario: An unknown patient has no submission sets
    When the consumer finds the submission sets of an unknown patient
    Then the result is an empty searchset
