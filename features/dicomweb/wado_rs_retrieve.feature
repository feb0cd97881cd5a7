@profile:DICOMweb @txn:RAD-107 @actor:ImagingDocumentSource
Feature: WADO-RS retrieval of studies, series and instances (RAD-107)
  The image retrieval path of the eHN guideline ends with a WADO-RS retrieve from the Imaging
  Document Source (or the national contact point facade) at the location the manifest names:
  a whole study for planned care abroad (UC1), the latest and prior studies for continuity of care
  (UC3), selected series or key images (MADO UC#1, UC#2).
  Trace: eHN guideline, use cases UC1, UC3; IHE MADO X.4.2.1; DICOM PS3.18 §10.4.

  Background:
    Given the DICOMweb origin server holds the test studies

  @uc:UC1 @uc:MADO-UC1 @req:DW-01 @req:DW-02 @req:DW-17 @req:DW-03 @req:DW-04 @req:DW-18
  Scenario: Retrieve a whole study in the default transfer syntax
    When the consumer retrieves study "CT-CHEST"
    Then the response status is 200
    And the response is a well-formed multipart/related message of DICOM instances
    And the instances are in an acceptable transfer syntax
    And the response holds every instance of the target and nothing else

  @uc:UC3 @uc:MADO-UC1 @req:DW-01 @req:DW-03 @req:DW-04 @req:DW-18
  Scenario: Selective retrieval of one series of a multi-series study
    When the consumer retrieves series 3 of study "CT-CHEST"
    Then the response status is 200
    And the response is a well-formed multipart/related message of DICOM instances
    And the response holds every instance of the target and nothing else
    And the instances are in an acceptable transfer syntax

  @uc:UC3 @req:DW-01 @req:DW-03 @req:DW-04 @req:DW-18
  Scenario: Retrieve a single instance
    When the consumer retrieves instance 5 of series 1 of study "MR-BRAIN"
    Then the response status is 200
    And the response is a well-formed multipart/related message of DICOM instances
    And the response holds 1 part
    And the response holds every instance of the target and nothing else
    And the instances are in an acceptable transfer syntax

  @uc:UC1 @req:DW-03 @req:DW-04
  Scenario: A JPEG Lossless series comes back in Explicit VR Little Endian when no transfer syntax is asked for
    When the consumer retrieves series 2 of study "CT-CHEST"
    Then the response status is 200
    And the instances are in an acceptable transfer syntax
    And the response holds every instance of the target and nothing else

  # PS3.18 §8.7.3: the default applies "unless the origin server has only access to the pixel
  # data in lossy compressed form": the stored JPEG Baseline form, or decoded pixels, both pass.
  @uc:UC1 @req:DW-03 @req:DW-04 @req:DW-18
  Scenario: A JPEG Baseline series comes back as stored or in Explicit VR Little Endian when no transfer syntax is asked for
    When the consumer retrieves series 1 of study "DX-CHEST"
    Then the response status is 200
    And the instances are in an acceptable transfer syntax
    And the response holds every instance of the target and nothing else

  @uc:UC3 @req:DW-03 @req:DW-04
  Scenario: An Implicit VR series is never sent in Implicit VR over the web
    When the consumer retrieves series 2 of study "MR-BRAIN" in transfer syntax "*"
    Then the response status is 200
    And the instances are in an acceptable transfer syntax
    And the response holds every instance of the target and nothing else

  @uc:UC3 @req:DW-03 @req:DW-04
  Scenario: Transfer syntax "*" returns the stored compressed form
    When the consumer retrieves series 2 of study "CT-CHEST" in transfer syntax "*"
    Then the response status is 200
    And the response is a well-formed multipart/related message of DICOM instances
    And the instances are in an acceptable transfer syntax

  @uc:UC1 @req:DW-03 @req:DW-04
  Scenario: The stored transfer syntax asked for explicitly is returned as is
    When the consumer retrieves instance 1 of series 1 of study "DX-CHEST" in transfer syntax "1.2.840.10008.1.2.4.50"
    Then the response status is 200
    And the instances are in an acceptable transfer syntax

  # JPEG Baseline holds 8-bit samples (PS3.5 §8.2.1), and a CT Image has Bits Allocated 16
  # (PS3.3 §C.8.2.1.1.4, Enumerated Value): no valid CT instance exists in that syntax, so the
  # Acceptable Media Type cannot be met (§8.7.8.1 Note 1: 406).
  @neg @uc:UC3 @req:DW-04
  Scenario: A transfer syntax the server cannot produce is refused with 406
    When the consumer retrieves series 1 of study "CT-CHEST" in transfer syntax "1.2.840.10008.1.2.4.50"
    Then the response status is 406 for "a 16-bit CT series asked for in JPEG Baseline (8-bit)"

  # A media type of no table of PS3.18 (application/zip, used before, is a container some
  # editions offer for Retrieve): no wildcard either, so 406 (§8.7.8.1, step 5).
  @neg @uc:UC3 @req:DW-04
  Scenario: An unsupported media type is refused with 406
    When the consumer retrieves study "DX-CHEST" accepting "application/vnd.ihe-harness.unsupported"
    Then the response status is 406 for "a media type the Retrieve Study resource does not offer"

  @neg @uc:UC3 @req:DW-04
  Scenario: An unknown study is answered with 404
    When the consumer retrieves an unknown study
    Then the response status is 404 for "an unknown Study Instance UID"

  @neg @uc:UC3 @req:DW-04
  Scenario: An unknown series of a known study is answered with 404
    When the consumer retrieves an unknown series of study "CT-CHEST"
    Then the response status is 404 for "an unknown Series Instance UID"

  @neg @uc:UC3 @req:DW-04
  Scenario: An instance asked for under the wrong series is not found
    When the consumer retrieves instance 1 of series 1 of study "CT-CHEST" under series 2
    Then the response status is 404 for "a SOP Instance UID outside the series in the URL", or 400 when lenient

  @neg @uc:UC3 @req:DW-04
  Scenario: An instance asked for under another study is not found
    When the consumer retrieves instance 1 of series 1 of study "CT-CHEST" under study "MR-BRAIN"
    Then the response status is 404 for "a SOP Instance UID outside the study in the URL", or 400 when lenient

  @uc:MADO-UC2 @req:DW-01 @req:DW-04 @req:DW-17
  Scenario: Retrieve the key object selection manifest of a study as a DICOM instance
    When the consumer retrieves series 999 of study "DX-CHEST"
    Then the response status is 200
    And the response is a well-formed multipart/related message of DICOM instances
    And the response holds every instance of the target and nothing else
