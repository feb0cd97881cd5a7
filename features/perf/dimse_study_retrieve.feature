@perf @serial @profile:DIMSE @actor:QueryRetrieveScp
Feature: Performance qualification of a study retrieve by C-GET and C-MOVE
  National qualification measures how fast an archive delivers a study over DICOM too: France's
  DRIMbox programme (ANS, Ségur wave 2, requirement DB.SO.102) asks for the latency to the first
  image and the throughput of C-MOVE retrieves of a reference CT study (1,300 JPEG-LS images). The
  scenarios retrieve the study the SUT profile's [performance] table names (`study`, default
  CT-CHEST) at STUDY level, by C-GET on the harness's association and by C-MOVE to the harness's
  own Storage SCP, and time them from the opening of the association: to the first PDU of the
  first C-STORE sub-operation, to its last, and to the final response. The figures are judged
  against the profile's cget_ and cmove_ thresholds; a threshold left out is measured and reported
  only. An instance sent in another transfer syntax than it is stored in, although the harness
  offered to take it as stored, is a warning: it costs time, breaks nothing.
  Trace: DICOM PS3.4 §C.4.2, §C.4.3; the SUT profile's [performance] table; DRIMbox DB.SO.102.

  Background:
    Given the DICOM archive holds the test studies

  @txn:C-GET @req:PERF-01 @req:PERF-02 @req:PERF-03 @req:PERF-04 @req:PERF-05 @req:DIM-03 @req:DIM-08
  Scenario: Time to the first sub-operation, first complete instance, throughput and instances/s of a C-GET
    When the SCU times a C-GET of the performance study as stored
    Then the final status is 0000
    And the harness received exactly the instances asked for, unchanged
    And the retrieve meets the profile's performance thresholds
    And the instances come in the transfer syntax they are stored in

  @txn:C-MOVE @req:PERF-01 @req:PERF-02 @req:PERF-03 @req:PERF-04 @req:PERF-05 @req:DIM-03 @req:DIM-08
  Scenario: Time to the first sub-operation, first complete instance, throughput and instances/s of a C-MOVE
    When the SCU times a C-MOVE of the performance study to the harness
    Then the final status is 0000
    And the harness received exactly the instances asked for, unchanged
    And the retrieve meets the profile's performance thresholds
    And the instances come in the transfer syntax they are stored in
