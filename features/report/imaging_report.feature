@profile:MHD @profile:HL7EU-Report @txn:ITI-68
Feature: The HL7 Europe imaging report: discovery, content and its link to the study
  In unplanned care the clinician may see only the report. The report is a FHIR document carrying
  the eHN data set: patient, author, legal authenticator, order, examination, modality, body part,
  findings, impression and recommendation, in sections coded with LOINC; and it names the study it
  reports on by Study Instance UID and accession number.
  Trace: eHN guideline A.1-A.8 (report data set), UC5 (report-only access); Xt-EHR
  EHDSImagingReport; HL7 Europe Imaging Report IG; scenario catalogue Feature 7 (F7.1-F7.6).

  Background:
    Given the MHD responder holds the documents of the test studies

  @uc:UC5
  Scenario: Report-only access: a study with a report and no shared manifest
    When the consumer finds the documents of study "DX-CHEST" by Study Instance UID
    Then the result holds a report and no manifest
    When the consumer retrieves the report of study "DX-CHEST"
    Then the report is a conformant HL7 Europe imaging report

  @uc:UC3 @uc:UC5 @req:RPT-01 @req:RPT-02 @req:RPT-03 @req:RPT-04 @req:RPT-05 @req:RPT-06 @req:RPT-07 @req:RPT-08 @req:RPT-09 @req:RPT-11 @req:RPT-12 @req:RPT-13
  Scenario: The report document has the required sections and aligned statuses
    When the consumer retrieves the report of study "CT-CHEST"
    Then the report is a conformant HL7 Europe imaging report

  @uc:UC3 @req:RPT-10
  Scenario: The report links to the manifest of the same study
    When the consumer retrieves the report of study "MR-BRAIN"
    And the consumer retrieves the KOS manifest of study "MR-BRAIN"
    Then the report links to the manifest of the same study

  @uc:UC3 @uc:UC5 @req:RPT-14
  Scenario: A preliminary report that was finalised keeps its business identifier
    When the consumer finds the reports of study "MR-BRAIN" in every status
    Then the result is a searchset holding exactly the matching documents
    And only the final report is current and both versions share the report identifier

  @uc:UC5 @neg
  Scenario: A report search for an unknown patient is empty
    When the consumer finds the documents of an unknown patient with "type=http://loinc.org|85430-7"
    Then the result is an empty searchset
