@profile:DICOMweb @role:simulator
Feature: The SUT searches, retrieves from and stores into the harness's DICOMweb origin server
  A viewer or an Imaging Document Consumer under test searches and retrieves the test studies from
  the harness, which plays the DICOMweb origin server; a modality or a gateway under test stores
  into it with STOW-RS. The trigger asks the SUT for one thing, and every request the origin
  server received is judged: it accepts a media type the resource can be, it is a PS3.18 resource
  with well-formed UIDs (one of them the resource asked for), a search names attributes by keyword
  or tag, a store sends PS3.10 objects.
  Trace: DICOM PS3.18 §8.3.4, §8.7, §10.4.1, §10.5.1, §10.6.1.

  @actor:ImagingDocumentConsumer @txn:RAD-129 @req:DWUA-01 @req:DWUA-02 @req:DWUA-03
  Scenario: The SUT searches the harness for the studies of a patient
    When the SUT user agent is asked to search the harness for the studies of the patient of study "MR-BRAIN"
    Then the SUT's requests are PS3.18 resources, one of them the resource asked for, each accepting a media type the resource can be
    And the SUT's searches name their keys by keyword or tag, the ones asked among them

  @actor:ImagingDocumentConsumer @txn:RAD-129 @req:DWUA-01 @req:DWUA-02 @req:DWUA-03
  Scenario: The SUT searches the harness for the series of a study
    When the SUT user agent is asked to search the harness for the series of study "MR-BRAIN"
    Then the SUT's requests are PS3.18 resources, one of them the resource asked for, each accepting a media type the resource can be
    And the SUT's searches name their keys by keyword or tag, the ones asked among them

  @actor:ImagingDocumentConsumer @txn:RAD-107 @req:DWUA-01 @req:DWUA-02
  Scenario: The SUT retrieves a study from the harness in Explicit VR Little Endian
    When the SUT user agent is asked to retrieve study "MR-BRAIN" from the harness in Explicit VR Little Endian
    Then the SUT's requests are PS3.18 resources, one of them the resource asked for, each accepting a media type the resource can be

  @actor:ImagingDocumentConsumer @txn:RAD-107 @req:DWUA-01 @req:DWUA-02
  Scenario: The SUT retrieves the metadata of a series from the harness
    When the SUT user agent is asked to retrieve the metadata of series 2 of study "MR-BRAIN" from the harness
    Then the SUT's requests are PS3.18 resources, one of them the resource asked for, each accepting a media type the resource can be

  @actor:ImagingDocumentConsumer @txn:RAD-107 @req:DWUA-01 @req:DWUA-02
  Scenario: The SUT retrieves a frame of an instance from the harness
    When the SUT user agent is asked to retrieve frame 1 of the first instance of series 1 of study "CT-CHEST" from the harness
    Then the SUT's requests are PS3.18 resources, one of them the resource asked for, each accepting a media type the resource can be

  @actor:ImagingDocumentConsumer @txn:RAD-107 @req:DWUA-01 @req:DWUA-02
  Scenario: The SUT retrieves a rendered instance from the harness as PNG
    When the SUT user agent is asked to retrieve the first instance of series 1 of study "CT-CHEST" from the harness rendered as "image/png"
    Then the SUT's requests are PS3.18 resources, one of them the resource asked for, each accepting a media type the resource can be

  @actor:StowRsSender @txn:RAD-108 @req:DWUA-01 @req:DWUA-02 @req:DWUA-05
  Scenario: The SUT stores a series into the harness with STOW-RS
    When the SUT user agent is asked to store a copy of series 2 of study "MR-BRAIN" into the harness
    Then the SUT's requests are PS3.18 resources, one of them the resource asked for, each accepting a media type the resource can be
    And the SUT's STOW-RS request is a multipart body of PS3.10 objects
