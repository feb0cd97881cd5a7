@profile:DIMSE @txn:C-FIND @actor:QueryRetrieveScp
Feature: Finding studies, series and instances (C-FIND, Study Root and Patient Root)
  Before importing or viewing prior studies a consumer asks the PACS what it holds for the patient:
  at study, series and image level, with exact values, wildcards, date ranges and lists of UIDs.
  The SCP must answer each match with one pending response holding the keys asked for, and end
  with a final response; a query that matches nothing ends with success and no match.
  The harness knows its test data only: it judges that every test study, series, instance or
  patient that matches is found, with the values the test data holds, and that no other entity of
  the test data is; an entity it does not know (the archive's own data) may match as well and is
  judged by the keys asked.
  Trace: eHN guideline UC3 (prior studies of the patient) and Feature 10; DICOM PS3.4 §C.2.2.2,
  §C.4.1; IHE RAD-14.

  Background:
    Given the DICOM archive holds the test studies

  @uc:UC3 @req:DIM-03 @req:DIM-04 @req:DIM-05 @req:DIM-06 @req:DIM-09 @req:DIM-15 @req:DIM-16 @req:PEER-01
  Scenario: The studies of a patient are found at study level
    When the SCU finds the studies of the patient of study "CT-CHEST"
    Then every match is a pending response with an identifier, then a final response
    And every response echoes its request
    And the final status is 0000
    And every identifier holds the keys asked for and no others
    And every match is at the level asked and satisfies the keys asked
    And the test studies of that patient are all found, and no other test study

  @uc:UC3 @req:DIM-06 @req:DIM-09 @req:DIM-15 @req:DIM-16
  Scenario: The series of a study are found at series level
    When the SCU finds the series of study "CT-CHEST"
    Then the final status is 0000
    And every response echoes its request
    And every identifier holds the keys asked for and no others
    And every match is at the level asked and satisfies the keys asked
    And the test series of that study are all found, and no other test series

  @uc:UC3 @req:DIM-06 @req:DIM-15 @req:DIM-16
  Scenario: The instances of a series are found at image level
    When the SCU finds the instances of series 2 of study "MR-BRAIN"
    Then the final status is 0000
    And every match is at the level asked and satisfies the keys asked
    And the test instances of that series are all found, and no other test instance

  @uc:UC3 @req:DIM-06 @req:DIM-15 @req:DIM-16
  Scenario: A wildcard on the patient's name finds the patient's studies
    When the SCU finds studies with "PatientName" matching "Doe*"
    Then the final status is 0000
    And every match is at the level asked and satisfies the keys asked
    And the test studies of patient "CTH-0001" are all found, and no other test study

  @uc:UC3 @req:DIM-06 @req:DIM-15 @req:DIM-16
  Scenario: A study date range finds the studies of that period
    When the SCU finds studies with "StudyDate" matching "20260101-20260120"
    Then the final status is 0000
    And every match is at the level asked and satisfies the keys asked
    And the test study "CT-CHEST" is found, and no other test study

  @uc:UC3 @req:DIM-06 @req:DIM-15 @req:DIM-16
  Scenario: A list of Study Instance UIDs finds those studies
    When the SCU finds the studies "MR-BRAIN" and "DX-CHEST" by their UIDs
    Then the final status is 0000
    And every match is at the level asked and satisfies the keys asked
    And the test studies "MR-BRAIN, DX-CHEST" are found, and no other test study

  @uc:UC3 @req:DIM-06 @req:DIM-09 @req:DIM-15 @req:DIM-16
  Scenario: A patient is found at patient level (Patient Root)
    When the SCU finds the patient of study "US-ABDOMEN" with the Patient Root model
    Then the final status is 0000
    And every response echoes its request
    And every match is at the level asked and satisfies the keys asked
    And the test patient of study "US-ABDOMEN" is found, and no other test patient

  @neg @uc:UC3 @req:DIM-03 @req:DIM-06 @req:DIM-15 @req:DIM-16
  Scenario: A patient the archive does not know has no studies
    When the SCU finds the studies of an unknown patient
    Then the final status is 0000
    And no test study is found
    And every match is at the level asked and satisfies the keys asked

  @neg @req:DIM-11
  Scenario: A C-FIND cancelled after the first match ends with status Cancel
    When the SCU finds all studies and cancels after the first match
    Then the operation ends with status Cancel
