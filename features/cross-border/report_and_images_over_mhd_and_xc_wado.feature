@uc:UC3 @profile:MHD @profile:MADO @profile:XC-WADO
Feature: A patient treated abroad: her report and manifest over MHD, her images through XC-WADO
  The clinician in country B finds the report and the study manifest of a patient of country A
  with MHD (through the contact point that fronts A's Document Responder), then retrieves the
  series the manifest references from A's image source through A's XC-WADO Responding Imaging
  Gateway, addressed by A's homeCommunityId and the Retrieve Location UID of the source. The
  images that cross the border must be exactly those the manifest references, and the report must
  point to the same study.
  Trace: eHN guideline UC3 (continuity of care across borders); IHE ITI MHD ITI-67/68; IHE RAD
  MADO Rev 1.1 §X.4.1.3, §X.6.5, §4.107.4.0.5, Appendix XA.

  Background:
    Given the MHD responder holds the documents of the test studies

  @txn:ITI-67 @txn:ITI-68 @txn:RAD-160 @req:RPT-10 @req:MADO-C2
  Scenario: Country B finds the report and the manifest over MHD and brings the images through XC-WADO
    When the consumer finds the documents of the patient of study "MR-BRAIN"
    Then the result is a searchset holding exactly the matching documents
    When the consumer retrieves the report of study "MR-BRAIN"
    And the consumer retrieves the KOS manifest of study "MR-BRAIN"
    And the consumer retrieves the series the manifest references through the XC-WADO gateway
    Then the report links to the manifest of the same study
    And the manifest agrees with the images the image source returned
