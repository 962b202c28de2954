/*
 * tls.c - the van's own certificate authority and the server certificate
 * it issues (GnuTLS x509 API).  ECDSA P-256 keys, SHA-256 signatures.
 *
 * DESIGN
 *   The CA is made once and never replaced: officers' devices pin its
 *   SHA-256 fingerprint when they pair.  The server certificate is
 *   reissued by that CA whenever it does not name the listen address or is
 *   about to expire, so changing `listen` needs no re-pairing.  Keys are
 *   written 0600 through a temporary file renamed into place, so a crash
 *   never leaves half a key.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

#define TLS_TRY(call, what)                                                                    \
    do {                                                                                       \
        int rc_ = (call);                                                                      \
        if (rc_ < 0) {                                                                         \
            st = lfr_err_set(err, LFR_ERR_INTERNAL, "%s: %s", what, gnutls_strerror(rc_));     \
            goto out;                                                                          \
        }                                                                                      \
    } while (0)

static lfr_status read_pem(const char *path, gnutls_datum_t *d, lfr_err *err) {
    uint8_t *buf = NULL;
    size_t len = 0;
    lfr_status st = lfr_read_file(path, LFR_TLS_MAX_PEM, &buf, &len);
    if (st != LFR_OK) return lfr_err_set(err, st, "cannot read %s", path);
    d->data = buf;
    d->size = (unsigned)len;
    return LFR_OK;
}

static lfr_status write_file(const char *path, const void *data, size_t len, mode_t mode,
                             lfr_err *err) {
    char tmp[LFR_MAX_CONFIG_VALUE + 8];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "path too long: %s", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) return lfr_err_set(err, LFR_ERR_IO, "cannot create %s: %s", tmp, strerror(errno));
    int ok = fchmod(fd, mode) == 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return lfr_err_set(err, LFR_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    }
    return LFR_OK;
}

static lfr_status fingerprint(gnutls_x509_crt_t crt, char *out, size_t cap, lfr_err *err) {
    uint8_t fp[32];
    size_t n = sizeof fp;
    if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &n) < 0 || n != 32)
        return lfr_err_set(err, LFR_ERR_INTERNAL, "cannot compute the certificate fingerprint");
    if (cap < 7 + 32 * 3 + 1) return lfr_err_set(err, LFR_ERR_TOO_LARGE, "fingerprint buffer");
    size_t o = (size_t)snprintf(out, cap, "SHA256:");
    for (size_t i = 0; i < 32; i++) o += (size_t)snprintf(out + o, cap - o, i ? ":%02X" : "%02X", fp[i]);
    return LFR_OK;
}

lfr_status lfr_tls_fingerprint(const char *pem_path, char *out, size_t cap, lfr_err *err) {
    gnutls_datum_t d = {NULL, 0};
    gnutls_x509_crt_t crt = NULL;
    lfr_status st = read_pem(pem_path, &d, err);
    if (st != LFR_OK) return st;
    TLS_TRY(gnutls_x509_crt_init(&crt), "certificate");
    TLS_TRY(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM), pem_path);
    st = fingerprint(crt, out, cap, err);
out:
    if (crt) gnutls_x509_crt_deinit(crt);
    lfr_free(d.data);
    return st;
}

static lfr_status set_serial(gnutls_x509_crt_t crt, lfr_err *err) {
    uint8_t serial[16];
    if (gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial) < 0)
        return lfr_err_set(err, LFR_ERR_INTERNAL, "no random serial number");
    serial[0] &= 0x7F; /* positive */
    serial[0] |= 0x01; /* and with no leading zero byte */
    if (gnutls_x509_crt_set_serial(crt, serial, sizeof serial) < 0)
        return lfr_err_set(err, LFR_ERR_INTERNAL, "cannot set the serial number");
    return LFR_OK;
}

