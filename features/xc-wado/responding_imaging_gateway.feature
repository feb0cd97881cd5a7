@profile:XC-WADO @txn:RAD-160 @actor:RespondingImagingGateway
Feature: Images of another community through its XC-WADO Responding Imaging Gateway (RAD-160)
  A clinician abroad has found the patient's study manifest in the home country (XCA or MHD)
  and now retrieves the images. Her community's Initiating Imaging Gateway calls the Responding
  Imaging Gateway of the patient's community with the homeCommunityId of the manifest's document
  and the Retrieve Location UID the manifest gives, followed by the WADO-RS resource; the
  Responding Imaging Gateway calls its image source and relays the instances. The harness plays
  the Initiating Imaging Gateway; the SUT is the Responding Imaging Gateway, whose community's
  image source holds the test studies.
  Trace: eHN guideline UC1, UC3 (images across borders); IHE RAD MADO Rev 1.1 §X.4.1.3, §X.6.5,
  §4.107.4.0.5, Appendix XA (Fig. XA-2); DICOM PS3.18 §10.4.

  Background:
    Given the DICOMweb origin server holds the test studies
    And the consumer retrieves through the SUT's XC-WADO Responding Imaging Gateway

  @uc:UC1 @req:XCW-05 @req:DW-01 @req:DW-03 @req:DW-04 @req:DW-18
  Scenario: A whole study of the other community comes through the gateway
    When the consumer retrieves study "CT-CHEST"
    Then the gateway answers the Get Instances with the instances
    And the response status is 200
    And the response is a well-formed multipart/related message of DICOM instances
    And the instances are in an acceptable transfer syntax
    And the response holds every instance of the target and nothing else

  @uc:UC3 @req:XCW-05 @req:DW-01 @req:DW-03 @req:DW-04 @req:DW-18
  Scenario: One series of the prior study comes through the gateway
    When the consumer retrieves series 3 of study "CT-CHEST"
    Then the gateway answers the Get Instances with the instances
    And the response status is 200
    And the response is a well-formed multipart/related message of DICOM instances
    And the response holds every instance of the target and nothing else

  @uc:UC3 @uc:MADO-UC2 @req:XCW-05 @req:DW-01 @req:DW-03 @req:DW-04 @req:DW-18
  Scenario: A key image comes through the gateway
    When the consumer retrieves instance 5 of series 1 of study "MR-BRAIN"
    Then the gateway answers the Get Instances with the instances
    And the response status is 200
    And the response is a well-formed multipart/related message of DICOM instances
    And the response holds 1 part
    And the response holds every instance of the target and nothing else

  @uc:UC1 @req:XCW-05 @req:DW-03
  Scenario: A study asked in Explicit VR Little Endian comes through the gateway in it
    When the consumer retrieves study "MR-BRAIN" in transfer syntax "1.2.840.10008.1.2.1"
    Then the gateway answers the Get Instances with the instances
    And the response status is 200
    And the instances are in an acceptable transfer syntax
