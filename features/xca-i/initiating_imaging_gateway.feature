@profile:XCA-I @role:simulator @actor:InitiatingImagingGateway @serial
Feature: An Initiating Imaging Gateway fetches images from other communities for its consumers (RAD-69, RAD-75)
  A clinician has found, through her community's gateways, the imaging manifests of a patient who
  was imaged in communities A and B, and now needs the images. Her Imaging Document Consumer asks
  her community's Initiating Imaging Gateway with Retrieve Imaging Document Set, naming in every
  DocumentRequest the community the image is in. The gateway sends one Cross Gateway Retrieve
  Imaging Document Set to the Responding Imaging Gateway of each community named, with only that
  community's images and the identifiers and transfer syntaxes the consumer asked, and returns the
  answers as one: what was found and what was not. An image of a community it does not reach is
  refused. The harness is the consumer in front of the gateway and the Responding Imaging Gateways
  of communities A and B behind it.
  Trace: eHN guideline UC3 (imaging across borders); IHE RAD TF-2 §4.75 (Sequoia XCAI-004,
  Gazelle RAD75-001), §4.69; ITI TF-2 §3.39.4.1.3; ITI TF-3 Table 4.2.4.1-2; NIST iig_2018-5403a to 5405b.

  Background:
    Given the SUT is an Initiating Imaging Gateway in front of the harness's imaging communities A and B

  @uc:UC3 @txn:RAD-75 @req:XCAI-09 @req:XCAI-10 @req:XDS-SOAP-02
  Scenario: The images of community A are asked of community A's gateway only, as the consumer asked them
    When the imaging consumer retrieves series 1 of study "CT-CHEST" from community A through the imaging gateway
    Then the imaging gateway sent one RAD-75 to each community named, with its images only
    And each RAD-75 keeps the consumer's identifiers and transfer syntaxes
    And the imaging gateway's requests to the communities are conformant XDS messages
    And the answer is Success

  @uc:UC3 @txn:RAD-75 @req:XCAI-09 @req:XCAI-10
  Scenario: The images of two communities are asked of each community's gateway, and come back in one answer
    When the imaging consumer retrieves series 1 of study "CT-CHEST" from community A and series 1 of study "MR-BRAIN" from community B through the imaging gateway
    Then the imaging gateway sent one RAD-75 to each community named, with its images only
    And each RAD-75 keeps the consumer's identifiers and transfer syntaxes
    And the answer is Success

  @neg @txn:RAD-75 @req:XCAI-09 @req:XCAI-12
  Scenario: Images community A holds and an image community B does not hold make a partial success
    When the imaging consumer retrieves series 1 of study "CT-CHEST" from community A and an image community B does not hold through the imaging gateway
    Then the imaging gateway sent one RAD-75 to each community named, with its images only
    And the imaging answer is a partial success with the images and community B's error

  @neg @req:XCAI-13 @req:XCAI-15
  Scenario: Images of a community the gateway does not reach are refused
    When the imaging consumer retrieves series 1 of study "CT-CHEST" from an unknown community through the imaging gateway
    Then the images of the unknown community are refused with an error
    And the unknown community is reported as XDSUnknownCommunity
