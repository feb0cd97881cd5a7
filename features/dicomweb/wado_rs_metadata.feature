@profile:DICOMweb @txn:RAD-107 @actor:ImagingDocumentSource
Feature: WADO-RS metadata, bulk data and frames (RAD-107)
  Before pulling images a consumer reads the study's metadata (what is in the study, which series
  to select: UC3 step 2) and may fetch only pixel data or single frames (MADO UC#1, remote viewing).
  Trace: eHN guideline UC3; IHE RAD-107 four message pairs (RAD TF-2 4.107.4.0); DICOM PS3.18 §10.4, Annex F.

  Background:
    Given the DICOMweb origin server holds the test studies

  @uc:UC3 @req:DW-04 @req:DW-05 @req:DW-22
  Scenario: Study metadata follows the DICOM JSON model
    When the consumer retrieves the metadata of study "MR-BRAIN"
    Then the response status is 200
    And the metadata follows the DICOM JSON model
    And the metadata describes every instance of the target

  @uc:UC3 @req:DW-04 @req:DW-05 @req:DW-22
  Scenario: Series metadata of a multi-frame ultrasound series
    When the consumer retrieves the metadata of series 1 of study "US-ABDOMEN"
    Then the response status is 200
    And the metadata follows the DICOM JSON model
    And the metadata describes every instance of the target

  @uc:UC3 @req:DW-05 @req:DW-06 @req:DW-22
  Scenario: BulkDataURI values in metadata can be dereferenced
    When the consumer retrieves the metadata of instance 1 of series 1 of study "CT-CHEST"
    Then the response status is 200
    And the metadata follows the DICOM JSON model
    And the metadata describes every instance of the target
    When the consumer dereferences every BulkDataURI of the metadata
    Then every BulkDataURI is retrievable

  @neg @uc:UC3 @req:DW-04
  Scenario: Metadata of an unknown study is answered with 404
    When the consumer retrieves the metadata of an unknown study
    Then the response status is 404 for "an unknown Study Instance UID"

  @uc:MADO-UC3 @req:DW-01 @req:DW-02 @req:DW-04 @req:DW-23
  Scenario: Retrieve two frames of a multi-frame instance
    When the consumer retrieves frames "1,3" of instance 1 of series 1 of study "US-ABDOMEN"
    Then the response status is 200
    And the response is a well-formed multipart/related message
    And the response holds the frames asked for

  @uc:MADO-UC3 @req:DW-01 @req:DW-04 @req:DW-23
  Scenario: The frame of an uncompressed instance is that instance's pixel data
    When the consumer retrieves frames "1" of instance 3 of series 1 of study "CT-CHEST"
    Then the response status is 200
    And the response is a well-formed multipart/related message
    And the response holds the frames asked for

  @uc:MADO-UC3 @req:DW-01 @req:DW-04 @req:DW-23
  Scenario: The frame of a JPEG Lossless instance comes back uncompressed when no transfer syntax is asked for
    When the consumer retrieves frames "1" of instance 1 of series 2 of study "CT-CHEST"
    Then the response status is 200
    And the response is a well-formed multipart/related message
    And the response holds the frames asked for

  @uc:MADO-UC3 @req:DW-04 @req:DW-21
  Scenario: Retrieve a rendered image of an instance for a viewer without DICOM support
    When the consumer retrieves instance 1 of series 1 of study "CT-CHEST" rendered as "image/png"
    Then the response status is 200
    And the response is a rendered image of a type the request accepts

  @uc:UC3 @req:DW-13
  Scenario: The origin server describes its capabilities
    When the consumer asks the origin server for its capabilities
    Then the capabilities are described in WADL

  @uc:UC3 @uc:MADO-UC1 @req:DW-14
  Scenario: The image source answers all four RAD-107 message pairs for one instance
    When the consumer uses all four RAD-107 message pairs on instance 1 of series 1 of study "CT-CHEST"
    Then each of the four message pairs is answered

  @uc:MADO-UC3 @req:DW-04 @req:DW-21
  Scenario: A rendered request that lists several image types with q-values is honoured
    When the consumer retrieves instance 1 of series 1 of study "CT-CHEST" rendered as "image/png, image/jpeg;q=0.9, image/gif;q=0.1"
    Then the response status is 200
    And the response is a rendered image of a type the request accepts

  @uc:MADO-UC3 @req:DW-04 @req:DW-21
  Scenario: A rendered image asked for only as JPEG is a baseline JPEG of the source's size
    When the consumer retrieves instance 1 of series 1 of study "CT-CHEST" rendered as "image/jpeg"
    Then the response status is 200
    And the response is a rendered image of a type the request accepts

  @uc:MADO-UC3 @req:DW-04 @req:DW-21
  Scenario: A rendered image asked for only as GIF is a GIF of the source's size
    When the consumer retrieves instance 1 of series 1 of study "CT-CHEST" rendered as "image/gif"
    Then the response status is 200 for "image/gif, which PS3.18 Table 8.7.4-1 requires of a RESTful origin server for single-frame images"
    And the response is a rendered image of a type the request accepts

  @neg @uc:MADO-UC3 @req:DW-04 @req:DW-21
  Scenario: A rendered image asked for only in a type the server may not render is refused with 406
    When the consumer retrieves instance 1 of series 1 of study "CT-CHEST" rendered as "image/jp2"
    Then the response is 406, or a rendered image of the type asked for
