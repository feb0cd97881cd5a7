@profile:MHD @profile:MADO @txn:ITI-68
Feature: MADO imaging study manifests: content, and agreement between the formats and the images
  A MADO manifest describes one study well enough to choose what to fetch: patient, order,
  modalities, body region, series and instances, and where to retrieve them. It comes as a DICOM
  KOS with the MADO additions or as a FHIR Bundle with ImagingStudy, Endpoint and Device, or both;
  both must say the same thing, and match the images the image source actually holds.
  Trace: IHE RAD MADO 6.X.2, 6.X.3, X.6.1; eHN B.1 dataset; scenario catalogue Features 2 and 3.

  Background:
    Given the MHD responder holds the documents of the test studies

  @uc:UC3 @mado:kos @req:KOS-12 @req:KOS-13 @req:KOS-14 @req:KOS-15 @req:KOS-16 @req:KOS-17 @req:KOS-19 @req:MADO-C3
  Scenario: The KOS manifest carries the MADO attributes and the Image Library
    When the consumer retrieves the KOS manifest of study "CT-CHEST"
    Then the KOS manifest is a conformant MADO manifest
    And the manifest agrees with its DocumentReference

  @uc:UC3 @mado:kos
  Scenario: The KOS manifest of a multi-series MR study counts its series and instances right
    When the consumer retrieves the KOS manifest of study "MR-BRAIN"
    Then the KOS manifest is a conformant MADO manifest

  @uc:UC3 @mado:fhir @req:MADO-01 @req:MADO-02 @req:MADO-03 @req:MADO-04 @req:MADO-05 @req:MADO-06 @req:MADO-07 @req:MADO-08 @req:MADO-09 @req:MADO-10 @req:MADO-11 @req:MADO-12
  Scenario: The FHIR manifest follows the MADO FHIR profiles
    When the consumer retrieves the FHIR manifest of study "CT-CHEST"
    Then the FHIR manifest is a conformant MADO FHIR manifest

  @uc:UC3 @mado:both @req:MADO-C1
  Scenario: The KOS and FHIR manifests of a study agree
    When the consumer retrieves the KOS manifest of study "MR-BRAIN"
    And the consumer retrieves the FHIR manifest of study "MR-BRAIN"
    Then the KOS and FHIR manifests agree

  @uc:UC3 @mado:kos @req:MADO-C2
  Scenario: The manifest lists exactly the instances the image source holds
    When the consumer retrieves the KOS manifest of study "CT-CHEST"
    And the consumer retrieves the series the manifest references by WADO-RS
    Then the manifest agrees with the images the image source returned