static lfr_status new_key(gnutls_x509_privkey_t *key, lfr_err *err) {
    lfr_status st = LFR_OK;
    *key = NULL;
    TLS_TRY(gnutls_x509_privkey_init(key), "key");
    TLS_TRY(gnutls_x509_privkey_generate(*key, GNUTLS_PK_ECDSA,
                                         GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0),
            "generating an ECDSA P-256 key");
    return LFR_OK;
out:
    if (*key) gnutls_x509_privkey_deinit(*key);
    *key = NULL;
    return st;
}

static lfr_status export_pem_key(gnutls_x509_privkey_t key, const char *path, lfr_err *err) {
    gnutls_datum_t d = {NULL, 0};
    lfr_status st = LFR_OK;
    TLS_TRY(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &d), "exporting a key");
    st = write_file(path, d.data, d.size, 0600, err);
out:
    if (d.data) {
        gnutls_memset(d.data, 0, d.size);
        gnutls_free(d.data);
    }
    return st;
}

static lfr_status make_ca(const lfr_tls_files *f, lfr_err *err) {
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t pem = {NULL, 0};
    lfr_status st = new_key(&key, err);
    if (st != LFR_OK) return st;
    char host[64] = "van";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    char cn[128];
    snprintf(cn, sizeof cn, "openlfr van CA (%s)", host);
    time_t now = time(NULL);
    TLS_TRY(gnutls_x509_crt_init(&crt), "certificate");
    TLS_TRY(gnutls_x509_crt_set_version(crt, 3), "version");
    if ((st = set_serial(crt, err)) != LFR_OK) goto out;
    TLS_TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)),
            "CA name");
    TLS_TRY(gnutls_x509_crt_set_activation_time(crt, now - 3600), "activation time");
    TLS_TRY(gnutls_x509_crt_set_expiration_time(crt, now + (time_t)LFR_TLS_CA_DAYS * 86400),
            "expiry");
    TLS_TRY(gnutls_x509_crt_set_key(crt, key), "CA key");
    TLS_TRY(gnutls_x509_crt_set_basic_constraints(crt, 1, 0), "basic constraints");
    TLS_TRY(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN),
            "key usage");
    {
        uint8_t id[64];
        size_t idlen = sizeof id;
        TLS_TRY(gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &idlen), "key id");
        TLS_TRY(gnutls_x509_crt_set_subject_key_id(crt, id, idlen), "subject key id");
    }
    TLS_TRY(gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0), "self-signing the CA");
    TLS_TRY(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem), "exporting the CA");
    if ((st = export_pem_key(key, f->ca_key, err)) != LFR_OK) goto out;
    st = write_file(f->ca_cert, pem.data, pem.size, 0644, err);
out:
    gnutls_free(pem.data);
    if (crt) gnutls_x509_crt_deinit(crt);
    if (key) gnutls_x509_privkey_deinit(key);
    return st;
}

static int is_ip(const char *s, uint8_t *bin, size_t *len) {
    if (inet_pton(AF_INET, s, bin) == 1) return *len = 4, 1;
    if (inet_pton(AF_INET6, s, bin) == 1) return *len = 16, 1;
    return 0;
}

/* Whether the certificate in f->cert names listen_addr and lives long
 * enough, and was signed by this CA. */
static int cert_good(const lfr_tls_files *f, const char *listen_addr, gnutls_x509_crt_t ca) {
    gnutls_datum_t d = {NULL, 0};
    gnutls_x509_crt_t crt = NULL;
    lfr_err e;
    int good = 0;
    if (access(f->cert, R_OK) != 0 || access(f->key, R_OK) != 0) return 0;
    if (read_pem(f->cert, &d, &e) != LFR_OK) return 0;
    if (gnutls_x509_crt_init(&crt) < 0) goto out;
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) < 0) goto out;
    if (gnutls_x509_crt_get_expiration_time(crt) < time(NULL) + LFR_TLS_RENEW_DAYS * 86400L)
        goto out;
    unsigned vr = 0;
    if (gnutls_x509_crt_verify(crt, &ca, 1, 0, &vr) < 0 || vr != 0) goto out;
    uint8_t bin[16];
    size_t blen = 0;
    if (is_ip(listen_addr, bin, &blen)) {
        gnutls_datum_t ip = {bin, (unsigned)blen};
        good = gnutls_x509_crt_check_ip(crt, ip.data, ip.size, 0) != 0;
    } else {
        good = gnutls_x509_crt_check_hostname2(crt, listen_addr, 0) != 0;
    }
