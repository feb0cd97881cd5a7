@profile:DIMSE @txn:C-STORE @actor:StorageScp
Feature: Importing a study into the local PACS (C-STORE)
  After retrieving a study from abroad the consumer imports it into the local PACS: every instance
  is sent with C-STORE in its stored transfer syntax, and the PACS answers each with success (or a
  warning) for that very instance; the imported study is then found like any other. The harness
  imports copies of its test series under new UIDs, which no archive holds yet; an instance the
  archive already holds may be stored again, refused as a duplicate or flagged with a warning, as
  the standard leaves it to the archive.
  Trace: eHN guideline Feature 10 (import into the local PACS); DICOM PS3.4 §B.2.3.

  @uc:UC3 @req:DIM-12 @req:DIM-09
  Scenario: A study is imported into the PACS, each instance acknowledged
    When the SCU stores series 1 of study "DX-CHEST"
    Then every instance is acknowledged with success or a warning
    And every response echoes its request

  @uc:UC3 @req:DIM-12
  Scenario: Instances in several transfer syntaxes are imported
    When the SCU stores series 1 of study "MR-BRAIN"
    Then every instance is acknowledged with success or a warning

  @neg @uc:UC3 @req:DIM-12 @req:DIM-09
  Scenario: An instance the archive already holds is stored again
    Given the DICOM archive holds the test studies
    When the SCU stores series 1 of study "DX-CHEST" again, as the archive holds it
    Then every instance is answered as a duplicate may be: stored, warned or refused as a duplicate
    And every response echoes its request
