@profile:DIMSE @role:simulator @actor:StorageScu
Feature: The SUT sends to the harness's Storage SCP
  A modality or a PACS under test sends images to the harness, which plays the Storage SCP (and the
  C-MOVE destination): the trigger makes the SUT send, and each received instance is checked
  against what the SUT was asked to send.
  Trace: eHN guideline Feature 10; DICOM PS3.4 §B.2.

  @uc:UC1 @txn:C-STORE @req:DIM-09 @req:DIM-10 @req:DIM-13 @req:DIM-17 @req:DIM-19
  Scenario: The SUT stores a series into the harness
    When the SUT is asked to store series 2 of study "MR-BRAIN" into the harness
    Then the harness received exactly that series, unchanged
