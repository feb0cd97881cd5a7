@profile:ATNA @txn:ITI-19 @role:simulator @actor:SecureNode
Feature: Authenticate Node (ITI-19): the SUT as TLS client checks the harness's certificate
  A modality, a PACS or a gateway that sends images to a secure node must validate that node's
  certificate before it sends anything: the harness's DICOM SCP presents an untrusted, an expired
  and a wrong-name certificate in turn, and the profile's modality_stores trigger makes the SUT
  send to it. The certificate is swapped on the running listener, so these scenarios run alone.
  Trace: IHE ITI TF-2 §3.19; RFC 5280 §6.1; RFC 6125 §6; DICOM PS3.15 §B.1.

  Background:
    Given the DICOM archive holds the test studies

  @neg @serial @req:TLS-10
  Scenario: A SUT client shown a server certificate from an untrusted CA aborts
    Given the harness's DICOM SCP presents a server certificate from an untrusted CA
    When the SUT is made to send to the harness's DICOM SCP
    Then the SUT aborts before sending anything

  @neg @serial @req:TLS-11
  Scenario: A SUT client shown an expired server certificate aborts
    Given the harness's DICOM SCP presents an expired server certificate
    When the SUT is made to send to the harness's DICOM SCP
    Then the SUT aborts before sending anything

  @neg @serial @req:TLS-12
  Scenario: A SUT client shown a server certificate for another name aborts
    Given the harness's DICOM SCP presents a server certificate for another name
    When the SUT is made to send to the harness's DICOM SCP
    Then the SUT aborts before sending anything
