@profile:ATNA @txn:ITI-20 @actor:AuditRecordRepository
Feature: Record Audit Event (ITI-20) and Retrieve ATNA Audit Event (ITI-81): the SUT as Audit Record Repository
  Every node of a national infrastructure sends its audit records to an Audit Record Repository;
  a SUT that is that repository must take them over each transport it offers and, when it answers
  RESTful ATNA searches, find them again. The harness is the Secure Node: it sends the audit of a
  query it made (ITI-18, as Document Consumer), about a patient made for the scenario, over
  syslog/TLS with its client certificate (RFC 5425: octet-counted frames on a session the sender
  closes), over syslog/UDP (RFC 5426) or as a FHIR AuditEvent (POST [base]/AuditEvent), as the
  profile's [audit_repository] names them, then searches for it with ITI-81 (date range, patient,
  type and subtype): the answer must hold it and nothing that does not match the search.
  Trace: IHE ITI TF-2 §3.20.4.1.1; IHE ITI RESTful ATNA §3.20.4.2, §3.81; RFC 5425 §4.4; RFC 8446
  §6.1; HL7 FHIR R4 http.html (create, search).

  @req:ARR-02
  Scenario: The repository takes the harness's audit as a FHIR AuditEvent
    Given the SUT's Audit Record Repository takes the FHIR AuditEvent feed
    When the harness sends its audit of a transaction to the repository
    Then the repository answers the AuditEvent create with 201 Created and a Location

  @req:ARR-01
  Scenario: The repository takes the harness's audits on one syslog/TLS session
    Given the SUT's Audit Record Repository takes syslog over TLS
    When the harness sends its audit of a transaction to the repository
    Then the repository keeps the syslog session open while the harness writes its frames

  @txn:ITI-81 @req:ARR-01 @req:ARR-03 @req:ARR-04 @req:ARR-05
  Scenario: An audit sent over syslog/TLS is found by ITI-81
    Given the SUT's Audit Record Repository takes syslog over TLS
    And the SUT's Audit Record Repository answers ITI-81 searches
    When the harness sends its audit of a transaction to the repository
    And the harness searches the repository for its audit by date, patient and type (ITI-81)
    Then the repository keeps the syslog session open while the harness writes its frames
    And the answer is a searchset Bundle that holds the harness's audit and only audits that match the search

  @txn:ITI-81 @req:ARR-03 @req:ARR-04 @req:ARR-05
  Scenario: An audit sent over syslog/UDP is found by ITI-81
    Given the SUT's Audit Record Repository takes syslog over UDP
    And the SUT's Audit Record Repository answers ITI-81 searches
    When the harness sends its audit of a transaction to the repository
    And the harness searches the repository for its audit by date, patient and type (ITI-81)
    Then the answer is a searchset Bundle that holds the harness's audit and only audits that match the search

  @txn:ITI-81 @req:ARR-02 @req:ARR-03 @req:ARR-04 @req:ARR-05
  Scenario: An audit sent as a FHIR AuditEvent is found by ITI-81
    Given the SUT's Audit Record Repository takes the FHIR AuditEvent feed
    And the SUT's Audit Record Repository answers ITI-81 searches
    When the harness sends its audit of a transaction to the repository
    And the harness searches the repository for its audit by date, patient and type (ITI-81)
    Then the repository answers the AuditEvent create with 201 Created and a Location
    And the answer is a searchset Bundle that holds the harness's audit and only audits that match the search

  @txn:ITI-81 @req:ARR-03 @req:ARR-05
  Scenario: A search for a patient with no audits returns no audit of another patient
    Given the SUT's Audit Record Repository takes the FHIR AuditEvent feed
    And the SUT's Audit Record Repository answers ITI-81 searches
    When the harness sends its audit of a transaction to the repository
    And the harness searches the repository for a patient it never audited (ITI-81)
    Then the answer is a searchset Bundle with no audit of another patient
