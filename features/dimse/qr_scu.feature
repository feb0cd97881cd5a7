@profile:DIMSE @role:simulator @actor:QueryRetrieveScu
Feature: The SUT queries and retrieves from the harness's Query/Retrieve SCP
  A viewer, a PACS or a gateway under test sends C-FIND, C-MOVE and C-GET requests to the
  harness, which plays the Query/Retrieve SCP: the trigger asks the SUT for one request, and the
  request the harness received is checked against what was asked (the level, the unique keys of
  the study or series asked, the Move Destination, the roles of a C-GET association).
  Trace: DICOM PS3.4 §C.4.1.2.1, §C.4.2.2.1, §C.4.3.2.1; PS3.7 §9.3.2.3, §D.3.3.4.

  @txn:C-FIND @req:DIMSCU-01
  Scenario: The SUT finds the series of a study at the harness
    When the SUT is asked to find the series of study "MR-BRAIN" at the harness
    Then the harness received the C-FIND asked for

  @txn:C-FIND @req:DIMSCU-01
  Scenario: The SUT finds the studies of a patient at the harness
    When the SUT is asked to find the studies of the patient of study "MR-BRAIN" at the harness
    Then the harness received the C-FIND asked for

  @txn:C-MOVE @req:DIMSCU-02
  Scenario: The SUT moves a series to the harness
    When the SUT is asked to move series 2 of study "MR-BRAIN" to the harness
    Then the harness received the C-MOVE asked for

  @txn:C-GET @req:DIMSCU-02 @req:DIMSCU-03
  Scenario: The SUT gets a series from the harness
    When the SUT is asked to get series 2 of study "MR-BRAIN" from the harness
    Then the harness received the C-GET asked for, on an association that takes the SCP role for the series' storage classes

  @txn:C-FIND @req:DIMSCU-01 @req:DIMSCU-04
  Scenario: The SUT cancels a C-FIND at the harness after the first match
    When the SUT is asked to find the instances of series 2 of study "MR-BRAIN" at the harness and to cancel after the first match
    Then the harness received the C-FIND asked for, and a C-CANCEL of it
