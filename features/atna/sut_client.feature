@profile:ATNA @txn:ITI-19 @role:simulator @actor:SecureNode
Feature: Authenticate Node (ITI-19): the SUT as TLS client checks the harness's certificate
  A modality, a PACS, a gateway or an MHD Document Source that sends images or documents to a
  secure node must validate that node's certificate before it sends anything: the harness's
  DICOM SCP (DICOM TLS) and MHD Document Recipient (HTTPS) present an untrusted, an expired and a
  wrong-name certificate in turn, and the profile's modality_stores or source_provides_bundle
  trigger makes the SUT send to it. The certificate is swapped on the running listener, so these
  scenarios run alone. A SUT that sends images is first given the test studies.
  Trace: IHE ITI TF-2 §3.19; RFC 5280 §6.1; RFC 6125 §6; DICOM PS3.15 §B.1; RFC 9110 §4.3.4.

  @neg @serial @req:TLS-10
  Scenario Outline: A SUT client of the <server> shown a server certificate from an untrusted CA aborts
    Given the SUT holds what it sends to the harness's <server>
    And the harness's <server> presents a server certificate from an untrusted CA
    When the SUT is made to send to the harness's <server>
    Then the SUT aborts before sending anything

    Examples:
      | server                 |
      | DICOM SCP              |
      | MHD Document Recipient |

  @neg @serial @req:TLS-11
  Scenario Outline: A SUT client of the <server> shown an expired server certificate aborts
    Given the SUT holds what it sends to the harness's <server>
    And the harness's <server> presents an expired server certificate
    When the SUT is made to send to the harness's <server>
    Then the SUT aborts before sending anything

    Examples:
      | server                 |
      | DICOM SCP              |
      | MHD Document Recipient |

  @neg @serial @req:TLS-12
  Scenario Outline: A SUT client of the <server> shown a server certificate for another name aborts
    Given the SUT holds what it sends to the harness's <server>
    And the harness's <server> presents a server certificate for another name
    When the SUT is made to send to the harness's <server>
    Then the SUT aborts before sending anything

    Examples:
      | server                 |
      | DICOM SCP              |
      | MHD Document Recipient |
