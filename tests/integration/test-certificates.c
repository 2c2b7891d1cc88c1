/* SPDX-License-Identifier: Apache-2.0
 *
 * The testbed's certificate is self-signed for "router.test" and we connect
 * to 127.0.0.1, so the system never trusts it: it is refused with its
 * details, and accepted when one of its hashes is pinned (in every form a
 * user or file may carry) or when -ignorecert is given. The expected hashes
 * come from Node's crypto, computed the way MeshCentral computes them. */
#include <glib/gstdio.h>
#include <string.h>

#include "login-helpers.h"

typedef struct
{
  char *cert_path;
  char *sha384;      /* from testbed.sh */
  char *key_sha384;  /* PKCS#1 for RSA, as certoperations.js getPublicKeyHashBinary */
  char *sha1_colons; /* Node's x.fingerprint: "07:9C:…" */
} Expected;

static Expected expected;

static void
load_expected (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;
  const char *argv[] = {
    "node", "-e",
    "const c=require('crypto'),fs=require('fs');"
    "const x=new c.X509Certificate(fs.readFileSync(process.argv[1]));"
    "const t=x.publicKey.asymmetricKeyType=='rsa'?'pkcs1':'spki';"
    "const k=x.publicKey.export({type:t,format:'der'});"
    "console.log(c.createHash('sha384').update(k).digest('hex').toUpperCase());"
    "console.log(x.fingerprint);",
    NULL, NULL
  };

  if (expected.cert_path != NULL)
    return;
  expected.cert_path = g_build_filename (tb->dir, "meshcentral-data", "webserver-cert-public.crt",
                                         NULL);
  argv[3] = expected.cert_path;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                               NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  lines = g_strsplit (g_strstrip (out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 2);
  expected.sha384 = g_strdup (tb->cert_hash);
  expected.key_sha384 = g_strdup (lines[0]);
  expected.sha1_colons = g_strdup (lines[1]);
}

static McrServer *
server_without_pin (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(GError) error = NULL;
  McrServer *server = mcr_server_new (tb->address, &error);

  g_assert_no_error (error);
  return server;
}

static void
check_info (const McrCertInfo *info)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *sha1 = NULL;
  g_auto(GStrv) parts = g_strsplit (expected.sha1_colons, ":", -1);

  sha1 = g_strjoinv ("", parts);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->subject, ==, "CN=router.test");
  g_assert_nonnull (strstr (info->issuer, "CN=MeshCentralRoot-"));
  g_assert_nonnull (info->not_before);
  g_assert_nonnull (info->not_after);
  g_assert_cmpint (g_date_time_compare (info->not_before, now), <, 0);
  g_assert_cmpint (g_date_time_compare (info->not_after, now), >, 0);
  g_assert_cmpstr (info->sha384, ==, expected.sha384);
  g_assert_cmpstr (info->key_sha384, ==, expected.key_sha384);
  g_assert_cmpstr (info->sha1, ==, sha1);
}

static void
test_untrusted_refused (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = server_without_pin ();
  g_autoptr(GError) error = NULL;

  load_expected ();
  g_assert_false (test_login_password (server, tb->user, tb->password, &error));
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT);
  g_test_message ("%s", error->message);
  /* The message names the certificate and its fingerprint ... */
  g_assert_nonnull (strstr (error->message, "router.test"));
  g_assert_nonnull (strstr (error->message, tb->cert_hash));
  /* ... and the details are there for the UI to show. */
  check_info (mcr_server_get_peer_cert_info (server));
  g_assert_cmpint (mcr_server_get_state (server), ==, MCR_SERVER_STATE_FAILED);
}

static void
test_pinned (gconstpointer data)
{
  const McrTestbed *tb = mcr_testbed_get ();
  const char *form = data;
  g_autoptr(McrServer) server = server_without_pin ();
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;

  load_expected ();
  if (g_str_equal (form, "cert-sha384"))
    hash = g_strdup (expected.sha384);
  else if (g_str_equal (form, "key-sha384"))
    hash = g_strdup (expected.key_sha384);
  else if (g_str_equal (form, "sha1"))
    hash = g_strdup (expected.sha1_colons);
  else if (g_str_equal (form, "lowercase"))
    hash = g_ascii_strdown (expected.sha384, -1);
  else if (g_str_equal (form, "key-lowercase"))
    hash = g_ascii_strdown (expected.key_sha384, -1);
  else
    g_assert_not_reached ();

  g_assert_true (mcr_tls_policy_add_pinned_hash (mcr_server_get_tls_policy (server), hash));
  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  check_info (mcr_server_get_peer_cert_info (server));
}

static void
test_wrong_pin (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = server_without_pin ();
  g_autoptr(GError) error = NULL;
  g_autofree char *other = g_strdup (tb->cert_hash);

  other[0] = other[0] == 'A' ? 'B' : 'A';
  g_assert_true (mcr_tls_policy_add_pinned_hash (mcr_server_get_tls_policy (server), other));
  g_assert_false (test_login_password (server, tb->user, tb->password, &error));
  g_assert_error (error, MCR_SERVER_ERROR, MCR_SERVER_ERROR_UNTRUSTED_CERT);
}