out:
    if (crt) gnutls_x509_crt_deinit(crt);
    lfr_free(d.data);
    return good;
}

static lfr_status add_san(gnutls_x509_crt_t crt, const char *name, lfr_err *err) {
    uint8_t bin[16];
    size_t blen = 0;
    int rc;
    if (is_ip(name, bin, &blen))
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, bin, (unsigned)blen,
                                                  GNUTLS_FSAN_APPEND);
    else
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
                                                  (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
    if (rc < 0)
        return lfr_err_set(err, LFR_ERR_INVALID_ARG, "cannot name '%s' in the certificate: %s",
                           name, gnutls_strerror(rc));
    return LFR_OK;
}

static lfr_status issue_cert(const lfr_tls_files *f, const char *listen_addr,
                             gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key,
                             const gnutls_datum_t *ca_pem, lfr_err *err) {
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t pem = {NULL, 0};
    uint8_t *chain = NULL;
    lfr_status st = new_key(&key, err);
    if (st != LFR_OK) return st;
    time_t now = time(NULL);
    const char *cn = listen_addr[0] ? listen_addr : "localhost";
    TLS_TRY(gnutls_x509_crt_init(&crt), "certificate");
    TLS_TRY(gnutls_x509_crt_set_version(crt, 3), "version");
    if ((st = set_serial(crt, err)) != LFR_OK) goto out;
    TLS_TRY(gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn, strlen(cn)),
            "certificate name");
    TLS_TRY(gnutls_x509_crt_set_activation_time(crt, now - 3600), "activation time");
    TLS_TRY(gnutls_x509_crt_set_expiration_time(crt, now + (time_t)LFR_TLS_CERT_DAYS * 86400),
            "expiry");
    TLS_TRY(gnutls_x509_crt_set_key(crt, key), "certificate key");
    TLS_TRY(gnutls_x509_crt_set_basic_constraints(crt, 0, -1), "basic constraints");
    TLS_TRY(gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE), "key usage");
    TLS_TRY(gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0), "purpose");
    const char *names[] = {listen_addr, "localhost", "127.0.0.1", "::1"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!names[i][0]) continue;
        int dup = 0;
        for (size_t k = 0; k < i; k++) dup |= strcmp(names[k], names[i]) == 0;
        if (dup) continue;
        /* "0.0.0.0" / "::" (every address) is not a name a client uses */
        if (strcmp(names[i], "0.0.0.0") == 0 || strcmp(names[i], "::") == 0) continue;
        if ((st = add_san(crt, names[i], err)) != LFR_OK) goto out;
    }
    {
        uint8_t id[64];
        size_t idlen = sizeof id;
        TLS_TRY(gnutls_x509_crt_get_key_id(ca, GNUTLS_KEYID_USE_SHA1, id, &idlen), "CA key id");
        TLS_TRY(gnutls_x509_crt_set_authority_key_id(crt, id, idlen), "authority key id");
    }
    TLS_TRY(gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0), "signing");
    TLS_TRY(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem), "exporting");
    if ((st = export_pem_key(key, f->key, err)) != LFR_OK) goto out;
    chain = lfr_malloc((size_t)pem.size + ca_pem->size);
    if (!chain) {
        st = lfr_err_set(err, LFR_ERR_NOMEM, "no memory for the certificate chain");
        goto out;
    }
    memcpy(chain, pem.data, pem.size);
    memcpy(chain + pem.size, ca_pem->data, ca_pem->size);
    st = write_file(f->cert, chain, (size_t)pem.size + ca_pem->size, 0644, err);
