@profile:DIMSE @txn:C-MOVE @txn:C-GET @actor:QueryRetrieveScp
Feature: Retrieving images (C-MOVE, RAD-16; C-GET)
  An XDS-I.b Imaging Document Consumer that reads a manifest's Retrieve AE Title retrieves the
  images by C-MOVE (RAD-16) to its own Storage SCP, or by C-GET on the same association. The SCP
  must send exactly the instances asked for, each with the image stored, count them in its
  responses, refuse an unknown destination (with A801, the status named for it), and stop when
  cancelled. An archive may have coerced other attributes of what it stored (PS3.4 §B.4.1.3): that
  data sets come back byte for byte is a recommendation (DIM-19), a warning unless strict.
  Trace: eHN guideline Feature 10 (legacy XDS-I.b retrieve by C-MOVE; import into the local PACS);
  IHE RAD TF-2 §4.16; DICOM PS3.4 §C.4.2, §C.4.3.

  Background:
    Given the DICOM archive holds the test studies

  @uc:UC3 @req:DIM-03 @req:DIM-07 @req:DIM-08 @req:DIM-09 @req:DIM-17 @req:DIM-18 @req:DIM-19
  Scenario: A series is moved to the harness's Storage SCP, every instance unchanged
    When the SCU moves series 1 of study "CT-CHEST" to the harness
    Then the final status is 0000
    And every response echoes its request
    And the sub-operation counts account for every instance
    And the harness received exactly the instances asked for, unchanged
    And every instance delivered is one the request selected, under its own UID
    And every sub-operation names the C-MOVE it belongs to

  @uc:MADO-UC2 @req:DIM-08 @req:DIM-17 @req:DIM-19
  Scenario: The instances a manifest references are moved by their SOP Instance UIDs
    When the SCU moves the instances the manifest of study "DX-CHEST" references to the harness
    Then the final status is 0000
    And the harness received exactly the instances asked for, unchanged
    And every instance delivered is one the request selected, under its own UID

  @neg @req:DIM-03 @req:DIM-20
  Scenario: A move to an unknown destination is refused with A801
    When the SCU moves series 1 of study "CT-CHEST" to the unknown destination "NOWHERE"
    Then the move is refused as its destination is unknown

  @uc:UC1 @req:DIM-03 @req:DIM-07 @req:DIM-08 @req:DIM-09 @req:DIM-10 @req:DIM-17 @req:DIM-19 @req:PEER-01
  Scenario: A series is retrieved on the same association by C-GET
    When the SCU gets series 2 of study "MR-BRAIN"
    Then the final status is 0000
    And every response echoes its request
    And the sub-operation counts account for every instance
    And the harness received exactly the instances asked for, unchanged
    And every instance delivered is one the request selected, under its own UID

  @neg @req:DIM-11
  Scenario: A C-MOVE cancelled after the first sub-operation ends with status Cancel
    When the SCU moves series 1 of study "CT-CHEST" to the harness and cancels after the first response
    Then the operation ends with status Cancel
