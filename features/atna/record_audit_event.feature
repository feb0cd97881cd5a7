@profile:ATNA @txn:ITI-20 @role:simulator @actor:AuditRecordRepository
Feature: Record Audit Event (ITI-20): the SUT's audit of a transaction reaches the Audit Record Repository
  Every actor of the exchange is a Secure Node that records its transactions in an Audit Record
  Repository. The harness is that repository: it takes syslog over TLS (RFC 5425, octet-counted
  frames, the client authenticated with its certificate), over UDP (RFC 5426) and the FHIR Feed of
  RESTful ATNA (a FHIR create of one AuditEvent at [base]/AuditEvent, over HTTPS with the client's
  certificate; the AuditEvent is read into the DICOM audit model and judged like one). The profile's
  audit_source_sends trigger makes the SUT send the audit of a transaction; the message must
  arrive within the trigger timeout and be an RFC 5424 message with the IHE MSGID carrying an
  audit message in the DICOM schema, and, where the harness knows the exchange audited, the one
  its audit table asks for. What breaks the stream (no octet count, a frame past the limit) or
  the XML (not UTF-8, a DTD or entity bomb) is a Fail of its rule, never an Error.
  Trace: IHE ITI TF-2 §3.20.4.1, §3.20.4.2 (RESTful ATNA), §3.18.5.1; RFC 5424 §6; RFC 5425 §4.3;
  RFC 5426; DICOM PS3.15 §A.5, §A.6; HL7 FHIR R4 AuditEvent, http §3.1.0.4.

  @serial @req:ATNA-SYSLOG-01 @req:ATNA-SYSLOG-02 @req:ATNA-SYSLOG-03 @req:ATNA-SYSLOG-04 @req:ATNA-SYSLOG-05 @req:ATNA-SYSLOG-06 @req:ATNA-SYSLOG-07 @req:ATNA-MSG-01 @req:ATNA-MSG-02 @req:ATNA-MSG-03 @req:ATNA-MSG-04 @req:ATNA-MSG-05 @req:ATNA-MSG-06 @req:ATNA-MSG-07 @req:ATNA-MSG-08 @req:ATNA-MSG-09 @req:ATNA-MSG-10 @req:ATNA-MSG-11 @req:ATNA-MSG-12 @req:ATNA-TXN-01 @req:ATNA-TXN-02 @req:ATNA-TXN-03 @req:ATNA-TXN-04 @req:ATNA-TXN-05 @req:ATNA-TXN-06 @req:ATNA-TXN-07 @req:ATNA-TXN-08 @req:ATNA-TXN-09 @req:ATNA-TXN-10 @req:ATNA-TXN-11
  Scenario: The SUT's audit arrives over syslog/TLS and meets the audit rules
    Given the harness's Audit Record Repository listens for syslog over TLS
    When the SUT is made to send the audit of a transaction to the harness
    Then the audit message meets the syslog, schema and audit table rules

  @serial @req:ATNA-SYSLOG-01 @req:ATNA-SYSLOG-03 @req:ATNA-SYSLOG-04 @req:ATNA-SYSLOG-05 @req:ATNA-SYSLOG-06 @req:ATNA-SYSLOG-07 @req:ATNA-MSG-01 @req:ATNA-MSG-02 @req:ATNA-MSG-03 @req:ATNA-MSG-04 @req:ATNA-MSG-05 @req:ATNA-MSG-06 @req:ATNA-MSG-07 @req:ATNA-MSG-08 @req:ATNA-MSG-09 @req:ATNA-MSG-10 @req:ATNA-MSG-11 @req:ATNA-MSG-12 @req:ATNA-TXN-01 @req:ATNA-TXN-02 @req:ATNA-TXN-03 @req:ATNA-TXN-04 @req:ATNA-TXN-05 @req:ATNA-TXN-06 @req:ATNA-TXN-07 @req:ATNA-TXN-08 @req:ATNA-TXN-09 @req:ATNA-TXN-10 @req:ATNA-TXN-11
  Scenario: The SUT's audit arrives over syslog/UDP and meets the audit rules
    Given the harness's Audit Record Repository listens for syslog over UDP
    When the SUT is made to send the audit of a transaction to the harness
    Then the audit message meets the syslog, schema and audit table rules

  @serial @req:ATNA-FHIR-01 @req:ATNA-FHIR-02 @req:ATNA-FHIR-03 @req:ATNA-FHIR-04 @req:ATNA-FHIR-05 @req:ATNA-MSG-01 @req:ATNA-MSG-02 @req:ATNA-MSG-03 @req:ATNA-MSG-04 @req:ATNA-MSG-07 @req:ATNA-MSG-08 @req:ATNA-MSG-09 @req:ATNA-MSG-10 @req:ATNA-MSG-11 @req:ATNA-TXN-01 @req:ATNA-TXN-02 @req:ATNA-TXN-03 @req:ATNA-TXN-04 @req:ATNA-TXN-05 @req:ATNA-TXN-06 @req:ATNA-TXN-07 @req:ATNA-TXN-08 @req:ATNA-TXN-09 @req:ATNA-TXN-10 @req:ATNA-TXN-11
  Scenario: The SUT's audit arrives as a FHIR AuditEvent and meets the audit rules
    Given the harness's Audit Record Repository listens for FHIR AuditEvent feeds
    When the SUT is made to send the audit of a transaction to the harness
    Then the audit message meets the FHIR Feed, schema and audit table rules
