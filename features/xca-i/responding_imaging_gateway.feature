@profile:XCA-I @txn:RAD-75 @actor:RespondingImagingGateway
Feature: A Responding Imaging Gateway serves its community's images to another community (RAD-75)
  A clinician abroad has found a patient's imaging manifest in the patient's home community (XCA)
  and now needs the images it references. Her community's Initiating Imaging Gateway asks the home
  community's Responding Imaging Gateway with Cross Gateway Retrieve Imaging Document Set: a
  Retrieve Imaging Document Set request naming the community in every DocumentRequest. The
  gateway fetches the images from the Imaging Document Sources of its community, returns them
  unchanged with the community echoed, consolidates what it found and what it did not into one
  answer, and locates every error at its community.
  Trace: eHN guideline UC3 (imaging across borders); IHE RAD TF-2 §4.75 (Gazelle RAD75-001 to
  RAD75-005), §4.69; ITI TF-3 Table 4.2.4.1-2.

  Background:
    Given the SUT is a Responding Imaging Gateway in front of the Imaging Document Sources of its community

  @uc:UC3 @req:RAD75-02 @req:XCAI-05 @req:ITI39-01 @req:XDSI-09 @req:XDSI-10 @req:XDSI-13 @req:XDS-SOAP-02 @req:XDS-SOAP-04
  Scenario: A series of the gateway's community is returned with its community
    When the initiating imaging gateway retrieves series 1 of study "CT-CHEST" in transfer syntaxes "1.2.840.10008.1.2.1"
    Then the message is a conformant XDS message
    And the imaging gateway answers with the RAD-75 response action
    And the imaging gateway returns exactly the requested images its community holds
    And every returned image names the community it was asked in
    And the answer is Success

  @uc:UC3 @req:XDSI-09 @req:XDSI-10 @req:XCAI-05
  Scenario: An RLE-compressed series comes back decompressed when only Explicit VR Little Endian is asked
    When the initiating imaging gateway retrieves series 1 of study "MR-BRAIN" in transfer syntaxes "1.2.840.10008.1.2.1"
    Then the imaging gateway returns exactly the requested images its community holds
    And the answer is Success

  @uc:UC3 @req:XDSI-09 @req:XCAI-05
  Scenario: A series comes back in its stored compressed syntax when the gateway's caller accepts it
    When the initiating imaging gateway retrieves series 1 of study "DX-CHEST" in transfer syntaxes "1.2.840.10008.1.2.4.50, 1.2.840.10008.1.2.1"
    Then the imaging gateway returns exactly the requested images its community holds
    And the answer is Success

  @uc:UC3 @req:XCAI-03 @req:XCAI-05 @req:XDSI-10 @req:XDSI-13
  Scenario: The images of two studies come back in one answer
    When the initiating imaging gateway retrieves series 1 of studies "CT-CHEST" and "MR-BRAIN"
    Then the message is a conformant XDS message
    And the imaging gateway returns exactly the requested images its community holds
    And the answer is Success

  @neg @req:XCAI-03 @req:XCAI-04 @req:XCAI-05
  Scenario: Images found and an image not found are consolidated into one answer
    When the initiating imaging gateway retrieves series 1 of study "CT-CHEST" and an unknown image
    Then the message is a conformant XDS message
    And the images found and the images not found are consolidated into one answer
    And every returned image names the community it was asked in
    And every error names the imaging gateway's community

  @neg @req:XCAI-04 @req:XDSI-01 @req:ITI43-03
  Scenario: An image the community does not hold is refused, located at the gateway's community
    When the initiating imaging gateway retrieves an unknown image of study "CT-CHEST"
    Then the message is a conformant XDS message
    And every error names the imaging gateway's community
    And the answer is Failure with error XDSDocumentUniqueIdError

  @neg @req:XCAI-06 @req:XCAI-04 @req:XDSI-01
  Scenario: Images asked at an imaging source the community does not have are each refused
    When the initiating imaging gateway retrieves series 1 of study "DX-CHEST" from an unknown imaging source
    Then the message is a conformant XDS message
    And each image of the unknown imaging source is reported
    And every error names the imaging gateway's community
    And the answer is Failure

  @neg @req:XCAI-07 @req:XCAI-04
  Scenario: A request naming a community the gateway does not represent is refused
    When the initiating imaging gateway retrieves series 1 of study "CT-CHEST" naming an unknown community
    Then the message is a conformant XDS message
    And the missing or unknown community is refused
    And every error names the imaging gateway's community

  @neg @req:XCAI-07 @req:XCAI-04
  Scenario: A request naming no community is refused
    When the initiating imaging gateway retrieves series 1 of study "CT-CHEST" naming no community
    Then the message is a conformant XDS message
    And the missing or unknown community is refused
    And every error names the imaging gateway's community

  @neg @req:XCAI-08 @req:XCAI-04 @req:XDSI-09 @req:XDSI-01
  Scenario: Images asked only in a transfer syntax no source can produce are refused per document
    When the initiating imaging gateway retrieves series 1 of study "CT-CHEST" in a transfer syntax no source can produce
    Then the message is a conformant XDS message
    And no image is returned in a transfer syntax not asked for
    And every error names the imaging gateway's community
    And the answer is Failure
