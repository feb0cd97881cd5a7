@profile:XDS-I.b @txn:ITI-18 @txn:ITI-43 @txn:RAD-69 @txn:RAD-107 @actor:ImagingDocumentSource
Feature: Manifest, metadata and images agree (the XDS-I.b cross-walk)
  One chain, as a consumer in another country walks it: find the patient's manifest, retrieve it,
  and fetch every instance it references from the Imaging Document Source, by RAD-69 or by WADO-RS
  at the image source. The registry metadata, the manifest and the images must tell the same story:
  the same study, the same patient, and every referenced instance retrievable.
  Trace: eHN guideline UC3 (latest and prior study, continuity of care) and MADO UC#2 (key images);
  IHE RAD TF-2 §4.68.4.1.2.1 (RAD68-006: referenced instances are retrievable), §4.69; Feature 11
  (archive-manifest consistency) of the scenario catalogue.

  Background:
    Given the affinity domain holds the manifests of the test studies

  @uc:UC3 @req:XDSI-02 @req:XDSI-04 @req:XDSI-05 @req:XDSI-10
  Scenario: The latest manifest of a patient leads to every image it references, by RAD-69
    When the consumer finds the manifests of the patient of study "MR-BRAIN"
    Then the answer is Success
    When the consumer retrieves the manifest of study "MR-BRAIN" from the repository
    Then the repository returns the manifest as registered
    And the manifest agrees with its registry metadata
    When the imaging consumer retrieves every instance the manifest references
    Then the imaging source returns exactly the requested instances it holds
    And the answer is Success

  @uc:MADO-UC2 @req:XDSI-10
  Scenario: The key images of a radiograph study are retrieved from its manifest by RAD-69
    When the consumer retrieves the manifest of study "DX-CHEST" from the repository
    Then the answer is Success
    When the imaging consumer retrieves every instance the manifest references
    Then the imaging source returns exactly the requested instances it holds
    And the answer is Success

  @profile:DICOMweb @uc:UC3 @req:DW-04 @req:DW-18
  Scenario: The manifest retrieved from the repository leads to every image by WADO-RS
    Given the DICOMweb origin server holds the test studies
    When the consumer retrieves the manifest of study "CT-CHEST" from the repository
    Then the answer is Success
    When the consumer retrieves every series the manifest references
    Then each series retrieve returns exactly the instances the manifest references