out:
    lfr_free(chain);
    gnutls_free(pem.data);
    if (crt) gnutls_x509_crt_deinit(crt);
    if (key) gnutls_x509_privkey_deinit(key);
    return st;
}

static lfr_status join(char *out, const char *dir, const char *name, lfr_err *err) {
    if ((size_t)snprintf(out, LFR_MAX_CONFIG_VALUE, "%s/%s", dir, name) >= LFR_MAX_CONFIG_VALUE)
        return lfr_err_set(err, LFR_ERR_TOO_LARGE, "tls_dir is too long: %s", dir);
    return LFR_OK;
}

lfr_status lfr_tls_ensure(const char *dir, const char *listen_addr, lfr_tls_files *out,
                          lfr_err *err) {
    memset(out, 0, sizeof *out);
    lfr_status st;
    if ((st = join(out->ca_cert, dir, "ca.pem", err)) != LFR_OK ||
        (st = join(out->ca_key, dir, "ca.key", err)) != LFR_OK ||
        (st = join(out->cert, dir, "server.pem", err)) != LFR_OK ||
        (st = join(out->key, dir, "server.key", err)) != LFR_OK)
        return st;
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return lfr_err_set(err, LFR_ERR_IO, "cannot create tls_dir %s: %s", dir, strerror(errno));
    struct stat sb;
    int have_ca = stat(out->ca_cert, &sb) == 0;
    int have_ca_key = stat(out->ca_key, &sb) == 0;
    if (have_ca_key && (sb.st_mode & 077))
        return lfr_err_set(err, LFR_ERR_PERMISSION,
                           "%s is readable by others (mode %03o): chmod 600 it", out->ca_key,
                           (unsigned)(sb.st_mode & 0777));
    if (have_ca != have_ca_key)
        return lfr_err_set(err, LFR_ERR_STATE,
                           "%s without %s: the van's CA is incomplete; restore it from backup "
                           "(making a new one would break every paired device)",
                           have_ca ? out->ca_cert : out->ca_key, have_ca ? out->ca_key : out->ca_cert);
    if (!have_ca) {
        if ((st = make_ca(out, err)) != LFR_OK) return st;
        out->created_ca = 1;
    }
    gnutls_datum_t ca_pem = {NULL, 0}, key_pem = {NULL, 0};
    gnutls_x509_crt_t ca = NULL;
    gnutls_x509_privkey_t ca_key = NULL;
    if ((st = read_pem(out->ca_cert, &ca_pem, err)) != LFR_OK) return st;
    TLS_TRY(gnutls_x509_crt_init(&ca), "CA");
    TLS_TRY(gnutls_x509_crt_import(ca, &ca_pem, GNUTLS_X509_FMT_PEM), out->ca_cert);
    if ((st = fingerprint(ca, out->ca_fingerprint, sizeof out->ca_fingerprint, err)) != LFR_OK)
        goto out;
    if (!cert_good(out, listen_addr, ca)) {
        if ((st = read_pem(out->ca_key, &key_pem, err)) != LFR_OK) goto out;
        TLS_TRY(gnutls_x509_privkey_init(&ca_key), "CA key");
        TLS_TRY(gnutls_x509_privkey_import(ca_key, &key_pem, GNUTLS_X509_FMT_PEM), out->ca_key);
        if ((st = issue_cert(out, listen_addr, ca, ca_key, &ca_pem, err)) != LFR_OK) goto out;
        out->issued_cert = 1;
    }
    st = LFR_OK;
out:
    if (ca_key) gnutls_x509_privkey_deinit(ca_key);
    if (ca) gnutls_x509_crt_deinit(ca);
    if (key_pem.data) {
        memset(key_pem.data, 0, key_pem.size);
        lfr_free(key_pem.data);
    }
    lfr_free(ca_pem.data);
    return st;
}
