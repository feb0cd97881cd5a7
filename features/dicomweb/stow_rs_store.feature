@profile:DICOMweb @txn:RAD-108 @actor:ImageManager
Feature: STOW-RS storage of instances (RAD-108)
  Importing a retrieved study into the local PACS (UC3 step 5) or publishing images to an Imaging
  Document Source ends in a STOW-RS store; its answer must say exactly what was stored. The sender
  stores copies of the test images under fresh Study, Series and SOP Instance UIDs, so that the
  origin server has not seen them, except where a scenario is about an instance it already holds.
  Trace: eHN guideline UC3 step 5; DICOM PS3.18 §10.5, Annex I.

  Background:
    Given the DICOMweb origin server holds the test studies

  @uc:UC3 @req:DW-10 @req:DW-11 @req:DW-24
  Scenario: Store a series: 200 with every instance referenced
    When the sender stores series 1 of study "DX-CHEST"
    Then the response status is 200, or 202 for "every instance stored, some with warnings"
    And the store response agrees with its status
    And the store response is about the instances sent

  @uc:UC3 @req:DW-10 @req:DW-12 @req:DW-24
  Scenario: Store a series to the URL of its own study
    When the sender stores series 2 of study "US-ABDOMEN" to the URL of that study
    Then the response status is 200, or 202 for "every instance stored, some with warnings"
    And the store response agrees with its status
    And the store response is about the instances sent
    And instance 1 of series 2 of study "US-ABDOMEN" can be retrieved

  @neg @uc:UC3 @req:DW-10 @req:DW-12
  Scenario: An instance of another study posted to a study URL is refused with 409
    When the sender stores instance 1 of series 1 of study "DX-CHEST" to the URL of study "US-ABDOMEN"
    Then no instance of another study was stored under the study of the URL
    And the response status is 409 for "a Study Instance UID that differs from the URL's"
    And the store response agrees with its status

  # Every representation posted to /studies/{study} "shall have the same Study Instance UID"
  # (PS3.18 Table 10.5.1-1): a server may store the others and refuse that one (202), or refuse
  # the request (409, Table 10.5.3-1: "unable to store any Instances due to a conflict in the
  # request (e.g., ... Study Instance UID mismatch)"). Either way its answer must agree with it.
  @neg @uc:UC3 @req:DW-10 @req:DW-11 @req:DW-12 @req:DW-24
  Scenario: A mixed request stores the instances of the URL's study or none, never the one of another study
    When the sender stores series 1 of study "DX-CHEST" and instance 1 of series 1 of study "US-ABDOMEN" to the URL of study "DX-CHEST"
    Then no instance of another study was stored under the study of the URL
    And the response status is 202, or 409 for "a request that holds an instance of another study: the others stored and that one refused, or none stored"
    And the store response agrees with its status
    And every failed instance has a failure reason
    And the store response is about the instances sent

  # Table 10.5.3-1 fits both: 400 "unable to store any Instances due to bad syntax", 409 "a
  # conflict in the request"; neither is preferred, strict or not.
  @neg @uc:UC3 @req:DW-10 @req:DW-11
  Scenario: A part that is not a DICOM object is not stored
    When the sender stores a part that is not a DICOM object
    Then the response status is 409, or 400 for "a request in which no instance can be stored"
    And the store response agrees with its status

  @uc:UC3 @req:DW-10 @req:DW-11 @req:DW-24
  Scenario: Storing an instance the origin server already holds is answered consistently
    When the sender stores instance 1 of series 1 of study "DX-CHEST" that the origin server already holds
    Then the store is answered with success, a warning or a failure that agrees with its status
