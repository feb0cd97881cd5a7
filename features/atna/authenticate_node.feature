@profile:ATNA @txn:ITI-19 @actor:SecureNode
Feature: Authenticate Node (ITI-19): the SUT's TLS servers authenticate their clients
  (HTTPS for DICOMweb, MHD and the XDS-I.b registry's SOAP endpoint, DICOM TLS for DIMSE:
  PS3.15 §B.1)
  Every node that exchanges images and reports across a national infrastructure or a MyHealth@EU
  contact point is a Secure Node: its TLS servers accept only clients that present a certificate
  from a trusted CA, speak TLS 1.2 or 1.3 only, refuse the cipher suites BCP 195 forbids, and
  present a certificate that names them. The harness offers each bad client and each forbidden
  ClientHello in turn, then a good client over TLS 1.2 and over TLS 1.3.
  Trace: eHN guideline (secure exchange between national contact points); IHE ITI TF-2 §3.19;
  RFC 9325 (BCP 195) §3.1.1, §4.1; RFC 8996.

  @neg @req:TLS-01
  Scenario Outline: A <endpoint> server refuses a client that presents no certificate
    Given the SUT's <endpoint> endpoint speaks TLS
    When the harness connects with no client certificate
    Then the SUT refuses it

    Examples:
      | endpoint |
      | DICOMweb |
      | MHD      |
      | XDS      |
      | DIMSE    |

  @neg @req:TLS-02
  Scenario Outline: A <endpoint> server refuses a client certificate from an untrusted CA
    Given the SUT's <endpoint> endpoint speaks TLS
    When the harness connects with a client certificate from an untrusted CA
    Then the SUT refuses it

    Examples:
      | endpoint |
      | DICOMweb |
      | MHD      |
      | XDS      |
      | DIMSE    |

  @neg @req:TLS-03
  Scenario Outline: A <endpoint> server refuses an expired client certificate
    Given the SUT's <endpoint> endpoint speaks TLS
    When the harness connects with an expired client certificate from a trusted CA
    Then the SUT refuses it

    Examples:
      | endpoint |
      | DICOMweb |
      | MHD      |
      | XDS      |
      | DIMSE    |

  @neg @req:TLS-04
  Scenario Outline: A <endpoint> server refuses TLS 1.0
    Given the SUT's <endpoint> endpoint speaks TLS
    When the harness offers at most TLS 1.0
    Then the SUT refuses it

    Examples:
      | endpoint |
      | DICOMweb |
      | MHD      |
      | XDS      |
      | DIMSE    |

  @neg @req:TLS-05
  Scenario Outline: A <endpoint> server refuses TLS 1.1
    Given the SUT's <endpoint> endpoint speaks TLS
    When the harness offers at most TLS 1.1
    Then the SUT refuses it

    Examples:
      | endpoint |
      | DICOMweb |
      | MHD      |
      | XDS      |
      | DIMSE    |

  @neg @req:TLS-06
  Scenario Outline: A <endpoint> server refuses the cipher suites BCP 195 forbids
    Given the SUT's <endpoint> endpoint speaks TLS
    When the harness offers only NULL, RC4, export-grade and DES cipher suites
    Then the SUT refuses it

    Examples:
      | endpoint |
      | DICOMweb |
      | MHD      |
      | XDS      |
      | DIMSE    |

  @req:TLS-07 @req:TLS-09
  Scenario Outline: A <endpoint> server lets a good client through over TLS 1.2
    Given the SUT's <endpoint> endpoint speaks TLS
    When the harness connects with a valid client certificate over TLS 1.2
    Then the SUT lets it through with a certificate that names it

    Examples:
      | endpoint |
      | DICOMweb |
      | MHD      |
      | XDS      |
      | DIMSE    |

  @req:TLS-08 @req:TLS-09
  Scenario Outline: A <endpoint> server lets a good client through over TLS 1.3
    Given the SUT's <endpoint> endpoint speaks TLS
    When the harness connects with a valid client certificate over TLS 1.3
    Then the SUT lets it through with a certificate that names it

    Examples:
      | endpoint |
      | DICOMweb |
      | MHD      |
      | XDS      |
      | DIMSE    |

