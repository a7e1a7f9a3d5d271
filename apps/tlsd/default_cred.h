/*
 * default_cred.h - tlsd's built-in credential, used when no certs archive
 * is given: an ECDSA P-256 key and a self-signed certificate for
 * "localhost" (and 127.0.0.1), valid 2000-01-01 to 2100-01-01.
 *
 * The key is public (it is in this file): it is for first contact and
 * tests on loopback, never for a service anyone else reaches.  Made once
 * with openssl (ecparam -genkey prime256v1; ca -selfsign).
 */
#ifndef ATOLL_APPS_TLSD_DEFAULT_CRED_H
#define ATOLL_APPS_TLSD_DEFAULT_CRED_H

static const char tlsd_default_cert[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBiTCCAS+gAwIBAgIBATAKBggqhkjOPQQDAjAUMRIwEAYDVQQDDAlsb2NhbGhv\n"
    "c3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQBgNVBAMM\n"
    "CWxvY2FsaG9zdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABANF9RY5NCJJeWzI\n"
    "8iH1611ORgwkW8CmRRRkUc3AU12aN8XGgmSu79voLxHRlpf4XUic1AHAX82js/CY\n"
    "mXy2hkqjcDBuMBoGA1UdEQQTMBGCCWxvY2FsaG9zdIcEfwAAATAMBgNVHRMBAf8E\n"
    "AjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4E\n"
    "FgQUu/V8Pynmr5a4BW8pl4OD812GTkwwCgYIKoZIzj0EAwIDSAAwRQIhAPwzbUC0\n"
    "DXiqhkzIHpCGCc75elpCRCXiFtfveVOGcpYcAiBL28oc2tLvRLTkv1L4GooFCCxn\n"
    "CfPTmEXgw21I+lZpEA==\n"
    "-----END CERTIFICATE-----\n";

static const char tlsd_default_key[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIEfB25WfYczkbRmeYDNaBM0cAzqFrF35oqcqBIMTHthfoAoGCCqGSM49\n"
    "AwEHoUQDQgAEA0X1Fjk0Ikl5bMjyIfXrXU5GDCRbwKZFFGRRzcBTXZo3xcaCZK7v\n"
    "2+gvEdGWl/hdSJzUAcBfzaOz8JiZfLaGSg==\n"
    "-----END EC PRIVATE KEY-----\n";

#endif
