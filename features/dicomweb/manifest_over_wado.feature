@profile:DICOMweb @profile:XDS-I.b @txn:RAD-107 @actor:ImagingDocumentSource
Feature: Imaging manifests retrieved with WADO-RS, and the images they reference (RAD-107)
  A consumer selecting a study reads its manifest (a DICOM Key Object Selection document, title
  "Manifest") to learn which series and instances exist and where to fetch them; MADO UC#2 fetches the
  KOS with RAD-107 before the images. The manifest must be a valid XDS-I.b KOS, and every instance it
  references must really be retrievable from the source that holds it.
  Trace: eHN guideline UC3 (study selection); IHE MADO X.4.2.2; IHE RAD TF-2 §4.68.4.1.2 (XDS-I.b
  manifest); Feature 3 and Feature 11 of the scenario catalogue.

  Background:
    Given the DICOMweb origin server holds the test studies

  @uc:UC3 @uc:MADO-UC2 @req:KOS-01 @req:KOS-02 @req:KOS-03 @req:KOS-04 @req:KOS-05 @req:KOS-06 @req:KOS-07 @req:KOS-08 @req:KOS-09 @req:KOS-10 @req:KOS-11 @req:KOS-18 @req:KOS-21 @req:KOS-22
  Scenario: The manifest of a multi-series study is a valid XDS-I.b imaging manifest
    When the consumer retrieves the manifest of study "CT-CHEST"
    Then the response status is 200
    And the manifest is a valid XDS-I.b imaging manifest

  @uc:UC3 @req:DW-04 @req:DW-18
  Scenario: Every instance the manifest references can be retrieved from the image source
    When the consumer retrieves the manifest of study "MR-BRAIN"
    Then the response status is 200
    When the consumer retrieves every series the manifest references
    Then each series retrieve returns exactly the instances the manifest references

  @uc:UC1 @uc:MADO-UC2 @req:KOS-04 @req:KOS-06 @req:KOS-08
  Scenario: The manifest of a two-view radiograph is a valid XDS-I.b imaging manifest
    When the consumer retrieves the manifest of study "DX-CHEST"
    Then the response status is 200
    And the manifest is a valid XDS-I.b imaging manifest
