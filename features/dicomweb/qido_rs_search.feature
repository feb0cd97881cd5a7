@profile:DICOMweb @txn:RAD-129 @actor:ImagingDocumentSource
Feature: QIDO-RS search for studies, series and instances (RAD-129)
  The list of a patient's imaging studies (UC3 step 1: what, where, which body region) comes from
  a search; selection by modality and date needs the matching rules of C-FIND.
  Trace: eHN guideline UC3, UC5; NCPeH study search option 2 (QIDO-RS); DICOM PS3.18 §10.6, §8.3.4.

  Background:
    Given the DICOMweb origin server holds the test studies

  @uc:UC3 @req:DW-07 @req:DW-09 @req:DW-20 @req:DW-26 @req:PEER-01 @req:BODY-01
  Scenario: Search all studies: every study-level required attribute is returned
    When the consumer searches for all studies
    Then the response status is 200
    And every result has the required attributes
    And every result describes the test-data entity it names
    And the results include the studies "CT-CHEST, MR-BRAIN, DX-CHEST, US-ABDOMEN"

  @uc:UC3 @req:DW-19 @req:DW-09 @req:DW-07
  Scenario: Search the studies of one patient
    When the consumer searches for studies of patient "CTH-0001"
    Then the response status is 200
    And every result matches the query
    And every result has the required attributes
    And the results include the studies "CT-CHEST, MR-BRAIN"

  @uc:UC3 @req:DW-19 @req:DW-09
  Scenario: Wildcard matching on the patient's name
    When the consumer searches for studies with "PatientName=Doe*"
    Then the response status is 200
    And every result matches the query
    And the results include the studies "CT-CHEST, MR-BRAIN"

  @uc:UC3 @req:DW-19 @req:DW-09
  Scenario: Date range matching finds the latest and the prior study
    When the consumer searches for studies with "StudyDate=20260101-20260131"
    Then the response status is 200
    And every result matches the query
    And the results include the studies "CT-CHEST, MR-BRAIN, DX-CHEST"

  @uc:UC3 @req:DW-19 @req:DW-09
  Scenario: Matching on modalities in study selects the MR study
    When the consumer searches for studies with "ModalitiesInStudy=MR"
    Then the response status is 200
    And every result matches the query
    And the results include the studies "MR-BRAIN"

  @uc:UC3 @req:DW-19 @req:DW-09
  Scenario: UID list matching returns exactly the listed studies
    When the consumer searches for studies with the UIDs of "CT-CHEST" and "US-ABDOMEN"
    Then the response status is 200
    And every result matches the query
    And the results include the studies "CT-CHEST, US-ABDOMEN"

  @uc:UC3 @req:DW-08 @req:DW-25
  Scenario: Paging with limit and offset
    When the consumer searches for studies of patient "CTH-0001"
    And the consumer searches for studies with "PatientID=CTH-0001&limit=1&offset=1"
    Then the response status is 200
    And the results are the requested page of the unpaged results
    When the consumer searches for studies with "PatientID=CTH-0001&limit=1"
    Then the response status is 200
    And the results are the requested page of the unpaged results

  # Study Description is an optional attribute: an origin server returns it if it supports it
  # (PS3.18 §10.6.3.3.1), but every origin server supports the includefield parameter itself
  # (Table 8.3.4-1: M) and still returns the required attributes.
  @uc:UC3 @req:DW-07 @req:DW-20
  Scenario: A search with includefield of an optional attribute is answered with every required attribute
    When the consumer searches for studies with "PatientID=CTH-0002&includefield=00081030"
    Then the response status is 200
    And every result has the required attributes

  @neg @uc:UC5 @req:DW-19 @req:DW-20
  Scenario: A patient without studies gets an empty result
    When the consumer searches for studies of patient "NO-SUCH-PATIENT-4711"
    Then the response status is 204 for "a search without matches", or 200 when lenient
    And the result list is empty

  @uc:UC3 @req:DW-07 @req:DW-09 @req:DW-19 @req:DW-26
  Scenario: Search the series of a study
    When the consumer searches for series of study "CT-CHEST"
    Then the response status is 200
    And every result matches the query
    And every result has the required attributes
    And every result describes the test-data entity it names
    And the results include every series of study "CT-CHEST"

  @uc:UC3 @req:DW-19
  Scenario: Search the series of a study by modality
    When the consumer searches for series of study "US-ABDOMEN" with "Modality=US"
    Then the response status is 200
    And every result matches the query

  @uc:MADO-UC2 @req:DW-07 @req:DW-09 @req:DW-19 @req:DW-26
  Scenario: Search the instances of a series
    When the consumer searches for instances of series 1 of study "DX-CHEST"
    Then the response status is 200
    And every result matches the query
    And every result has the required attributes
    And every result describes the test-data entity it names
    And the results include every instance of series 1 of study "DX-CHEST"
