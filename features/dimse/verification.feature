@profile:DIMSE @txn:C-ECHO @actor:DicomScp
Feature: Association and verification (C-ECHO)
  Before anything else a legacy PACS behind a national infrastructure must accept an association
  from the harness's AE title and answer a C-ECHO; it must refuse an association addressed to an AE
  title that is not its own, with the reason the standard names.
  Trace: eHN guideline Feature 10 (DIMSE legacy paths); DICOM PS3.7 §9.1.5, PS3.8 §9.3.

  @uc:UC1 @req:DIM-01 @req:DIM-03 @req:DIM-09 @req:DIM-10
  Scenario: The SCP answers a C-ECHO
    When the SCU sends a C-ECHO
    Then every response echoes its request
    And the association was accepted with the contexts it needs
    And the final status is 0000

  @neg @req:DIM-02
  Scenario: An association addressed to an unknown called AE title is rejected
    When the SCU sends a C-ECHO to the called AE title "NOT_THE_SCP"
    Then the association is rejected as called AE title not recognized

  @neg @req:DIM-14
  Scenario: A presentation context for a SOP class the SCP does not support is refused
    When the SCU sends a C-ECHO on an association that also proposes an unknown SOP class
    Then the context for the unknown SOP class is refused
    And the final status is 0000
