@perf @serial @profile:DICOMweb @txn:RAD-107 @actor:ImagingDocumentSource
Feature: Performance qualification of a WADO-RS study retrieve (RAD-107)
  National qualification measures how fast an image source delivers a study: France's DRIMbox
  programme (ANS, Ségur wave 2, requirement DB.SO.102) asks for the latency to the first image and
  the throughput of WADO-RS and C-MOVE retrieves of a reference CT study (1,300 JPEG-LS images,
  about 200 MB). The scenario retrieves the study the SUT profile's [performance] table names
  (`study`, default CT-CHEST) as stored (transfer-syntax=*), times it and judges the figures
  against the profile's thresholds; a threshold left out is measured and reported only. An answer
  transcoded although the stored form was accepted is a warning: it costs time, breaks nothing.
  Trace: DICOM PS3.18 §10.4; the SUT profile's [performance] table; DRIMbox DB.SO.102.

  Background:
    Given the DICOMweb origin server holds the test studies

  @req:PERF-01 @req:PERF-02 @req:PERF-03 @req:PERF-04 @req:PERF-05 @req:DW-04
  Scenario: Time to first byte, first complete instance, throughput and instances/s of a study retrieve
    When the consumer times a WADO-RS retrieve of the performance study as stored
    Then the response status is 200
    And the response holds every instance of the target and nothing else
    And the retrieve meets the profile's performance thresholds
    And the instances come in the transfer syntax they are stored in
