"""Trust engines: digital calibration certificates (DCC XML, XAdES signatures) and the RFC 9162 log.

Pure: lxml/xmlschema/cryptography/signxml only; never the store, the services or the web.
"""