static void
test_ignore_cert (void)
{
  const McrTestbed *tb = mcr_testbed_get ();
  g_autoptr(McrServer) server = server_without_pin ();
  g_autoptr(GError) error = NULL;

  mcr_tls_policy_set_ignore_cert (mcr_server_get_tls_policy (server), TRUE);
  g_assert_true (test_login_password (server, tb->user, tb->password, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (mcr_server_get_peer_cert_info (server)->sha384, ==, tb->cert_hash);
}

/* The policy on its own, as the relay's WebSocket client uses it. */
static void
test_policy_alone (void)
{
  g_autoptr(McrTlsPolicy) policy = mcr_tls_policy_new ();
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(McrCertInfo) info = NULL;
  g_autoptr(McrCertInfo) copy = NULL;
  g_autoptr(GError) error = NULL;
  const GTlsCertificateFlags untrusted = G_TLS_CERTIFICATE_UNKNOWN_CA | G_TLS_CERTIFICATE_BAD_IDENTITY;
  static const char *const bad[] = {
    "", "xyz", "ABCD", "0123456789abcdef0123456789abcdef0123456", /* 39 */
    "G123456789abcdef0123456789abcdef01234567",
  };

  load_expected ();
  cert = g_tls_certificate_new_from_file (expected.cert_path, &error);
  g_assert_no_error (error);
  info = mcr_cert_info_new (cert, &error);
  g_assert_no_error (error);
  check_info (info);
  copy = mcr_cert_info_copy (info);
  check_info (copy);

  g_assert_true (mcr_cert_info_matches (info, expected.sha384));
  g_assert_true (mcr_cert_info_matches (info, expected.sha1_colons));
  g_assert_false (mcr_cert_info_matches (info, "00"));

  /* Trusted by the system: always accepted. */
  g_assert_true (mcr_tls_policy_accepts (policy, cert, 0));
  g_assert_false (mcr_tls_policy_accepts (policy, cert, untrusted));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (mcr_tls_policy_add_pinned_hash (policy, bad[i]));
  g_assert_false (mcr_tls_policy_accepts (policy, cert, untrusted));
  g_assert_true (mcr_tls_policy_add_pinned_hash (policy, expected.key_sha384));
  g_assert_true (mcr_tls_policy_accepts (policy, cert, untrusted));
  g_assert_true (mcr_tls_policy_is_pinned (policy, info));

  g_clear_object (&policy);
  policy = mcr_tls_policy_new ();
  mcr_tls_policy_set_ignore_cert (policy, TRUE);
  g_assert_true (mcr_tls_policy_get_ignore_cert (policy));
  g_assert_true (mcr_tls_policy_accepts (policy, cert, untrusted | G_TLS_CERTIFICATE_EXPIRED));
}


/* A non-RSA key hashes as its whole SubjectPublicKeyInfo (MeshCentral's
 * rule): an EC certificate made with openssl, checked against Node. */
static void
test_ec_key_hash (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(McrCertInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  int status = 0;

  if (openssl == NULL)
    {
      g_test_skip ("openssl is not installed");
      return;
    }
  dir = g_dir_make_tmp ("mcr-ec-XXXXXX", &error);
  g_assert_no_error (error);
  cert_path = g_build_filename (dir, "cert.pem", NULL);
  key_path = g_build_filename (dir, "key.pem", NULL);
  {
    const char *argv[] = {
      openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384",
      "-nodes", "-keyout", key_path, "-out", cert_path, "-days", "30", "-subj", "/CN=ec.test",
      NULL
    };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL,
                                 G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, NULL, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  {
    const char *argv[] = {
      "node", "-e",
      "const c=require('crypto'),fs=require('fs');"
      "const x=new c.X509Certificate(fs.readFileSync(process.argv[1]));"
      "const k=x.publicKey.export({type:'spki',format:'der'});"
      "console.log(c.createHash('sha384').update(k).digest('hex').toUpperCase());",
      cert_path, NULL
    };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                 &out, NULL, &status, &error));
    g_assert_no_error (error);
  }

  cert = g_tls_certificate_new_from_file (cert_path, &error);
  g_assert_no_error (error);
  info = mcr_cert_info_new (cert, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->subject, ==, "CN=ec.test");
  g_assert_cmpstr (info->key_sha384, ==, g_strstrip (out));

  g_unlink (cert_path);
  g_unlink (key_path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/certificates/untrusted-refused", test_untrusted_refused);
  g_test_add_data_func ("/certificates/pinned/cert-sha384", "cert-sha384", test_pinned);
  g_test_add_data_func ("/certificates/pinned/key-sha384", "key-sha384", test_pinned);
  g_test_add_data_func ("/certificates/pinned/sha1", "sha1", test_pinned);
  g_test_add_data_func ("/certificates/pinned/lowercase", "lowercase", test_pinned);
  g_test_add_data_func ("/certificates/pinned/key-lowercase", "key-lowercase", test_pinned);
  g_test_add_func ("/certificates/wrong-pin", test_wrong_pin);
  g_test_add_func ("/certificates/ignore-cert", test_ignore_cert);
  g_test_add_func ("/certificates/policy-alone", test_policy_alone);
  g_test_add_func ("/certificates/ec-key-hash", test_ec_key_hash);
  return g_test_run ();
}
