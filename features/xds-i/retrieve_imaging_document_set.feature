@profile:XDS-I.b @txn:RAD-69 @actor:ImagingDocumentSource
Feature: Retrieving images from the Imaging Document Source (RAD-69 Retrieve Imaging Document Set)
  With the manifest in hand, the Imaging Document Consumer asks the Imaging Document Source for the
  instances it references, by study, series and SOP Instance UID, at the manifest's Retrieve
  Location UID, with the transfer syntaxes it can decode. The source must return each instance in
  one of them, exactly the instances asked for, and report per document what it cannot return.
  Trace: eHN guideline UC3 and MADO UC#2 (key images); IHE RAD TF-2 §4.69; Feature 2 and Feature 11
  of the scenario catalogue.

  Background:
    Given the affinity domain holds the manifests of the test studies

  @uc:UC3 @req:XDSI-09 @req:XDSI-10 @req:RAD69-06 @req:XDS-SOAP-04 @req:XDS-SOAP-05
  Scenario: A series is returned in the transfer syntax it is stored in
    When the imaging consumer retrieves series 1 of study "CT-CHEST" in transfer syntaxes "1.2.840.10008.1.2.1"
    Then the message is a conformant XDS message
    And the imaging source returns exactly the requested instances it holds
    And the answer is Success

  @uc:UC3 @req:XDSI-09 @req:XDSI-10
  Scenario: An RLE-compressed series is returned decompressed when only Explicit VR Little Endian is accepted
    When the imaging consumer retrieves series 1 of study "MR-BRAIN" in transfer syntaxes "1.2.840.10008.1.2.1"
    Then the imaging source returns exactly the requested instances it holds
    And the answer is Success

  @uc:UC3 @req:XDSI-09
  Scenario: A series is returned in its stored compressed syntax when the consumer accepts it
    When the imaging consumer retrieves series 1 of study "DX-CHEST" in transfer syntaxes "1.2.840.10008.1.2.4.50, 1.2.840.10008.1.2.1"
    Then the imaging source returns exactly the requested instances it holds
    And the answer is Success

  @neg @req:XDSI-01 @req:XDSI-10
  Scenario: A transfer syntax the source cannot produce is refused per document
    When the imaging consumer retrieves series 1 of study "CT-CHEST" in transfer syntaxes "1.2.840.10008.1.2.4.90"
    Then the message is a conformant XDS message
    And the imaging source returns exactly the requested instances it holds
    And the answer is Failure with error XDSRepositoryError

  @neg @req:XDSI-01 @req:XDSI-10
  Scenario: An instance asked for under another study is not returned
    When the imaging consumer asks for instance 1 of series 1 of study "CT-CHEST" under study "MR-BRAIN"
    Then the imaging source returns exactly the requested instances it holds
    And the answer is Failure with error XDSDocumentUniqueIdError

  @neg @req:XDSI-01
  Scenario: A request addressed to another imaging source is refused
    When the imaging consumer retrieves series 1 of study "DX-CHEST" from an unknown imaging source
    Then the message is a conformant XDS message
    And the answer is Failure with error XDSUnknownRepositoryId
