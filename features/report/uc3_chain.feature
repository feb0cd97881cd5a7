@profile:MHD @profile:MADO @profile:HL7EU-Report @profile:DICOMweb
Feature: UC3 continuity of care: report, manifest and images of one study, end to end
  The whole chain a cross-border consumer runs for one patient: find the report and the manifest
  with MHD, retrieve both, then retrieve the referenced series with WADO-RS from the image source,
  and check that all of them agree (patient, study, accession, series and instances).
  Trace: eHN guideline UC3; MyHealth@EU imaging study retrieval; MADO UC#1-2; RAD-107.

  Background:
    Given the MHD responder holds the documents of the test studies

  @uc:UC3 @txn:ITI-67 @txn:ITI-68 @txn:RAD-107 @req:RPT-10 @req:MADO-C2
  Scenario: Find, retrieve and cross-check the report, the manifest and the images of one study
    When the consumer finds the documents of the patient of study "CT-CHEST"
    Then the result is a searchset holding exactly the matching documents
    When the consumer retrieves the report of study "CT-CHEST"
    And the consumer retrieves the KOS manifest of study "CT-CHEST"
    And the consumer retrieves the series the manifest references by WADO-RS
    Then the report links to the manifest of the same study
    And the manifest agrees with the images the image source returned
