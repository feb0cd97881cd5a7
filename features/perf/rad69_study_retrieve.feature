@perf @serial @profile:XDS-I.b @txn:RAD-69 @actor:ImagingDocumentSource
Feature: Performance qualification of a study retrieve by RAD-69 (Retrieve Imaging Document Set)
  An XDS-I.b Imaging Document Consumer fetches a study's images from the Imaging Document Source
  with RAD-69: the scenario asks for every image of the study the SUT profile's [performance]
  table names (`study`, default CT-CHEST) in one request whose transfer syntax list holds the
  syntaxes they are stored in (then Explicit VR Little Endian), and times it: to the first byte of
  the answer, to the end of its first image attachment (the part after the SOAP envelope), and to
  its last byte. The figures are judged against the profile's rad69_ thresholds; a threshold left
  out is measured and reported only. An image returned in another transfer syntax than it is stored
  in, although that one was in the list, is a warning: it costs time, breaks nothing.
  Trace: IHE RAD TF-2 §4.69; the SUT profile's [performance] table; DRIMbox DB.SO.102.

  Background:
    Given the affinity domain holds the manifests of the test studies

  @req:PERF-01 @req:PERF-02 @req:PERF-03 @req:PERF-04 @req:PERF-05 @req:XDSI-09 @req:XDSI-10
  Scenario: Time to first byte, first complete image, throughput and images/s of a RAD-69 study retrieve
    When the imaging consumer times a RAD-69 retrieve of the performance study as stored
    Then the imaging source returns exactly the requested instances it holds
    And the answer is Success
    And the retrieve meets the profile's performance thresholds
    And the instances come in the transfer syntax they are stored in
